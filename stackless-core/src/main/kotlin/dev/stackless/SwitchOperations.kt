package dev.stackless

// The operations of the current tasklet that may switch (docs/stackless.md §2.7–§2.11, §4.2, §4.3):
// schedule, scheduleRemove, run/switch, throw/kill, and the slow-path checks every one of them
// makes first (a callback running, an exception pending for the caller).
//
// Each operation is called by the thread that holds the baton, with me the current tasklet, and
// returns true when me switched away: a soft tasklet then suspends back into pump(), a blocking
// caller parks in block(). Nothing here allocates or takes a lock on the way of a switch.

/**
 * Throws what [slowPath] stands for, for [me] about to start an operation ([channelOp]: a
 * channel operation). A callback runs in the middle of a switch or between tasklets, where no
 * tasklet can be suspended: every switching operation is refused there, with a clear error.
 */
internal fun Scheduler.takeSlowPath(me: Tasklet, channelOp: Boolean) {
    if (slowPath >= IN_CHANNEL_CALLBACK) {
        val what = when {
            slowPath >= IN_TIMER -> "A timer callback"
            slowPath >= IN_SCHEDULE_CALLBACK -> "A schedule callback"
            channelOp -> throw IllegalStateException("Recursive channel call due to callbacks!")
            else -> "A channel callback"
        }
        throw IllegalStateException("$what cannot switch tasklets or use a channel (current: ${me.name})")
    }
    val e = me.pendingError ?: return
    me.pendingError = null
    if (slowPath > 0) slowPath--
    throw e
}

/** [t] gets [e] at its next switch point. */
internal fun Scheduler.deferError(t: Tasklet, e: Throwable) {
    // A kill is never replaced by a lesser exception (a timeout's interrupt would swallow it).
    if (t.pendingError is TaskletExit && e !is TaskletExit) return
    if (t.pendingError == null) slowPath++
    t.pendingError = e
}

/** `schedule(retval)` (docs/stackless.md §4.2). */
internal fun Scheduler.schedule(me: Tasklet, retval: Any?): Boolean {
    if (slowPath != 0) takeSlowPath(me, false)
    var next = me.nextLink!!
    if (next === me && (inbox.hasMail() || timers.size != 0)) {
        // Alone here: tasklets that other threads or timers made runnable take their turn first.
        if (inbox.hasMail()) drain()
        runDueTimers()
        next = me.nextLink!!
    }
    if (next !== me) checkTrap()
    me.tempval = retval
    if (next === me) return budget?.softPending == true && afterSwitchPoint(me, false, yieldPoint = true)
    switchTo(me, next)
    return true
}

