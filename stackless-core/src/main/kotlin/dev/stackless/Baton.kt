package dev.stackless

import java.lang.invoke.MethodHandle
import java.lang.invoke.MethodHandles
import java.lang.invoke.MethodType
import java.util.concurrent.locks.LockSupport

// The trampoline and the baton (docs/ARCHITECTURE.md, "A hard switch").
//
// pump() runs soft tasklets one after the other on the calling thread: every resumed continuation
// returns here when it suspends or ends, so a million chained switches use no stack. A tasklet
// whose frames live on a thread (a hard tasklet, the main tasklet, a soft tasklet pinned by a
// blocking call) is run by handing that thread the baton: Scheduler.baton names the one thread
// allowed to touch the scheduler, and a hand-over is an unpark. Carrier threads carry hard
// tasklets; loop threads keep pump() going while the baton holder is parked.

/**
 * Threads that carry hard-switched tasklets: virtual threads on JDK 21+, platform daemon threads
 * on JDK 17 (the build targets 17, so the virtual-thread factory is looked up reflectively).
 */
internal object Carriers {
    private val virtualBuilder: MethodHandle? = try {
        val builderType = Class.forName("java.lang.Thread\$Builder\$OfVirtual")
        MethodHandles.publicLookup().findStatic(Thread::class.java, "ofVirtual", MethodType.methodType(builderType))
    } catch (_: ReflectiveOperationException) {
        null
    }

    private val unstarted: MethodHandle? = virtualBuilder?.let {
        val builder = Class.forName("java.lang.Thread\$Builder")
        MethodHandles.publicLookup().findVirtual(
            builder, "unstarted", MethodType.methodType(Thread::class.java, Runnable::class.java),
        )
    }

    private val named: MethodHandle? = virtualBuilder?.let {
        val builder = Class.forName("java.lang.Thread\$Builder")
        MethodHandles.publicLookup().findVirtual(
            builder, "name", MethodType.methodType(builder, String::class.java),
        )
    }

    /** True when carriers are virtual threads. */
    val virtual: Boolean get() = virtualBuilder != null

    /** A new, unstarted carrier thread. */
    fun newThread(name: String, body: Runnable): Thread {
        if (virtualBuilder != null) {
            val builder = named!!.invoke(virtualBuilder.invoke(), name)
            return unstarted!!.invoke(builder, body) as Thread
        }
        return Thread(body, name).apply { isDaemon = true }
    }
}

/**
 * Runs the scheduler on the calling thread until [me] is current again. A soft tasklet is resumed
 * right here; a tasklet whose frames live on another thread (a hard tasklet, a main tasklet, a
 * pinned soft tasklet) gets the baton and this thread parks until the baton comes back.
 *
 * With [me] null the calling thread is a *loop thread*: it keeps the loop going until it must
 * hand the baton to another thread, then returns true if it joined the pool of idle loop threads
 * (it waits for the baton again) or false if it should end.
 *
 * The loop is a trampoline: every resumed continuation returns here when it suspends or ends,
 * so a million chained switches use no stack.
 */
internal fun Scheduler.pump(me: Tasklet?): Boolean {
    val self = Thread.currentThread()
    while (true) {
        if (inbox.hasMail()) drainBetweenTasklets()
        if (timers.size != 0 && --timerCountdown <= 0) timersBetweenTasklets()
        val t = current!!
        if (CHECK_INVARIANTS) checkInvariantsNowAndThen()
        if (t === me) return false
        val carrier = t.carrier
        if (carrier == null) {
            val hard = t.hardBody
            if (hard == null) {
                // A soft tasklet, resumed here rather than in a function of its own: the JIT
                // compiles the resumption (a megamorphic invokeSuspend) into the loop itself.
                val frame = t.frame
                if (frame == null) {
                    resumeForeign(t)
                } else {
                    t.frame = null
                    val v = t.takeTempval()
                    KotlinContinuations.resumeWithValue(frame, if (v is Bomb) KotlinContinuations.failure(v.error) else v)
                }
                // Neither at a switch point nor ended: it suspended in a kotlinx.coroutines function.
                if (t.frame == null && current === t && t.aliveFlag) suspendedForeign(t)
                continue
            }
            val bomb = t.tempval
            if (bomb is Bomb) {
                // Killed or thrown to before it started: it ends without ever getting a thread.
                t.tempval = null
                taskletEnded(t, bomb.error)
                continue
            }
            val pooled = leaveLoop(me)
            passBaton(startCarrier(t, hard))
            if (me == null) return pooled
            awaitBaton()
        } else {
            // Only a thread parked inside a tasklet carries it, and such a thread is not pumping.
            check(carrier !== self) { "$t is bound to the pumping thread '${self.name}'" }
            val pooled = leaveLoop(me)
            passBaton(carrier)
            if (me == null) return pooled
            awaitBaton()
        }
    }
}

