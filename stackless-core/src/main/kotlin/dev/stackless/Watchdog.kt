package dev.stackless

/**
 * The budget of the outermost timed [Stackless.run] (the *interrupt watchdog*, spec §4.4): ticks
 * or nanoseconds per timeslice (reset at every switch) or in total, and how to interrupt when it is
 * spent.
 *
 * A tick is one switch point (any operation that may switch, and [Stackless.tick]); the JVM cannot
 * count bytecodes, so a tasklet that never reaches a switch point cannot be interrupted. A hard
 * interrupt happens where the running tasklet would otherwise continue: it is taken out of the
 * runnables queue, keeps the result of the operation it was in, and is returned by `run()`. A soft
 * interrupt makes `run()` return null at the next switch instead.
 */
internal class Watchdog(
    @JvmField val owner: Tasklet,
    private val sliceTicks: Long,
    private val sliceNanos: Long,
    @JvmField val soft: Boolean,
    @JvmField val total: Boolean,
) {
    private var ticksLeft: Long = sliceTicks
    private var deadline: Long = if (sliceNanos > 0) System.nanoTime() + sliceNanos else 0L

    /** A soft interrupt is due at the next switch. */
    @JvmField var softPending: Boolean = false

    fun tick() {
        if (sliceTicks > 0) ticksLeft--
    }

    fun spent(): Boolean = if (sliceTicks > 0) ticksLeft <= 0 else System.nanoTime() - deadline >= 0

    /** A switch starts a new timeslice unless the budget is for the whole run. */
    fun newSlice() {
        if (total) return
        if (sliceTicks > 0) ticksLeft = sliceTicks else deadline = System.nanoTime() + sliceNanos
    }
}
