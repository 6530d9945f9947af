package dev.stackless

import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.locks.LockSupport
import kotlin.coroutines.Continuation

/**
 * One thread's scheduler: its main tasklet, the runnables queue, the watchdog stack and the baton.
 *
 * The runnables queue is an intrusive circular doubly-linked list threaded through
 * [Tasklet.nextLink]/[Tasklet.prevLink], with [current] as its head (spec §1.2): *append* links a
 * tasklet just before [current], that is at the end of the round; *switch* only moves [current], so
 * the tasklets between the old and the new current are skipped to the end ("rotation").
 *
 * Every operation below is called by the thread that holds the baton and returns whether the caller
 * switched away. Soft tasklets then suspend back into [pump]; a blocking caller pumps itself.
 * Nothing here allocates or locks on the way of a switch.
 */
internal class Scheduler private constructor(@JvmField val thread: Thread) {
    @JvmField val main: Tasklet = Tasklet.newMain(this, thread)

    /** The running tasklet; null only transiently while the queue is empty inside an operation. */
    @JvmField var current: Tasklet? = null

    @JvmField var runCount: Int = 0
    @JvmField var switchTrap: Int = 0

    /** Tasklets inside [Stackless.run], innermost last (spec §1.4, §4.4). */
    @JvmField val watchdogs: ArrayList<Tasklet> = ArrayList()

    @JvmField var inChannelCallback: Boolean = false

    /** Loop threads parked until they get the baton; only the baton holder touches this. */
    private val idleLoops = ArrayDeque<Thread>()

    /** The thread allowed to run this scheduler's tasklets now; handed over with park/unpark. */
    @Volatile @JvmField var baton: Thread = thread

    /** Every alive tasklet (and the blocked ones), for [Stackless.dump] and the deadlock report. */
    @JvmField var firstAlive: Tasklet? = null
    @JvmField var lastAlive: Tasklet? = null

    init {
        append(main)
        register(main)
    }

    // ---------------------------------------------------------------------------------------------
    // The runnables queue (spec §1.2)

    fun append(t: Tasklet) {
        val c = current
        if (c == null) {
            t.nextLink = t
            t.prevLink = t
            current = t
        } else {
            val p = c.prevLink!!
            t.prevLink = p
            t.nextLink = c
            p.nextLink = t
            c.prevLink = t
        }
        t.inRunQueue = true
        runCount++
    }

    /** Links [t] right after [anchor], so that it runs next. */
    fun insertAfter(anchor: Tasklet, t: Tasklet) {
        val n = anchor.nextLink!!
        t.prevLink = anchor
        t.nextLink = n
        anchor.nextLink = t
        n.prevLink = t
        t.inRunQueue = true
        runCount++
    }

    fun unlink(t: Tasklet) {
        val n = t.nextLink!!
        if (n === t) {
            current = null
        } else {
            val p = t.prevLink!!
            p.nextLink = n
            n.prevLink = p
            if (current === t) current = n
        }
        t.nextLink = null
        t.prevLink = null
        t.inRunQueue = false
        runCount--
    }

    /**
     * Moves control to [next]; the schedule callback sees [prev] as the current tasklet. Under a
     * timed `run()`, a due soft interrupt sends control to the watchdog instead.
     */
    fun switchTo(prev: Tasklet, next: Tasklet) {
        moveTo(prev, if (timer == null) next else timedSwitch(next, softInterruptible = true))
    }

    /** [switchTo] for the rendezvous switch to a preferred partner, which a soft interrupt never takes. */
    fun switchToPartner(prev: Tasklet, next: Tasklet) {
        moveTo(prev, if (timer == null) next else timedSwitch(next, softInterruptible = false))
    }

    private fun moveTo(prev: Tasklet, target: Tasklet) {
        val cb = scheduleCallback
        if (cb != null) notifySchedule(cb, prev, target)
        current = target
    }