/** Runs [t]'s next resumption from a kotlinx.coroutines suspension. */
internal fun Scheduler.resumeForeign(t: Tasklet) {
    t.foreignCancel = null
    t.foreignResumes!!.removeFirst().run()
}

/** A loop thread ([me] null) about to give up the baton joins the idle pool if there is room. */
internal fun Scheduler.leaveLoop(me: Tasklet?): Boolean {
    if (me != null || idleLoops.size >= MAX_IDLE_LOOPS) return false
    idleLoops.addLast(Thread.currentThread())
    return true
}

internal fun Scheduler.passBaton(to: Thread) {
    baton = to
    LockSupport.unpark(to)
}

/** Parks until this thread holds the baton. An interrupt does not end the wait; it is kept for the caller. */
internal fun Scheduler.awaitBaton() {
    val self = Thread.currentThread()
    var interrupted = false
    while (baton !== self) {
        LockSupport.park(this)
        if (Thread.interrupted()) interrupted = true
    }
    if (interrupted) self.interrupt()
}

/** Starts [t]'s carrier thread, parked until it gets the baton. Nothing changes if the thread cannot start. */
internal fun Scheduler.startCarrier(t: Tasklet, body: Runnable): Thread {
    watchThreadEnd()
    val thread = Carriers.newThread("tasklet ${t.name}") { runHard(t, body) }
    thread.start()
    t.hardBody = null
    t.carrier = thread
    return thread
}

internal fun Scheduler.runHard(t: Tasklet, body: Runnable) {
    Scheduler.local.set(this)
    awaitBaton()
    t.tempval = null
    var error: Throwable? = null
    try {
        body.run()
    } catch (e: Throwable) {
        error = e
    }
    taskletEnded(t, error)
    // The tasklet is gone; its thread carries on as a loop thread.
    if (pump(null)) runLoop()
}

/** An idle loop thread, or a new one, to run the loop while the baton holder waits. */
internal fun Scheduler.loopThread(): Thread = idleLoops.removeLastOrNull()
    ?: Carriers.newThread("stackless loop of '${thread.name}'") {
        Scheduler.local.set(this)
        runLoop()
    }.also { it.start() }

internal fun Scheduler.runLoop() {
    do {
        awaitBaton()
    } while (pump(null))
}

/**
 * Blocks the calling thread, as tasklet [me], until the scheduler switches back to [me].
 *
 * The main tasklet runs the loop on its own thread meanwhile, which is what makes a blocking call
 * from a plain thread cheap. A hard tasklet, or a soft tasklet that called a blocking twin from
 * non-suspend code, is hard-switched: the loop goes on in a loop thread and the calling thread
 * parks until [me] runs again, so no other tasklet's frames are ever stacked above its own.
 */
internal fun Scheduler.parkUntilResumed(me: Tasklet) {
    if (me.isMainFlag) {
        pump(me)
        return
    }
    val pinned = me.carrier == null
    if (pinned) me.carrier = Thread.currentThread()
    try {
        passBaton(loopThread())
        awaitBaton()
        if (current !== me) unbury(me)
    } finally {
        if (pinned) me.carrier = null
    }
}

/**
 * The tasklet that must run now (the main tasklet) has its Java frames on this thread *below*
 * [me], a soft tasklet that called a blocking twin while the main tasklet was running the loop:
 * it cannot run until [me]'s call returns. If [me]'s operation has completed, [me] simply runs
 * first; otherwise its operation is undone and fails, rather than hang or lose a value.
 */
internal fun Scheduler.unbury(me: Tasklet) {
    val t = current!!
    // Still waiting: it leaves the channel. Otherwise its operation may have been completed by
    // another thread, whose wake-up mail makes it runnable with its result.
    if (!withdraw(me)) drain()
    if (me.blocked == 0 && me.inRunQueue) {
        unlink(me)
        append(me)
        current = me
        return
    }
    if (me.inWatchdogStack) popWatchdogs(me)
    if (!me.inRunQueue) append(me)
    current = me
    me.tempval = null
    throw TaskletStateException(
        "${t.name} cannot resume while ${me.name} blocks above it on thread '${Thread.currentThread().name}': " +
            "a blocking operation called from a soft tasklet pins its thread; use the suspend form",
        me,
    )
}

/** Loop threads kept parked for the next hand-over, per scheduler. */
private const val MAX_IDLE_LOOPS = 2
