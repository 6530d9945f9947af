package dev.stackless

// Timers: the handle a caller gets (Timer) and how the scheduler runs the due ones, between
// tasklets and with switching forbidden (stacklesslib's event queue, docs/stacklesslib.md §3).

/**
 * A callback due at a point of [System.nanoTime] in one scheduler's timer heap (made by
 * [SchedulerHooks.callAt]). It runs on the scheduler's thread, between tasklets or inside a pump,
 * and must not switch tasklets: a switching operation there throws [IllegalStateException].
 */
@InternalStacklessApi
public class Timer internal constructor(
    @get:JvmSynthetic internal val owner: Scheduler,
    /** When it is due, in [System.nanoTime] units. */
    @JvmField @JvmSynthetic internal var deadline: Long,
    /** For a repeating timer the period in nanoseconds (> 0), else 0. */
    @get:JvmSynthetic internal val period: Long,
    @get:JvmSynthetic internal val action: Runnable,
) {
    /** Tie-breaker: timers due at the same moment run in the order they were made. */
    @JvmField @JvmSynthetic internal var seq: Long = 0

    /** Position in the heap, or -1 when the timer is not in it; read without a fence by other threads (a hint). */
    @JvmField @JvmSynthetic internal var index: Int = -1

    /** True while the timer waits in its heap. */
    public val isPending: Boolean get() = index >= 0

    /**
     * Takes the timer out of its heap (O(log n)) so that it never runs (again, for a repeating one).
     * Returns true if it was waiting, false if it had already run or been cancelled. From another
     * thread the removal is done by the owner at its next switch point; the answer is the state
     * seen when asked, and a timer due at that moment may still run.
     */
    public fun cancel(): Boolean {
        if (owner.isHere()) return owner.timers.remove(this)
        if (index < 0) return false
        owner.post(Mail(Mail.CANCEL_TIMER, null, this))
        return true
    }

    override fun toString(): String = "Timer(due in ${(deadline - System.nanoTime()) / 1000} us, period ${period / 1000} us)"
}

/** A timer of this scheduler, due at [deadline] ([System.nanoTime]), repeating every [period] ns if > 0. */
@OptIn(InternalStacklessApi::class)
internal fun Scheduler.callAt(deadline: Long, period: Long, action: Runnable): Timer {
    var due = deadline
    if (slowPath >= IN_TIMER) {
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
internal fun Scheduler.runDueTimers(): Int {
    if (timers.size == 0 || slowPath >= IN_TIMER) return 0
    val now = System.nanoTime()
    if (timers.firstDeadline() - now > 0) return 0
    slowPath += IN_TIMER
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
        slowPath -= IN_TIMER
    }
}

internal fun Scheduler.timersBetweenTasklets() {
    timerCountdown = TIMER_CHECK_INTERVAL
    betweenTasklets = true
    try {
        runDueTimers()
    } finally {
        betweenTasklets = false
    }
}

/** Resumes of tasklets between two looks at the clock for due timers, when timers wait. */
internal const val TIMER_CHECK_INTERVAL: Int = 64