    private fun timedSwitch(next: Tasklet, softInterruptible: Boolean): Tasklet {
        val w = timer!!
        val owner = w.owner
        if (next === owner || switchTrap != 0) {
            w.newSlice()
            return next
        }
        if (w.total && !w.soft && !next.atomicFlag && w.spent()) {
            // A budget for the whole run can run out on tasklets that only ever switch: the one about
            // to run is interrupted before it goes on.
            return interrupt(next)
        }
        if (w.total && w.soft && w.spent()) w.softPending = true
        w.newSlice()
        if (!softInterruptible || !w.softPending) return next
        // Soft interrupt: the watchdog goes just before the tasklet that was about to run; run() returns null.
        w.softPending = false
        owner.tempval = null
        if (!owner.inRunQueue) insertAfter(next.prevLink!!, owner)
        return owner
    }

    // ---------------------------------------------------------------------------------------------
    // The watchdog's budget (spec §4.4)

    /** The budget of the outermost timed `run()`, or null: the only thing the hot path checks. */
    @JvmField var timer: Watchdog? = null

    /**
     * Counts the tick of a switch point of [me], which [switched] away or not, and interrupts [me]
     * if the budget is spent and nothing defers it. Returns whether [me] is switched away now.
     */
    fun afterSwitchPoint(me: Tasklet, switched: Boolean, yieldPoint: Boolean = false): Boolean {
        val w = timer ?: return switched
        if (me === w.owner) return switched
        if (switched) {
            // The switch started a new timeslice; only a budget for the whole run counts it.
            if (w.total) w.tick()
            return true
        }
        w.tick()
        // Deferred while atomic or trapped: the budget stays spent, so the next switch point fires.
        if (!w.spent() || me.atomicFlag || switchTrap != 0) return false
        val owner = w.owner
        if (w.soft) {
            if (!yieldPoint) {
                w.softPending = true
                return false
            }
            // A yield point is a switch: run() returns null and [me] stays runnable, right after it.
            w.softPending = false
            owner.tempval = null
            if (!owner.inRunQueue) append(owner)
            moveTo(me, owner)
        } else {
            moveTo(me, interrupt(me))
        }
        return true
    }

    /**
     * A hard interrupt: [victim] leaves the runnables queue (paused), keeping its operation's result
     * in its tempval, and the interrupt watchdog, which becomes runnable, will return it from `run()`.
     */
    private fun interrupt(victim: Tasklet): Tasklet {
        val owner = timer!!.owner
        unlink(victim)
        owner.tempval = victim
        if (!owner.inRunQueue) append(owner)
        return owner
    }

    private fun notifySchedule(cb: ScheduleCallback, prev: Tasklet, next: Tasklet) {
        current = prev
        notifySafely(cb, prev, next)
    }

    fun checkTrap() {
        if (switchTrap != 0) throw SwitchTrapException()
    }

    fun watchdog(): Tasklet = if (watchdogs.isEmpty()) main else watchdogs[watchdogs.size - 1]

    // ---------------------------------------------------------------------------------------------
    // Registry of alive tasklets

    fun register(t: Tasklet) {
        val last = lastAlive
        t.allPrev = last
        t.allNext = null
        if (last == null) firstAlive = t else last.allNext = t
        lastAlive = t
    }

    fun unregister(t: Tasklet) {
        val n = t.allNext
        val p = t.allPrev
        if (p == null) {
            if (firstAlive === t) firstAlive = n
        } else {
            p.allNext = n
        }
        if (n == null) {
            if (lastAlive === t) lastAlive = p
        } else {
            n.allPrev = p
        }
        t.allNext = null
        t.allPrev = null
    }

