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
    /** The main tasklet; replaced by a temporary one when the thread has ended and hard tasklets are killed. */
    @JvmField var main: Tasklet = Tasklet.newMain(this, thread)

    /** The running tasklet; null only transiently while the queue is empty inside an operation. */
    @JvmField var current: Tasklet? = null

    @JvmField var runCount: Int = 0
    @JvmField var switchTrap: Int = 0

    /** Tasklets inside [Stackless.run], innermost last (spec §1.4, §4.4). */
    @JvmField val watchdogs: ArrayList<Tasklet> = ArrayList()

    /**
     * Non-zero when an operation must look closer before it starts: a callback is running ([TIMER],
     * [SCHEDULE_CALLBACK] or [CALLBACK] added), or tasklets of this scheduler have an exception
     * waiting for their next switch point (one each). One field, so that the hot path checks once.
     */
    @JvmField var attention: Int = 0

    /** True while a timer, schedule or channel callback runs: nothing may switch, a throw can only be pending. */
    val inCallback: Boolean get() = attention >= CALLBACK

    /**
     * Throws what [attention] stands for, for [me] about to start an operation ([channelOp]: a
     * channel operation). A callback runs in the middle of a switch or between tasklets, where no
     * tasklet can be suspended: every switching operation is refused there, with a clear error.
     */
    fun attend(me: Tasklet, channelOp: Boolean) {
        if (attention >= CALLBACK) {
            val what = when {
                attention >= TIMER -> "A timer callback"
                attention >= SCHEDULE_CALLBACK -> "A schedule callback"
                channelOp -> throw IllegalStateException("Recursive channel call due to callbacks!")
                else -> "A channel callback"
            }
            throw IllegalStateException("$what cannot switch tasklets or use a channel (current: ${me.name})")
        }
        val e = me.pendingError ?: return
        me.pendingError = null
        if (attention > 0) attention--
        throw e
    }

    /** [t] gets [e] at its next switch point. */
    private fun deferError(t: Tasklet, e: Throwable) {
        // A kill is never replaced by a lesser exception (a timeout's interrupt would swallow it).
        if (t.pendingError is TaskletExit && e !is TaskletExit) return
        if (t.pendingError == null) attention++
        t.pendingError = e
    }

    /** The timers of this thread (stacklesslib's event queue, kotlinx `delay`). */
    @JvmField val timers: TimerHeap = TimerHeap()

    /**
     * Tasklets of this thread waiting for something another thread will post here (a kotlinx
     * resumption, a thread-pool result). While non-zero, an idle thread is waiting, not deadlocked.
     */
    @JvmField var foreignWaits: Int = 0

    /** Switches left before the trampoline next looks at the clock for due timers. */
    private var timerCountdown = TIMER_CHECK_INTERVAL

    /** Loop threads parked until they get the baton; only the baton holder touches this. */
    private val idleLoops = ArrayDeque<Thread>()

    /** The thread allowed to run this scheduler's tasklets now; handed over with park/unpark. */
    @Volatile @JvmField var baton: Thread = thread

    /** Every alive tasklet (and the blocked ones), for [Stackless.dump] and the deadlock report. */
    @JvmField var firstAlive: Tasklet? = null
    @JvmField var lastAlive: Tasklet? = null
    @JvmField var aliveCount: Int = 0

    /** Requests of other threads, applied by this scheduler's thread at its next switch or while idle. */
    @JvmField val inbox: Inbox = Inbox()

    /** Parked in [idleWait] or [awaitShared]: a post must unpark the baton holder. */
    @Volatile @JvmField var parked: Boolean = false

    /** Idle: nothing runnable, parked until another thread posts (changed under [Threads]). */
    @JvmField var idle: Boolean = false

    /** Set by the thread that found that no thread can make progress: this idle scheduler deadlocked too. */
    @Volatile @JvmField var deadlocked: String? = null

    /** The thread has ended and its tasklets were detached (spec §5.4). */
    @Volatile @JvmField var detached: Boolean = false

    /** The watchdog whose `run()` waits for other threads instead of returning when the queue empties (threadblock). */
    @JvmField var threadblockOwner: Tasklet? = null

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
        attention += SCHEDULE_CALLBACK
        try {
            notifySafely(cb, prev, next)
        } finally {
            attention -= SCHEDULE_CALLBACK
        }
    }

    fun checkTrap() {
        if (switchTrap != 0) throw SwitchTrapException()
    }

    fun watchdog(): Tasklet = if (watchdogs.isEmpty()) main else watchdogs[watchdogs.size - 1]

    // ---------------------------------------------------------------------------------------------
    // Registry of alive tasklets

    fun register(t: Tasklet) {
        t.registry = this
        val last = lastAlive
        t.allPrev = last
        t.allNext = null
        if (last == null) firstAlive = t else last.allNext = t
        lastAlive = t
        aliveCount++
    }

    /** Drops [t] from the registry; a no-op unless this scheduler's registry holds it. */
    fun unregister(t: Tasklet) {
        if (t.registry !== this) return
        t.registry = null
        val n = t.allNext
        val p = t.allPrev
        if (p == null) {
            firstAlive = n
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
        aliveCount--
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
        if (attention != 0) attend(me, false)
        var next = me.nextLink!!
        if (next === me && (inbox.hasMail() || timers.size != 0)) {
            // Alone here: tasklets that other threads or timers made runnable take their turn first.
            if (inbox.hasMail()) drain()
            runDueTimers()
            next = me.nextLink!!
        }
        if (next !== me) checkTrap()
        me.tempval = retval
        if (next === me) return timer?.softPending == true && afterSwitchPoint(me, false, yieldPoint = true)
        switchTo(me, next)
        return true
    }

    /** `schedule_remove(retval)` (spec §4.3). */
    fun scheduleRemove(me: Tasklet, retval: Any?): Boolean {
        if (attention != 0) attend(me, false)
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
        if (attention != 0) attend(me, false)
        if (t.scheduler !== this) {
            runRemote(t, removeCaller)
            return false
        }
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
        if (t.foreignWaiting) throw TaskletStateException("You cannot run a tasklet waiting in a kotlinx.coroutines suspension", t)
        if (!t.aliveFlag && t !== current) {
            throw TaskletStateException("You cannot run an unbound(dead) tasklet", t)
        }
    }

    /** `t.throw(e, pending)`, `t.kill(pending)`, `t.raise_exception(e)` (spec §2.9–2.11). */
    fun throwTo(me: Tasklet, t: Tasklet, e: Throwable, pending: Boolean): Boolean {
        if (attention != 0) attend(me, false)
        if (t === me) throw e
        if (t.scheduler !== this) {
            throwRemote(t, e)
            return false
        }
        if (!t.aliveFlag) {
            if (e !is TaskletExit) throw TaskletStateException("You cannot throw to a dead tasklet", t)
            dropDead(t)
            return false
        }
        if (!pending) checkTrap()
        deliverThrow(t, e)
        // A tasklet inside a kotlinx suspension other than delay gets the exception when it comes back.
        if (pending || !t.inRunQueue) return false
        switchTo(me, t)
        return true
    }

    private fun dropDead(t: Tasklet) {
        withdraw(t)
        if (t.inRunQueue) unlink(t)
    }

    /**
     * Makes [t] (alive, of this scheduler) runnable with [e] to throw. If its last channel operation
     * has completed but it has not run since, the operation's result is kept and [e] waits for its
     * next switch point, so that no value is lost; the same for the running tasklet.
     */
    private fun deliverThrow(t: Tasklet, e: Throwable) {
        // Matched by another thread just now: its wake-up mail is already in the inbox.
        if (!withdraw(t)) drain()
        if (t.foreignWaiting) {
            throwForeign(t, e)
            return
        }
        if (t.opDone || (t === current && !betweenTasklets)) {
            deferError(t, e)
        } else if (!((t.tempval as? Bomb)?.error is TaskletExit && e !is TaskletExit)) {
            t.tempval = Bomb(e)
        }
        if (!t.inRunQueue) append(t)
    }

    /** Takes [t] out of the channel it waits on; false if it waits on none (or was matched meanwhile). */
    private fun withdraw(t: Tasklet): Boolean {
        val ch = t.channel ?: return false
        return ch.withdraw(this, t)
    }

    /**
     * `stackless.run()` (spec §4.4): [me] becomes the innermost watchdog. With a budget
     * ([ticks] or [nanos] > 0) and no timed run around it, it also becomes the interrupt watchdog;
     * otherwise the budget and the flags are ignored ("the first timed run wins").
     */
    fun runWatchdog(me: Tasklet, ticks: Long, nanos: Long, soft: Boolean, total: Boolean, threadblock: Boolean): Boolean {
        if (attention != 0) attend(me, false)
        if (inbox.hasMail()) drain()
        val budget = ticks > 0 || nanos > 0
        // threadblock belongs to the interrupt watchdog: ignored without a budget, except for runAll().
        val waits = threadblock && (budget || ticks < 0) && (threadblockOwner ?: me) === me
        val next = me.nextLink!!
        if (next === me && !(waits && aliveCount > 1)) return false
        if (next !== me) checkTrap()
        watchdogs.add(me)
        me.inWatchdogStack = true
        if (timer == null && budget) timer = Watchdog(me, ticks, nanos, soft, total)
        if (waits) threadblockOwner = me
        unlink(me)
        if (next !== me) {
            switchTo(me, next)
            return true
        }
        if (awaitWork { false }) {
            switchTo(me, current!!)
            return true
        }
        // No thread can make progress: run() returns (spec §4.8 step 4).
        append(me)
        return false
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
            if (threadblockOwner === w) threadblockOwner = null
            if (w.aliveFlag && !w.inRunQueue && w.blocked == 0) append(w)
        }
        if (i >= 0) watchdogs.removeAt(i)
        c.inWatchdogStack = false
        if (timer?.owner === c) timer = null
        if (threadblockOwner === c) threadblockOwner = null
    }

    /**
     * [b] has just left the run queue (blocked or paused) and nothing is runnable (spec §4.8):
     * revive a paused watchdog, or fail with a deadlock in [b] itself, which is restored to the queue
     * with its tempval [oldTempval].
     */
    fun blockOut(b: Tasklet, oldTempval: Any?): Boolean {
        if (awaitWork { revivable(watchdog()) && !waitsForThreads() }) {
            // Another thread made something runnable here (perhaps [b] itself, its operation done).
            val c = current!!
            if (c === b) return false
            switchTo(b, c)
            return true
        }
        val w = watchdog()
        val report = deadlockReport ?: return revive(b, w, oldTempval)
        // No thread can make progress (spec §4.8 step 4).
        if (revivable(w)) return revive(b, w, oldTempval)
        restore(b, oldTempval)
        throw DeadlockException("Deadlock: the last runnable tasklet cannot be blocked.$report")
    }

    private fun revivable(w: Tasklet): Boolean = w.aliveFlag && !w.inRunQueue && w.blocked == 0

    /** A `run()` with threadblock waits for other threads while some other tasklet of this thread is alive. */
    private fun waitsForThreads(): Boolean = threadblockOwner != null && aliveCount > 1

    private fun revive(b: Tasklet, w: Tasklet, oldTempval: Any?): Boolean {
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

    private fun restore(b: Tasklet, oldTempval: Any?) {
        withdraw(b)
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
            // The watchdog hears of it before any other runnable tasklet (spec §4.9). Matched by
            // another thread just now, it still has its wake-up in the inbox, applied before it
            // runs: then the value comes first and the exception at its next switch point.
            withdraw(w)
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
        if (awaitWork { w.blocked == 0 && !waitsForThreads() }) {
            switchTo(t, current!!)
            return
        }
        val dir = w.blocked
        if (dir != 0) {
            // Blocked, so awaitWork did not stop early: no thread can make progress.
            val what = if (dir < 0) "receiving without a sender" else "sending without a receiver"
            withdraw(w)
            w.tempval = Bomb(DeadlockException("the main tasklet is $what available.${deadlockReport!!}"))
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
            if (inbox.hasMail()) drainBetweenTasklets()
            if (timers.size != 0 && --timerCountdown <= 0) timersBetweenTasklets()
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
        val frame = t.frame
        if (frame == null) {
            // Its resumption from a kotlinx.coroutines suspension.
            t.foreignCancel = null
            t.foreignResumes!!.removeFirst().run()
        } else {
            t.frame = null
            if (t.inWatchdogStack) popWatchdogs(t)
            t.opDone = false
            val v = t.tempval
            t.tempval = null
            if (v is Bomb) frame.resumeWith(Result.failure(v.error)) else frame.resumeWith(Result.success(v))
        }
        // Neither at a switch point nor ended: it suspended in a kotlinx.coroutines function.
        if (t.frame == null && current === t && t.aliveFlag) suspendedForeign(t)
    }

    /**
     * [t], the current tasklet, returned from a kotlinx.coroutines suspension: it leaves the run
     * queue until its resumption is dispatched (at once to the end of the round if it already was,
     * as by `yield()`), and the next tasklet runs, or, with nothing runnable, the watchdog wakes or
     * the thread waits for the resumption.
     */
    private fun suspendedForeign(t: Tasklet) {
        val next = t.nextLink!!
        if (t.foreignResumes?.isEmpty() == false) {
            if (next !== t) {
                unlink(t)
                append(t)
                switchTo(t, next)
            }
            return
        }
        t.foreignWaiting = true
        foreignWaits++
        unlink(t)
        if (next !== t) {
            switchTo(t, next)
            return
        }
        if (awaitWork { val w = watchdog(); w !== t && revivable(w) && !waitsForThreads() }) {
            val c = current!!
            if (c !== t) switchTo(t, c)
            return
        }
        val w = watchdog()
        append(w)
        switchTo(t, w)
    }

    /** A kotlinx.coroutines resumption of [t] (dispatched on this thread): it runs at its turn, in queue order. */
    fun resumeForeign(t: Tasklet, block: Runnable) {
        if (!t.aliveFlag) return
        val resumes = t.foreignResumes ?: ArrayDeque<Runnable>(2).also { t.foreignResumes = it }
        resumes.addLast(block)
        if (t.foreignWaiting) {
            t.foreignWaiting = false
            foreignWaits--
            if (!t.inRunQueue) append(t)
        }
    }

    /**
     * A throw to [t] while it waits in a kotlinx.coroutines suspension: a `delay` is cancelled with
     * [e] at once (the tasklet becomes runnable and `delay` throws it); any other suspension cannot
     * be interrupted from here, so [e] waits for the tasklet's next switch point after it resumes.
     */
    private fun throwForeign(t: Tasklet, e: Throwable) {
        val c = t.foreignCancel
        if (c != null) {
            t.foreignCancel = null
            c.cancel(e)
        } else {
            deferError(t, e)
        }
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
        watchThreadEnd()
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

    // ---------------------------------------------------------------------------------------------
    // Other threads (spec §5)

    /** True when the calling thread runs this scheduler: its own thread, or one of its carrier or loop threads. */
    fun isHere(): Boolean = Thread.currentThread() === thread || local.get() === this

    /**
     * False once the thread has ended; the first caller to notice detaches its tasklets (spec §5.4).
     * Only asked on the way of a cross-thread operation: the hot path never calls [Thread.isAlive].
     */
    fun checkLive(): Boolean {
        if (detached) return false
        if (thread.isAlive) return true
        detach()
        return false
    }

    /** Hands [m] to this scheduler from another thread, waking it if it is parked. */
    fun post(m: Mail) {
        inbox.post(m)
        if (parked) LockSupport.unpark(baton)
    }

    /**
     * Posts the wake-up [m] of a tasklet of this scheduler that another thread matched on a channel,
     * after [unlink] took it out of the channel. Returns false, with nothing done, once the thread
     * has ended and its tasklets are detached. Done under this scheduler's lock, which [detach] also
     * takes: a wake-up is either refused or seen by [detach], which then hands the value to its
     * tasklet; and the thread's end is watched from now on, so that [detach] does happen.
     */
    inline fun postWake(m: Mail, unlink: () -> Unit): Boolean = synchronized(this) {
        if (detached) return false
        unlink()
        post(m)
        watchThreadEnd()
        true
    }

    /** [post] for a remote operation on [t]; [deadMessage] is the error when the thread has ended. */
    fun postFor(t: Tasklet, kind: Int, value: Any?, deadMessage: String) {
        if (!checkLive()) throw TaskletStateException(deadMessage, t)
        post(Mail(kind, t, value))
    }

    /** `t.run()`/`t.switch()` on a tasklet of another thread: it runs next there; the caller goes on. */
    private fun runRemote(t: Tasklet, removeCaller: Boolean) {
        val owner = t.scheduler
        if (owner == null || !owner.checkLive()) throw TaskletStateException("tasklet has no thread", t)
        if (removeCaller) throw TaskletStateException("can't switch to a different thread.", t)
        owner.checkRunnable(t)
        owner.post(Mail(Mail.RUN, t, null))
    }

    /** A throw to a tasklet of another thread acts as pending (spec §2.9): it is made runnable there. */
    private fun throwRemote(t: Tasklet, e: Throwable) {
        val owner = t.scheduler
        if (owner == null || !owner.checkLive()) {
            // kill() drops it (its thread may have ended after kill() looked); a dead one needs nothing.
            if (e is TaskletExit && (e.fromKill || (t.frame == null && t.hardBody == null))) {
                t.drop()
                return
            }
            throw TaskletStateException("tasklet has no thread", t)
        }
        if (!t.aliveFlag && e !is TaskletExit) throw TaskletStateException("You cannot throw to a dead tasklet", t)
        owner.post(Mail(Mail.THROW, t, e))
    }

    /** Set while the loop drains with no tasklet running: the current one is still suspended. */
    private var betweenTasklets = false

    private fun timersBetweenTasklets() {
        timerCountdown = TIMER_CHECK_INTERVAL
        betweenTasklets = true
        try {
            runDueTimers()
        } finally {
            betweenTasklets = false
        }
    }

    private fun drainBetweenTasklets() {
        betweenTasklets = true
        try {
            drain()
        } finally {
            betweenTasklets = false
        }
    }

    /** True while [drain] runs: a drain reached from inside it (through a throw) leaves the rest to it. */
    private var draining = false

    /** Applies what other threads posted. Called only where the queue and the channels are consistent. */
    fun drain() {
        if (draining) return
        draining = true
        try {
            drainAll()
        } finally {
            draining = false
        }
    }

    private fun drainAll() {
        takeEachMail { kind, t, v, waiter -> apply(kind, t, v, waiter) }
    }

    /** Takes every mail waiting, in order, and hands what it says to [action]. Consumer only. */
    private inline fun takeEachMail(action: (kind: Int, t: Tasklet?, v: Any?, waiter: Thread?) -> Unit) {
        while (true) {
            val m = inbox.take() ?: return
            val t = m.tasklet
            val v = m.value
            val waiter = m.waiter
            // The mail is now the inbox's stub: let go of what it holds.
            m.tasklet = null
            m.value = null
            m.waiter = null
            action(m.kind, t, v, waiter)
        }
    }

    @OptIn(InternalStacklessApi::class)
    private fun apply(kind: Int, t: Tasklet?, v: Any?, waiter: Thread?) {
        if (kind == Mail.CANCEL_TIMER) {
            timers.remove(v as Timer)
            return
        }
        if (kind == Mail.SHARE) {
            (v as Channel<*>).share(this)
            LockSupport.unpark(waiter)
            return
        }
        t!!
        if (kind == Mail.ADOPT) {
            if (t.aliveFlag && t.scheduler === this && t.registry == null) register(t)
            return
        }
        if (kind == Mail.RELEASE) {
            unregister(t)
            (v as Scheduler).post(Mail(Mail.ADOPT, t, null))
            return
        }
        val owner = t.scheduler
        if (owner !== this) {
            // Rebound to another thread after the mail was posted: it follows the tasklet.
            if (owner != null) owner.post(Mail(kind, t, v))
            return
        }
        when (kind) {
            Mail.WAKE -> wake(t, v)
            Mail.RESUME -> resumeForeign(t, v as Runnable)
            Mail.INSERT -> if (t.aliveFlag && t.blocked == 0 && !t.inRunQueue) append(t)
            Mail.WAKE_FOREIGN -> if (t.foreignEpoch == v as Int && t.aliveFlag && t.blocked == 0 && !t.inRunQueue && !t.foreignWaiting) append(t)
            Mail.RUN -> if (t.aliveFlag && t.blocked == 0 && t !== current) {
                if (t.inRunQueue) unlink(t)
                val c = current
                if (c == null) append(t) else insertAfter(c, t)
            }
            Mail.REMOVE -> if (t.inRunQueue && t.blocked == 0 && t !== current) unlink(t)
            Mail.SETUP -> if (!t.aliveFlag) {
                try {
                    t.setup()
                } catch (_: IllegalStateException) {
                    // Set up meanwhile, or unbound: the caller was answered when it posted.
                }
            }
            Mail.THROW -> {
                val e = v as Throwable
                if (!t.aliveFlag) {
                    if (e is TaskletExit) dropDead(t)
                } else {
                    deliverThrow(t, e)
                }
            }
        }
    }

    /** [t], which waited on a channel, was matched by another thread: [v] is what its operation returns. */
    private fun wake(t: Tasklet, v: Any?) {
        t.blocked = 0
        t.channel = null
        t.wakePending = false
        if (t.inRunQueue) {
            // Thrown to after the match but before this mail: the value comes first, the exception after.
            val bomb = t.tempval
            if (bomb is Bomb) deferError(t, bomb.error)
        }
        t.tempval = v
        t.opDone = true
        if (!t.inRunQueue && t.aliveFlag) append(t)
    }

    /** The report of the deadlock that made the last [awaitWork] return false, or null if it stopped on request. */
    private var deadlockReport: String? = null

    /**
     * Nothing is runnable here: applies what other threads posted and waits for them until
     * something is runnable (returns true, [current] set). Returns false instead when [stop] says
     * this thread should not wait (then [deadlockReport] is null), or when no thread can make
     * progress ([deadlockReport] says why).
     */
    private inline fun awaitWork(stop: () -> Boolean): Boolean {
        deadlockReport = null
        while (true) {
            if (inbox.hasMail()) drain()
            runDueTimers()
            if (current != null) return true
            if (stop()) return false
            deadlockReport = idleWait() ?: continue
            return false
        }
    }

    /**
     * Nothing is runnable here: parks until another thread posts (returns null), or, when no thread
     * can make progress any more, returns the deadlock report (every idle thread gets it).
     * A thread alone never parks: it has a deadlock at once, as in single-threaded Stackless.
     */
    private fun idleWait(): String? {
        // Due timers or another thread's answer will end the wait: this thread is not stuck.
        val expecting = timers.size != 0 || foreignWaits != 0
        synchronized(GLOBAL) {
            if (inbox.hasMail()) return null
            deadlocked?.let {
                deadlocked = null
                return it
            }
            // Twice around the mail check: a thread that ended after posting here is skipped by the
            // scan, and seeing it ended makes its post visible to the second check.
            if (!expecting && noOtherThreadCanProgress() && !inbox.hasMail() && noOtherThreadCanProgress()) {
                val report = Deadlocks.report(this)
                for (o in byThreadId.values) {
                    if (o !== this && o.idle) {
                        o.deadlocked = report
                        LockSupport.unpark(o.baton)
                    }
                }
                return report
            }
            idle = !expecting
        }
        parked = true
        val timed = timers.size != 0
        val deadline = if (timed) timers.firstDeadline() else 0L
        var spins = IDLE_SPINS
        while (!inbox.hasMail() && deadlocked == null) {
            val left = if (timed) deadline - System.nanoTime() else 0L
            if (timed && left <= 0) break
            if (spins > 0) {
                spins--
                Thread.onSpinWait()
            } else {
                if (timed) LockSupport.parkNanos(this, left) else LockSupport.park(this)
                Thread.interrupted()
            }
        }
        parked = false
        synchronized(GLOBAL) {
            idle = false
            // Mail that came with (or after) a deadlock signal means some thread did go on.
            if (inbox.hasMail()) deadlocked = null
        }
        return null
    }

    private fun noOtherThreadCanProgress(): Boolean {
        for (o in byThreadId.values) {
            if (o === this || o.detached || !o.thread.isAlive) continue
            if (!o.idle || o.inbox.hasMail()) return false
        }
        return true
    }

    // ---------------------------------------------------------------------------------------------
    // Timers and the event loop (stacklesslib)

    /** A timer of this scheduler, due at [deadline] ([System.nanoTime]), repeating every [period] ns if > 0. */
    @OptIn(InternalStacklessApi::class)
    fun callAt(deadline: Long, period: Long, action: Runnable): Timer {
        var due = deadline
        if (attention >= TIMER) {
            // Made by a callback: not due before now, so that it cannot hold back the batch that runs.
            val now = System.nanoTime()
            if (due - now < 0) due = now
        }
        val t = Timer(this, due, period, action)
        timers.add(t)
        return t
    }

    /**
     * Runs the timers that are due, on this thread, with switching forbidden; an exception thrown by
     * a callback is printed and the others still run (stacklesslib's `handle_exception`). A call from
     * inside a callback does nothing. Returns the number run.
     */
    @OptIn(InternalStacklessApi::class)
    fun runDueTimers(): Int {
        if (timers.size == 0 || attention >= TIMER) return 0
        val now = System.nanoTime()
        if (timers.firstDeadline() - now > 0) return 0
        attention += TIMER
        try {
            return timers.runDue(now) { t ->
                try {
                    t.action.run()
                } catch (e: Throwable) {
                    System.err.println("Exception in timer callback ${t.action}:")
                    e.printStackTrace()
                }
            }
        } finally {
            attention -= TIMER
        }
    }

    /**
     * The main tasklet [me], alone in the run queue, waits until something happens: mail from
     * another thread applied, timers run, a tasklet runnable, or [deadline] ([System.nanoTime]) passed
     * when [hasDeadline] (true). It parks meanwhile. Returns false at once when nothing can ever
     * happen here: no other tasklet alive, no timer, no wait for another thread.
     *
     * @throws DeadlockException when tasklets are alive but no thread can make progress.
     */
    @OptIn(InternalStacklessApi::class)
    fun waitForWork(me: Tasklet, deadline: Long, hasDeadline: Boolean): Boolean {
        // The deadline as a timer: the idle wait ends by then, and no deadlock is declared before it.
        val alarm = if (hasDeadline) callAt(deadline, 0, NO_OP) else null
        try {
            while (true) {
                val mail = inbox.hasMail()
                if (mail) drain()
                if (runDueTimers() > 0 || mail || me.nextLink !== me || current !== me) return true
                if (!me.isMainFlag) return false
                if (aliveCount <= 1 && timers.size == 0 && foreignWaits == 0) return false
                val report = idleWait() ?: continue
                throw DeadlockException("Deadlock: every tasklet is blocked and no timer is pending.$report")
            }
        } finally {
            if (alarm != null) timers.remove(alarm)
        }
    }

    /**
     * A pending throw from a timer callback: [t] is made runnable with [e] (withdrawn from the
     * channel it waits on), or, if it is running or its operation has completed, gets [e] at its next
     * switch point. Nothing happens to a dead tasklet.
     */
    fun throwPending(t: Tasklet, e: Throwable) {
        if (t.scheduler !== this) {
            throwRemote(t, e)
            return
        }
        if (t.aliveFlag) deliverThrow(t, e)
    }

    /** Takes back [e] if it still waits for [t]'s next switch point; true if it did. */
    fun retractPending(t: Tasklet, e: Throwable): Boolean {
        if (t.pendingError !== e) return false
        t.pendingError = null
        if (attention > 0) attention--
        return true
    }

    // ---------------------------------------------------------------------------------------------
    // The end of the thread (spec §5.4)

    /**
     * The thread has ended: its soft tasklets are detached (not alive, no thread, out of the queue;
     * one blocked on a channel stays there) and never run again; hard tasklets still suspended get
     * [TaskletExit] on a reaper thread that stands in as a temporary main tasklet.
     */
    fun detach() {
        val reaped = ArrayList<Tasklet>()
        synchronized(this) {
            if (detached) return
            detached = true
            takeMailOfEndedThread()
            var t = firstAlive
            while (t != null) {
                val next = t.allNext
                t.allNext = null
                t.allPrev = null
                t.registry = null
                when {
                    t.scheduler !== this -> t.scheduler?.post(Mail(Mail.ADOPT, t, null))
                    t.carrier != null && !t.isMainFlag -> reaped.add(t)
                    // A value was handed to it (a rendezvous completed): it must not be lost.
                    t.opDone && !t.isMainFlag -> reaped.add(t)
                    else -> t.detachFromThread()
                }
                t = next
            }
            firstAlive = null
            lastAlive = null
            aliveCount = 0
            current = null
            runCount = 0
            byThreadId.remove(thread.id, this)
        }
        if (reaped.isNotEmpty()) Carriers.newThread("stackless reaper of '${thread.name}'") { reap(reaped) }.start()
    }

    /**
     * The mail of a thread that has ended, taken by [detach] (nobody else takes it any more): a
     * wake-up gives its tasklet the value (it is reaped with it), mail about tasklets rebound to
     * other threads follows them, a channel waiting to be shared is shared; the rest concerned
     * tasklets that will never run.
     */
    private fun takeMailOfEndedThread() {
        takeEachMail { kind, t, v, waiter ->
            when {
                kind == Mail.SHARE -> {
                    (v as Channel<*>).share(this)
                    LockSupport.unpark(waiter)
                }
                t == null || kind == Mail.ADOPT -> Unit
                kind == Mail.RELEASE -> {
                    unregister(t)
                    (v as Scheduler).post(Mail(Mail.ADOPT, t, null))
                }
                t.scheduler !== this -> t.scheduler?.post(Mail(kind, t, v))
                kind == Mail.WAKE -> wake(t, v)
            }
        }
    }

    /**
     * Runs on a reaper thread, which stands in as a temporary main tasklet: raises [TaskletExit] in
     * each tasklet of [reaped], one after the other. A hard tasklet gets it where it waits; a tasklet
     * that was handed a value first returns it from its operation and gets the exit at its next
     * switch point, so that its `finally` blocks run with the value received.
     */
    private fun reap(reaped: List<Tasklet>) {
        local.set(this)
        val temp = Tasklet.newMain(this, Thread.currentThread())
        main = temp
        watchdogs.clear()
        timer = null
        threadblockOwner = null
        switchTrap = 0
        for (t in reaped) {
            t.nextLink = null
            t.prevLink = null
            t.inRunQueue = false
        }
        append(temp)
        baton = Thread.currentThread()
        for (t in reaped) {
            t.registry = null
            register(t)
            try {
                if (throwTo(temp, t, TaskletExit(), pending = false)) block(temp)
                temp.claim()
            } catch (_: Throwable) {
                // What a dying tasklet throws has nobody left to go to.
            }
        }
        forEachTasklet { it.detachFromThread() }
    }

    /**
     * Watches the thread once it has hard tasklets or got a value from another thread, so that when
     * it ends hard tasklets are killed and values in hand are taken ([detach]).
     */
    fun watchThreadEnd() {
        if (endWatched) return
        endWatched = true
        ThreadEnds.poke()
    }

    /** [watchThreadEnd] was called: [ThreadEnds] watches (or is about to watch) the thread. */
    @Volatile @JvmField var endWatched = false

    override fun toString(): String = "Scheduler(thread '${thread.name}', runCount=$runCount)"

    companion object {
        private val local = ThreadLocal<Scheduler>()
        private const val MAX_IDLE_LOOPS = 2

        /** Added to [attention] while timer callbacks run: no switching allowed (checked first). */
        const val TIMER = 1 shl 28

        /** Added to [attention] while the schedule callback runs: no switching allowed. */
        const val SCHEDULE_CALLBACK = 1 shl 27

        /** Resumes of tasklets between two looks at the clock for due timers, when timers wait. */
        private const val TIMER_CHECK_INTERVAL = 64

        private val NO_OP = Runnable {}

        /**
         * Added to [attention] while a channel callback runs; the smallest of the three callback marks,
         * far above any count of pending exceptions.
         */
        const val CALLBACK = 1 shl 26

        /** Spins before an idle thread parks: a reply from another thread often comes within microseconds. */
        private const val IDLE_SPINS = 200
        private const val SHARE_RECHECK_NANOS = 1_000_000L

        /** Guards the idle flags of all schedulers, so that exactly one thread finds a global deadlock. */
        private val GLOBAL = Any()
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
            byThreadId.values.filter { !it.thread.isAlive }.forEach { it.detach() }
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

        /** The scheduler of the calling thread, or null if it has none: nothing is created. */
        fun forCurrentThreadOrNull(): Scheduler? = local.get()

        /**
         * Waits until [owner], the thread that uses [ch] without a lock, hands it over to shared mode.
         * Meanwhile [me], the caller's scheduler if it has one, serves the requests posted to it, so
         * that two threads waiting for each other's channels both go on.
         */
        fun awaitShared(me: Scheduler?, ch: Channel<*>, owner: Scheduler) {
            val m = Mail(Mail.SHARE, null, ch)
            m.waiter = Thread.currentThread()
            owner.post(m)
            me?.parked = true
            try {
                while (ch.owner === owner) {
                    if (me != null && me.inbox.hasMail()) me.drain()
                    if (!owner.checkLive()) break
                    LockSupport.parkNanos(ch, SHARE_RECHECK_NANOS)
                }
            } finally {
                me?.parked = false
            }
        }

        /** The schedulers whose thread's end must be watched ([watchThreadEnd]) and has not been acted on yet. */
        fun watchRequests(): List<Scheduler> = byThreadId.values.filter { it.endWatched && !it.detached }

        fun forThreadId(id: Long): Scheduler? = byThreadId[id]?.takeIf { it.checkLive() }

        fun threadIds(): List<Long> = byThreadId.values.filter { it.checkLive() }.map { it.thread.id }.sorted()

        /** Every scheduler whose thread is alive, for the deadlock report. */
        fun all(): List<Scheduler> = byThreadId.values.filter { !it.detached && it.thread.isAlive }

        /** Runs [op] for the current tasklet of the calling thread; blocks until it is resumed if it switched. */
        inline fun blocking(op: (Scheduler, Tasklet) -> Boolean): Any? {
            val s = forCurrentThread()
            val me = s.current ?: throw IllegalStateException("A timer callback cannot switch tasklets or use a channel")
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
