package dev.stackless

/**
 * A callback due at a point of [System.nanoTime] in one scheduler's timer heap (made by
 * [SchedulerLoop.callAt]). It runs on the scheduler's thread, between tasklets or inside a pump,
 * and must not switch tasklets: a switching operation there throws [IllegalStateException].
 */
@InternalStacklessApi
public class Timer internal constructor(
    internal val owner: Scheduler,
    /** When it is due, in [System.nanoTime] units. */
    @JvmField internal var deadline: Long,
    /** For a repeating timer the period in nanoseconds (> 0), else 0. */
    internal val period: Long,
    internal val action: Runnable,
) {
    /** Tie-breaker: timers due at the same moment run in the order they were made. */
    @JvmField internal var seq: Long = 0

    /** Position in the heap, or -1 when the timer is not in it; read without a fence by other threads (a hint). */
    @JvmField internal var index: Int = -1

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