    inline fun forEachTasklet(action: (Tasklet) -> Unit) {
        var t = firstAlive
        while (t != null) {
            val next = t.allNext
            action(t)
            t = next
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Operations of the current tasklet [me]; each returns true when [me] switched away.

    /** `schedule(retval)` (spec §4.2). */
    fun schedule(me: Tasklet, retval: Any?): Boolean {
        val next = me.nextLink!!
        if (next !== me) checkTrap()
        me.tempval = retval
        if (next === me) return timer?.softPending == true && afterSwitchPoint(me, false, yieldPoint = true)
        switchTo(me, next)
        return true
    }

    /** `schedule_remove(retval)` (spec §4.3). */
    fun scheduleRemove(me: Tasklet, retval: Any?): Boolean {
        val next = me.nextLink!!
        if (next !== me) checkTrap()
        val old = me.tempval
        me.tempval = retval
        unlink(me)
        if (next !== me) {
            switchTo(me, next)
            return true
        }
        return blockOut(me, old)
    }

    /** `t.run()` and, with [removeCaller], `t.switch()` (spec §2.7, §2.8). */
    fun run(me: Tasklet, t: Tasklet, removeCaller: Boolean): Boolean {
        checkRunnable(t)
        if (t === me) return false
        checkTrap()
        if (!t.inRunQueue) append(t)
        if (removeCaller) unlink(me)
        switchTo(me, t)
        return true
    }

    fun checkRunnable(t: Tasklet) {
        if (t.blocked != 0) throw TaskletStateException("You cannot run a blocked tasklet", t)
        if (!t.aliveFlag && t !== current) {
            throw TaskletStateException("You cannot run an unbound(dead) tasklet", t)
        }
    }

    /** `t.throw(e, pending)`, `t.kill(pending)`, `t.raise_exception(e)` (spec §2.9–2.11). */
    fun throwTo(me: Tasklet, t: Tasklet, e: Throwable, pending: Boolean): Boolean {
        if (t === me) throw e
        if (!t.aliveFlag) {
            if (e !is TaskletExit) throw TaskletStateException("You cannot throw to a dead tasklet", t)
            t.channel?.removeWaiter(t)
            if (t.inRunQueue) unlink(t)
            return false
        }
        if (!pending) checkTrap()
        t.channel?.removeWaiter(t)
        t.tempval = Bomb(e)
        if (!t.inRunQueue) append(t)
        if (pending) return false
        switchTo(me, t)
        return true
    }

    /**
     * `stackless.run()` (spec §4.4): [me] becomes the innermost watchdog. With a budget
     * ([ticks] or [nanos] > 0) and no timed run around it, it also becomes the interrupt watchdog;
     * otherwise the budget and the flags are ignored ("the first timed run wins").
     */
    fun runWatchdog(me: Tasklet, ticks: Long, nanos: Long, soft: Boolean, total: Boolean): Boolean {
        val next = me.nextLink!!
        if (next === me) return false
        checkTrap()
        watchdogs.add(me)
        me.inWatchdogStack = true
        if (timer == null && (ticks > 0 || nanos > 0)) timer = Watchdog(me, ticks, nanos, soft, total)
        unlink(me)
        switchTo(me, next)
        return true
    }

    /**
     * [c] resumes inside `run()`: pop it and every watchdog pushed after it; inner callers that are
     * paused become runnable, so that their own `run()` returns when their turn comes (§4.4 step 4).
     */
    fun popWatchdogs(c: Tasklet) {
        val i = watchdogs.lastIndexOf(c)
        for (j in watchdogs.size - 1 downTo i + 1) {
            val w = watchdogs.removeAt(j)
            w.inWatchdogStack = false
            if (timer?.owner === w) timer = null
            if (w.aliveFlag && !w.inRunQueue && w.blocked == 0) append(w)
        }
        if (i >= 0) watchdogs.removeAt(i)
        c.inWatchdogStack = false
        if (timer?.owner === c) timer = null
    }

    /**
     * [b] has just left the run queue (blocked or paused) and nothing is runnable (spec §4.8):
     * revive a paused watchdog, or fail with a deadlock in [b] itself, which is restored to the queue
     * with its tempval [oldTempval].
     */
    fun blockOut(b: Tasklet, oldTempval: Any?): Boolean {
        val w = watchdog()
        if (w.aliveFlag && !w.inRunQueue && w.blocked == 0) {
            if (w === b) {
                append(b)
                return false
            }
            if (switchTrap != 0) {
                restore(b, oldTempval)
                throw SwitchTrapException()
            }
            append(w)
            switchTo(b, w)
            return true
        }
        val report = Deadlocks.report(this)
        restore(b, oldTempval)
        throw DeadlockException("Deadlock: the last runnable tasklet cannot be blocked.$report")
    }

    private fun restore(b: Tasklet, oldTempval: Any?) {
        b.channel?.removeWaiter(b)
        if (!b.inRunQueue) append(b)
        current = b
        b.tempval = oldTempval
    }

    // ---------------------------------------------------------------------------------------------
    // The end of a tasklet (spec §4.9)

    fun taskletEnded(t: Tasklet, cause: Throwable?) {
        var error = cause
        if (error != null && error !is TaskletExit) {
            val handler = errorHandler
            if (handler != null) {
                error = try {
                    handler.onError(t, error)
                    null
                } catch (e: Throwable) {
                    e
                }
            }
        }
        t.die()
        val w = watchdog()
        if (error != null && error !is TaskletExit) {
            // The watchdog hears of it before any other runnable tasklet.
            w.channel?.removeWaiter(w)
            w.tempval = Bomb(error)
            if (!w.inRunQueue) append(w)
            unlink(t)
            switchTo(t, w)
            return
        }
        val next = t.nextLink!!
        unlink(t)
        if (next !== t) {
            switchTo(t, next)
            return
        }
        val dir = w.blocked
        if (dir != 0) {
            val what = if (dir < 0) "receiving without a sender" else "sending without a receiver"
            val report = Deadlocks.report(this)
            w.channel!!.removeWaiter(w)
            w.tempval = Bomb(DeadlockException("the main tasklet is $what available.$report"))
        }
        append(w)
        switchTo(t, w)
    }

    // ---------------------------------------------------------------------------------------------
    // The loop and the baton

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
    fun pump(me: Tasklet?): Boolean {
        val self = Thread.currentThread()
        while (true) {
            val t = current!!
            if (t === me) return false
            val carrier = t.carrier
            if (carrier == null) {
                val hard = t.hardBody
                if (hard == null) {
                    resumeSoft(t)
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

    private fun resumeSoft(t: Tasklet) {
        val frame = t.frame!!
        t.frame = null
        if (t.inWatchdogStack) popWatchdogs(t)
        val v = t.tempval
        t.tempval = null
        if (v is Bomb) frame.resumeWith(Result.failure(v.error)) else frame.resumeWith(Result.success(v))
    }

    /** A loop thread ([me] null) about to give up the baton joins the idle pool if there is room. */
    private fun leaveLoop(me: Tasklet?): Boolean {
        if (me != null || idleLoops.size >= MAX_IDLE_LOOPS) return false
        idleLoops.addLast(Thread.currentThread())
        return true
    }

    private fun passBaton(to: Thread) {
        baton = to
        LockSupport.unpark(to)
    }

    /** Parks until this thread holds the baton. An interrupt does not end the wait; it is kept for the caller. */
    fun awaitBaton() {
        val self = Thread.currentThread()
        var interrupted = false
        while (baton !== self) {
            LockSupport.park(this)
            if (Thread.interrupted()) interrupted = true
        }
        if (interrupted) self.interrupt()
    }

    /** Starts [t]'s carrier thread, parked until it gets the baton. Nothing changes if the thread cannot start. */
    private fun startCarrier(t: Tasklet, body: Runnable): Thread {
        val thread = Carriers.newThread("tasklet ${t.name}") { runHard(t, body) }
        thread.start()
        t.hardBody = null
        t.carrier = thread
        return thread
    }

    private fun runHard(t: Tasklet, body: Runnable) {
        local.set(this)
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
    private fun loopThread(): Thread = idleLoops.removeLastOrNull()
        ?: Carriers.newThread("stackless loop of '${thread.name}'") {
            local.set(this)
            runLoop()
        }.also { it.start() }

    private fun runLoop() {
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
    fun block(me: Tasklet) {
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
    private fun unbury(me: Tasklet) {
        val t = current!!
        if (me.blocked == 0 && me.inRunQueue) {
            unlink(me)
            append(me)
            current = me
            return
        }
        if (me.inWatchdogStack) popWatchdogs(me)
        me.channel?.removeWaiter(me)
        if (!me.inRunQueue) append(me)
        current = me
        me.tempval = null
        throw TaskletStateException(
            "${t.name} cannot resume while ${me.name} blocks above it on thread '${Thread.currentThread().name}': " +
                "a blocking operation called from a soft tasklet pins its thread; use the suspend form",
            me,
        )
    }

    fun checkOwner() {
        if (Thread.currentThread() !== thread && local.get() !== this) {
            throw IllegalStateException(
                "thread '${Thread.currentThread().name}' cannot operate on the tasklets of thread " +
                    "'${thread.name}': cross-thread operations are not supported in this version",
            )
        }
    }

    override fun toString(): String = "Scheduler(thread '${thread.name}', runCount=$runCount)"

    companion object {
        private val local = ThreadLocal<Scheduler>()
        private const val MAX_IDLE_LOOPS = 2
        private val byThreadId = ConcurrentHashMap<Long, Scheduler>()

        @Volatile @JvmField var scheduleCallback: ScheduleCallback? = null
        @Volatile @JvmField var channelCallback: ChannelCallback? = null
        @Volatile @JvmField var errorHandler: ErrorHandler? = null

        /** The scheduler of the calling thread (a carrier thread answers for its owner); created on first use. */
        fun forCurrentThread(): Scheduler = local.get() ?: create()

        private fun create(): Scheduler {
            val thread = Thread.currentThread()
            val s = Scheduler(thread)
            local.set(s)
            byThreadId.values.removeIf { !it.thread.isAlive }
            byThreadId[thread.id] = s
            scheduleCallback?.let { notifySafely(it, null, s.main) }
            return s
        }

        /** Stackless prints and ignores an exception of the schedule callback; the switch proceeds. */
        private fun notifySafely(cb: ScheduleCallback, prev: Tasklet?, next: Tasklet) {
            try {
                cb.onSchedule(prev, next)
            } catch (e: Throwable) {
                System.err.println("Exception ignored in: 'Error in scheduling callback'")
                e.printStackTrace()
            }
        }

        fun forThreadId(id: Long): Scheduler? = byThreadId[id]

        fun threadIds(): List<Long> = byThreadId.values.filter { it.thread.isAlive }.map { it.thread.id }.sorted()

        /** Runs [op] for the current tasklet of the calling thread; blocks until it is resumed if it switched. */
        inline fun blocking(op: (Scheduler, Tasklet) -> Boolean): Any? {
            val s = forCurrentThread()
            val me = s.current!!
            if (s.afterSwitchPoint(me, op(s, me))) s.block(me)
            return me.claim()
        }
    }
}

/**
 * Ends a switch point of [cont]'s tasklet: suspends it if the operation switched away (or the
 * watchdog interrupts it now), else returns the claimed tempval.
 */
@Suppress("UNCHECKED_CAST", "NOTHING_TO_INLINE")
internal inline fun Tasklet.suspendIf(switched: Boolean, cont: Continuation<*>): Any? {
    if (!scheduler!!.afterSwitchPoint(this, switched)) return claim()
    frame = cont as Continuation<Any?>
    return kotlin.coroutines.intrinsics.COROUTINE_SUSPENDED
}
