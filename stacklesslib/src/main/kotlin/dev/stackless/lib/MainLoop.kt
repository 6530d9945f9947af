package dev.stackless.lib

import dev.stackless.InternalStacklessApi
import dev.stackless.SchedulerLoop
import dev.stackless.Stackless
import dev.stackless.Timer
import kotlin.time.Duration

/**
 * The event loop of the calling thread: its timers and tasklets around [Stackless.run]
 * (stacklesslib's `main.mainloop` with its `event_queue`). Each thread has its own; every member
 * acts on the calling thread's loop.
 *
 * Timer callbacks run on the loop's thread, between tasklets or inside [pump]; they must not
 * switch tasklets (a channel operation or a blocking call there throws [IllegalStateException]),
 * but may create, insert or throw pending to tasklets. An exception thrown by a callback is printed
 * and the other callbacks still run. When nothing is runnable the loop parks until the next
 * deadline or until another thread posts to it: it never polls.
 */
@OptIn(InternalStacklessApi::class)
public object MainLoop {
    private val stopped = ThreadLocal.withInitial { BooleanArray(1) }

    /**
     * Runs the loop until [stop] is called or nothing is left that could run: no tasklet but the
     * main one alive, no timer pending, nothing awaited from another thread.
     *
     * @throws IllegalStateException when called from inside a tasklet (use [pump] there).
     * @throws dev.stackless.DeadlockException when tasklets are alive but none can ever run again.
     */
    @JvmStatic
    public fun run() {
        checkMain("run")
        val flag = stopped.get()
        flag[0] = false
        try {
            while (!flag[0]) {
                pump()
                Stackless.run()
                if (flag[0] || !SchedulerLoop.waitForWork()) break
            }
        } finally {
            flag[0] = false
        }
    }

    /**
     * One iteration: waits, if nothing is runnable, until a timer is due or another thread posts
     * (not at all if nothing could come), runs the due timers, then runs the tasklets until none is
     * runnable.
     *
     * @throws IllegalStateException when called from inside a tasklet.
     */
    @JvmStatic
    public fun runOnce() {
        checkMain("runOnce")
        if (SchedulerLoop.runCount() <= 1) SchedulerLoop.waitForWork()
        pump()
        Stackless.run()
    }

    /** Runs the timers that are due, on the calling tasklet (any tasklet may pump); returns how many ran. */
    @JvmStatic
    public fun pump(): Int = SchedulerLoop.runDueTimers()

    /** Makes [run] return after the current iteration. */
    @JvmStatic
    public fun stop() {
        stopped.get()[0] = true
    }

    /** Runs [cb] at the loop's next look at its timers, after callbacks already due (FIFO among equals). */
    @JvmStatic
    public fun callSoon(cb: Runnable): Handle = TimerHandle(SchedulerLoop.callAt(System.nanoTime(), 0, cb))

    /**
     * Runs [cb] once, [d] from now (a negative delay counts as zero).
     */
    @JvmStatic
    public fun callLater(d: Duration, cb: Runnable): Handle =
        TimerHandle(SchedulerLoop.callAt(deadlineIn(nanosOf(d)!!.coerceAtLeast(0)), 0, cb))

    /** [callLater] for Java. */
    @JvmStatic
    public fun callLater(d: java.time.Duration, cb: Runnable): Handle = callLater(d.toKotlin()!!, cb)

    /**
     * Runs [cb] every [interval], the first time [interval] from now; each run is re-armed
     * [interval] after the moment the loop ran it (fixed rate from the run, drift allowed).
     *
     * @throws IllegalArgumentException if [interval] is not positive.
     */
    @JvmStatic
    public fun callRepeatedly(interval: Duration, cb: Runnable): Handle {
        val nanos = nanosOf(interval)!!
        require(nanos > 0) { "interval must be positive: $interval" }
        return TimerHandle(SchedulerLoop.callAt(deadlineIn(nanos), nanos, cb))
    }

    /** [callRepeatedly] for Java. */
    @JvmStatic
    public fun callRepeatedly(interval: java.time.Duration, cb: Runnable): Handle = callRepeatedly(interval.toKotlin()!!, cb)

    /** Number of timers waiting on this thread's loop. */
    @JvmStatic
    public val pendingTimers: Int get() = SchedulerLoop.pendingTimers()

    private fun checkMain(what: String) {
        check(Stackless.current.isMain) { "MainLoop.$what() runs the loop from the main tasklet, not from ${Stackless.current}; use pump() in a tasklet" }
    }

    private class TimerHandle(private val timer: Timer) : Handle {
        override fun cancel(): Boolean = timer.cancel()
        override val isPending: Boolean get() = timer.isPending
        override fun toString(): String = "Handle($timer)"
    }
}
