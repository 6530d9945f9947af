package dev.stackless

/**
 * The scheduler hooks `stacklesslib` builds its event loop, sleep and timeouts on. Every function
 * acts on the calling thread's scheduler and must be called on that thread.
 */
@InternalStacklessApi
public object SchedulerHooks {
    /**
     * Adds a timer due at [deadline] ([System.nanoTime] units), repeating every [periodNanos] if > 0.
     * Timers due at the same moment run in the order they were added.
     *
     * @throws IllegalArgumentException if [periodNanos] is negative.
     */
    @JvmStatic
    public fun callAt(deadline: Long, periodNanos: Long, action: Runnable): Timer {
        require(periodNanos >= 0) { "period must not be negative: $periodNanos" }
        return Scheduler.forCurrentThread().callAt(deadline, periodNanos, action)
    }

    /** Runs the due timers now, as [Stackless.run] does between tasklets; returns how many ran. */
    @JvmStatic
    public fun runDueTimers(): Int = Scheduler.forCurrentThread().runDueTimers()

    /** Number of timers waiting on this thread. */
    @JvmStatic
    public fun pendingTimers(): Int = Scheduler.forCurrentThread().timers.size

    /** Nanoseconds until the next timer is due (0 if due now), or -1 if none waits. */
    @JvmStatic
    public fun nanosToNextTimer(): Long {
        val heap = Scheduler.forCurrentThread().timers
        if (heap.size == 0) return -1
        return maxOf(0L, heap.firstDeadline() - System.nanoTime())
    }

    /** Number of alive tasklets of this thread, the main tasklet included. */
    @JvmStatic
    public fun aliveCount(): Int = Scheduler.forCurrentThread().aliveCount

    /** Number of runnable tasklets of this thread, the current one included. */
    @JvmStatic
    public fun runCount(): Int = Scheduler.forCurrentThread().runCount

    /**
     * Called by the main tasklet when nothing but itself is runnable: parks until something happens
     * (another thread's post applied, timers run, a tasklet runnable) and returns true; the caller
     * looks again at what it waits for. Returns false at once when nothing can ever happen: no other
     * tasklet alive, no timer pending, no [beginForeignWait] outstanding. Called from a tasklet it
     * does not wait (returns whether another tasklet is runnable).
     *
     * @throws DeadlockException when tasklets are alive but no thread can make progress.
     */
    @JvmStatic
    public fun waitForWork(): Boolean {
        val s = Scheduler.forCurrentThread()
        return s.waitForWork(s.current!!, 0, hasDeadline = false)
    }

    /** [waitForWork] that also returns (true) once [deadline] ([System.nanoTime]) has passed. */
    @JvmStatic
    public fun waitForWork(deadline: Long): Boolean {
        val s = Scheduler.forCurrentThread()
        return s.waitForWork(s.current!!, deadline, hasDeadline = true)
    }

    /**
     * A tasklet of this thread starts waiting for another thread (which will wake it through a
     * remote operation): until the matching [endForeignWait], an idle thread parks instead of
     * reporting a deadlock.
     */
    @JvmStatic
    public fun beginForeignWait() {
        val s = Scheduler.forCurrentThread()
        s.foreignWaits++
        s.current?.let { it.foreignEpoch++ }
    }

    /** Ends a [beginForeignWait]: a [wakeForeign] sent during it that has not arrived yet is dropped. */
    @JvmStatic
    public fun endForeignWait() {
        val s = Scheduler.forCurrentThread()
        s.foreignWaits--
        s.current?.let { it.foreignEpoch++ }
    }

    /**
     * From any thread: puts [t], paused while it waits for something this thread has just done,
     * back into its run queue, as [Tasklet.insert] would. Unlike a plain remote insert, a wake-up
     * that reaches [t]'s thread only after [t] has ended the wait ([endForeignWait]) is dropped, so
     * that it cannot wake a later, unrelated pause. Does nothing if [t] is blocked, dead, or its
     * thread has ended.
     */
    @JvmStatic
    public fun wakeForeign(t: Tasklet) {
        val epoch = t.foreignEpoch
        val s = t.scheduler ?: return
        if (s.isHere()) {
            if (t.aliveFlag && t.blocked == 0 && !t.inRunQueue && !t.foreignWaiting) s.append(t)
        } else if (s.checkLive()) {
            s.post(Mail(Mail.WAKE_FOREIGN, t, epoch))
        }
    }

    /**
     * The thread whose tasklets the calling code runs as (the calling thread, or the thread that owns
     * the hard tasklet or loop it carries), for structures used by the tasklets of one thread that
     * must refuse use from another ([isHome]). Creates no scheduler.
     */
    @JvmStatic
    public fun home(): Thread = Scheduler.forCurrentThreadOrNull()?.thread ?: Thread.currentThread()

    /** True when the calling code runs as a tasklet of [home]'s thread (see [home]). */
    @JvmStatic
    public fun isHome(home: Thread): Boolean =
        Thread.currentThread() === home || Scheduler.forCurrentThreadOrNull()?.thread === home

    /**
     * From a timer callback (or any code of [t]'s thread that must not switch): [t] gets [e] as a
     * pending throw. A tasklet waiting on a channel leaves it and becomes runnable with [e]; a running
     * one, or one whose operation has just completed, gets [e] at its next switch point, after the
     * operation's result; a dead one is left alone. A tasklet of another thread is thrown to remotely.
     */
    @JvmStatic
    public fun throwPending(t: Tasklet, e: Throwable) {
        Scheduler.forCurrentThread().throwPending(t, e)
    }

    /**
     * Takes back [e] if it was thrown pending to the calling tasklet [t] and still waits for its
     * next switch point (a timeout whose scope ended first); true if it was taken back.
     */
    @JvmStatic
    public fun retractPending(t: Tasklet, e: Throwable): Boolean = Scheduler.forCurrentThread().retractPending(t, e)
}
