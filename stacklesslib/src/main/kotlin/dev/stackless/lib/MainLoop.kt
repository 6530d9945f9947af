package dev.stackless.lib

import dev.stackless.InternalStacklessApi
import dev.stackless.SchedulerHooks
import dev.stackless.Stackless
import dev.stackless.Tasklet
import dev.stackless.Timer
import java.util.WeakHashMap
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
    /**
     * The state of each thread's loop, keyed by that thread's main tasklet: a hard tasklet or a loop
     * thread that runs tasklets of the same scheduler on another OS thread reaches the same loop.
     */
    private val loops = WeakHashMap<Tasklet, Loop>()

    /**
     * Runs the loop until [stop] is called or nothing is left that could run: no tasklet but the
     * main one alive, no timer pending, nothing awaited from another thread.
     *
     * @throws IllegalStateException when called from inside a tasklet (use [pump] there) or a callback.
     * @throws dev.stackless.DeadlockException when tasklets are alive but none can ever run again.
     */
    @JvmStatic
    public fun run() {
        val loop = checkMain("run")
        loop.stopped = false
        try {
            while (!loop.stopped) {
                pump()
                Stackless.run()
                if (loop.stopped || !SchedulerHooks.waitForWork()) break
            }
        } finally {
            loop.stopped = false
        }
    }

    /**
     * One iteration: waits, if nothing is runnable, until a timer is due or another thread posts
     * (not at all if nothing could come), runs the due timers, then runs the tasklets until none is
     * runnable.
     *
     * @throws IllegalStateException when called from inside a tasklet or a callback.
     */
    @JvmStatic
    public fun runOnce() {
        checkMain("runOnce")
        if (SchedulerHooks.runCount() <= 1) SchedulerHooks.waitForWork()
        pump()
        Stackless.run()
    }

    /** Runs the timers that are due, on the calling tasklet (any tasklet may pump); returns how many ran. */
    @JvmStatic
    public fun pump(): Int = SchedulerHooks.runDueTimers()

    /** Makes [run] return after the current iteration (from a callback: once the due callbacks ran). */
    @JvmStatic
    public fun stop() {
        loop().stopped = true
    }

    /** Runs [cb] at the loop's next look at its timers, after callbacks already due (FIFO among equals). */
    @JvmStatic
    public fun callSoon(cb: Runnable): Handle = schedule(System.nanoTime(), 0, cb)

    /**
     * Runs [cb] once, [d] from now (a negative delay counts as zero).
     */
    @JvmStatic
    public fun callLater(d: Duration, cb: Runnable): Handle =
        schedule(deadlineIn(nanosOf(d)!!.coerceAtLeast(0)), 0, cb)

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
        return schedule(deadlineIn(nanos), nanos, cb)
    }

    /** [callRepeatedly] for Java. */
    @JvmStatic
    public fun callRepeatedly(interval: java.time.Duration, cb: Runnable): Handle = callRepeatedly(interval.toKotlin()!!, cb)

    /** Number of timers waiting on this thread's loop. */
    @JvmStatic
    public val pendingTimers: Int get() = SchedulerHooks.pendingTimers()

    private fun schedule(deadline: Long, period: Long, cb: Runnable): Handle =
        TimerHandle(SchedulerHooks.callAt(deadline, period, LoopCallback(cb, loop())))

    private fun loop(): Loop {
        val main = Stackless.main
        return synchronized(loops) { loops.getOrPut(main) { Loop() } }
    }

    private fun checkMain(what: String): Loop {
        check(Stackless.current.isMain) { "MainLoop.$what() runs the loop from the main tasklet, not from ${Stackless.current}; use pump() in a tasklet" }
        val loop = loop()
        // The loop's wait cannot run timers from inside one: it would wait for itself forever.
        check(!loop.inCallback) { "MainLoop.$what() cannot run inside a timer callback" }
        return loop
    }

    /** One thread's loop: whether [stop] was called, and whether one of its callbacks is running. */
    private class Loop {
        @Volatile var stopped = false
        var inCallback = false
    }

    /** A callback of [loop], which knows while it runs. */
    private class LoopCallback(private val cb: Runnable, private val loop: Loop) : Runnable {
        override fun run() {
            loop.inCallback = true
            try {
                cb.run()
            } finally {
                loop.inCallback = false
            }
        }

        override fun toString(): String = cb.toString()
    }

    private class TimerHandle(private val timer: Timer) : Handle {
        override fun cancel(): Boolean = timer.cancel()
        override val isPending: Boolean get() = timer.isPending
        override fun toString(): String = "Handle($timer)"
    }
}