/** `schedule_remove(retval)` (docs/stackless.md §4.3). */
internal fun Scheduler.scheduleRemove(me: Tasklet, retval: Any?): Boolean {
    if (slowPath != 0) takeSlowPath(me, false)
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

/** `t.run()` and, with [removeCaller], `t.switch()` (docs/stackless.md §2.7, §2.8). */
internal fun Scheduler.runTasklet(me: Tasklet, t: Tasklet, removeCaller: Boolean): Boolean {
    if (slowPath != 0) takeSlowPath(me, false)
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

internal fun Scheduler.checkRunnable(t: Tasklet) {
    if (t.blocked != 0) throw TaskletStateException("You cannot run a blocked tasklet", t)
    if (t.foreignWaiting) throw TaskletStateException("You cannot run a tasklet waiting in a kotlinx.coroutines suspension", t)
    if (!t.aliveFlag && t !== current) {
        throw TaskletStateException("You cannot run an unbound(dead) tasklet", t)
    }
}

internal fun Scheduler.checkTrap() {
    if (switchTrap != 0) throw SwitchTrapException()
}

/** `t.throw(e, pending)`, `t.kill(pending)`, `t.raise_exception(e)` (docs/stackless.md §2.9–2.11). */
internal fun Scheduler.throwTo(me: Tasklet, t: Tasklet, e: Throwable, pending: Boolean): Boolean {
    if (slowPath != 0) takeSlowPath(me, false)
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

internal fun Scheduler.dropDead(t: Tasklet) {
    withdraw(t)
    if (t.inRunQueue) unlink(t)
}

/**
 * Makes [t] (alive, of this scheduler) runnable with [e] to throw. If its last channel operation
 * has completed but it has not run since, the operation's result is kept and [e] waits for its
 * next switch point, so that no value is lost; the same for the running tasklet.
 */
internal fun Scheduler.deliverThrow(t: Tasklet, e: Throwable) {
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
internal fun Scheduler.withdraw(t: Tasklet): Boolean {
    val ch = t.channel ?: return false
    return ch.withdraw(this, t)
}

/**
 * A pending throw from a timer callback: [t] is made runnable with [e] (withdrawn from the
 * channel it waits on), or, if it is running or its operation has completed, gets [e] at its next
 * switch point. Nothing happens to a dead tasklet.
 */
internal fun Scheduler.throwPending(t: Tasklet, e: Throwable) {
    if (t.scheduler !== this) {
        throwRemote(t, e)
        return
    }
    if (t.aliveFlag) deliverThrow(t, e)
}

/** Takes back [e] if it still waits for [t]'s next switch point; true if it did. */
internal fun Scheduler.retractPending(t: Tasklet, e: Throwable): Boolean {
    if (t.pendingError !== e) return false
    t.pendingError = null
    if (slowPath > 0) slowPath--
    return true
}

/**
 * Moves control to [next]; the schedule callback sees [prev] as the current tasklet. Under a
 * timed `run()`, a due soft interrupt sends control to the watchdog instead.
 */
internal fun Scheduler.switchTo(prev: Tasklet, next: Tasklet) {
    moveTo(prev, if (budget == null) next else timedSwitch(next, softInterruptible = true))
}

/** [switchTo] for the rendezvous switch to a preferred partner, which a soft interrupt never takes. */
internal fun Scheduler.switchToPartner(prev: Tasklet, next: Tasklet) {
    moveTo(prev, if (budget == null) next else timedSwitch(next, softInterruptible = false))
}

internal fun Scheduler.moveTo(prev: Tasklet, target: Tasklet) {
    val cb = Scheduler.scheduleCallback
    if (cb != null) notifySchedule(cb, prev, target)
    current = target
}

internal fun Scheduler.notifySchedule(cb: ScheduleCallback, prev: Tasklet, next: Tasklet) {
    current = prev
    slowPath += IN_SCHEDULE_CALLBACK
    try {
        notifySafely(cb, prev, next)
    } finally {
        slowPath -= IN_SCHEDULE_CALLBACK
    }
}

/** Added to [Scheduler.slowPath] while timer callbacks run: no switching allowed (checked first). */
internal const val IN_TIMER: Int = 1 shl 28

/** Added to [Scheduler.slowPath] while the schedule callback runs: no switching allowed. */
internal const val IN_SCHEDULE_CALLBACK: Int = 1 shl 27

/**
 * Added to [Scheduler.slowPath] while a channel callback runs; the smallest of the three callback
 * marks, far above any count of pending exceptions.
 */
internal const val IN_CHANNEL_CALLBACK: Int = 1 shl 26

/** Reads and resets tempval, as a tasklet does when it resumes; throws a pending exception. */
@JvmSynthetic
internal fun Tasklet.claim(): Any? {
    val v = takeTempval()
    if (v is Bomb) throw v.error
    return v
}

/**
 * What a tasklet resumes with: its tempval, reset, a [Bomb] standing for an exception to throw. Its
 * operation's result is taken (no longer [Tasklet.opDone]) and a `run()` it returns from leaves the
 * watchdog stack. Shared by [claim] and the trampoline's resumption of a soft frame.
 */
@Suppress("NOTHING_TO_INLINE")
internal inline fun Tasklet.takeTempval(): Any? {
    if (inWatchdogStack) ownerScheduler().popWatchdogs(this)
    opDone = false
    val v = tempval
    tempval = null
    return v
}
