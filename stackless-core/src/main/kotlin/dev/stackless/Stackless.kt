package dev.stackless

import kotlin.coroutines.intrinsics.suspendCoroutineUninterceptedOrReturn

/**
 * The scheduler of the calling thread (Stackless' `stackless` module).
 *
 * Each thread has its own scheduler, created on first use, with a *main tasklet* that stands for
 * the thread itself: when a plain thread calls a blocking operation ([run], [scheduleBlocking],
 * [Channel.receiveBlocking], …) its main tasklet blocks and the thread runs the other tasklets until
 * the operation completes.
 */
public object Stackless {
    /** Marks "the caller's own tasklet" as the default retval of [schedule], without a thread-local lookup. */
    private val SELF = Any()

    /** The running tasklet of the calling thread. */
    @JvmStatic
    public val current: Tasklet get() = Scheduler.forCurrentThread().current!!

    /** The main tasklet of the calling thread. */
    @JvmStatic
    public val main: Tasklet get() = Scheduler.forCurrentThread().main

    /** The number of tasklets in the calling thread's runnables queue, the current one included (a caller inside [run] is not). */
    @JvmStatic
    public val runCount: Int get() = Scheduler.forCurrentThread().runCount

    /** The ids of the threads that have a scheduler, ascending. */
    @JvmStatic
    public val threads: List<Long> get() = Scheduler.threadIds()

    /**
     * Runs the runnable tasklets until none is left, then returns null. The caller leaves the
     * runnables queue meanwhile and becomes the *watchdog*: uncaught exceptions of tasklets are
     * thrown from here (the others stay queued), and it returns early when someone makes the caller
     * runnable again.
     *
     * Called from a soft tasklet's non-suspend code this pins the main tasklet's thread (see the
     * README); tasklet bodies use [runNested].
     *
     * @throws SwitchTrapException under [switchTrap] when another tasklet is runnable.
     */
    @JvmStatic
    public fun run(): Tasklet? = runWatched(0, 0, soft = false, total = false, threadblock = false)

    /**
     * [run] with a watchdog budget of [timeout] ticks per timeslice (a timeslice ends at every
     * switch; with [totaltimeout], the budget counts from the start across switches). A tick is one
     * switch point of the running tasklet: any operation that may switch, or [tick], which busy
     * loops call as their preemption point. When the budget is spent, the running tasklet is
     * interrupted where it would otherwise go on: taken out of the runnables queue (paused, its
     * operation completed) and returned, unless it is atomic or under [switchTrap], in which case
     * the interrupt waits for its next switch point. With [soft], nothing is removed: `run()` returns
     * null at the next switch instead.
     *
     * Only the outermost `run()` with a budget sets one ("the first timed run wins"); nested calls
     * behave as plain `run()`. With [threadblock], when this thread's queue empties while some of
     * its tasklets wait (for instance on a channel another thread will send to), the thread parks
     * until another thread wakes one of them instead of returning. `timeout <= 0` is a plain [run],
     * all flags ignored, as in Stackless.
     */
    @JvmStatic
    @JvmOverloads
    public fun run(timeout: Int, threadblock: Boolean = false, soft: Boolean = false, totaltimeout: Boolean = false): Tasklet? =
        runWatched(timeout.toLong(), 0, soft, totaltimeout, threadblock && timeout > 0)

    /** [run] with a watchdog budget in time per timeslice; see [run] with ticks for what is interrupted where. */
    @JvmStatic
    @JvmOverloads
    public fun run(timeout: java.time.Duration, soft: Boolean = false): Tasklet? =
        runWatched(0, timeout.toNanos().coerceAtLeast(1), soft, total = false, threadblock = false)

    /** [run] with a watchdog budget in time per timeslice (Kotlin [kotlin.time.Duration]). */
    @JvmSynthetic
    public fun run(timeout: kotlin.time.Duration, soft: Boolean = false): Tasklet? =
        runWatched(0, timeout.inWholeNanoseconds.coerceAtLeast(1), soft, total = false, threadblock = false)

    /**
     * Runs the calling thread's tasklets until every one of them has ended: while they all wait for
     * other threads (on a shared channel, for a remote insert), the thread parks (no CPU) instead of
     * returning. The idiom for a worker thread: create its tasklets, then `runAll()`.
     *
     * It returns early, like [run], when an uncaught exception of a tasklet is thrown from it, or
     * when no thread at all can make progress any more (a global deadlock: the tasklets stay blocked).
     *
     * @throws SwitchTrapException under [switchTrap].
     */
    @JvmStatic
    public fun runAll() {
        runWatched(RUN_ALL, 0, soft = false, total = false, threadblock = true)
    }

    private const val RUN_ALL = -1L

    private fun runWatched(ticks: Long, nanos: Long, soft: Boolean, total: Boolean, threadblock: Boolean): Tasklet? =
        Scheduler.blockingSwitchPoint { s, me -> s.runWatchdog(me, ticks, nanos, soft, total, threadblock) } as? Tasklet

    /**
     * The suspend form of [run] for tasklet bodies: the calling tasklet becomes a nested watchdog and
     * resumes when nothing else is runnable, when an uncaught exception is thrown to it, or when
     * someone runs it; the pop rules of docs/stackless.md §4.4 apply to the watchdogs nested inside it.
     * Outside a tasklet it is [run].
     */
    public suspend fun runNested(
        timeout: Int = 0,
        soft: Boolean = false,
        totaltimeout: Boolean = false,
    ): Tasklet? = suspendCoroutineUninterceptedOrReturn<Any?> { cont ->
        val me = cont.taskletOrNull()
            ?: return@suspendCoroutineUninterceptedOrReturn run(timeout, soft = soft, totaltimeout = totaltimeout)
        me.suspendIf(me.ownerScheduler().runWatchdog(me, timeout.toLong(), 0, soft, totaltimeout, threadblock = false), cont)
    } as? Tasklet

    /**
     * A watchdog tick: the preemption point of a busy loop. Under a timed [run] whose budget is
     * spent, the calling tasklet is interrupted here; otherwise it returns at once.
     */
    public suspend fun tick(): Unit = suspendCoroutineUninterceptedOrReturn { cont ->
        val me = cont.taskletOrNull() ?: return@suspendCoroutineUninterceptedOrReturn Unit
        val s = me.ownerScheduler()
        if (!s.afterSwitchPoint(me, false, yieldPoint = true)) return@suspendCoroutineUninterceptedOrReturn Unit
        @Suppress("UNCHECKED_CAST")
        me.frame = cont as kotlin.coroutines.Continuation<Any?>
        kotlin.coroutines.intrinsics.COROUTINE_SUSPENDED
    }

    /** The blocking twin of [tick], for non-suspend code in a tasklet. */
    @JvmStatic
    public fun tickBlocking() {
        val s = Scheduler.forCurrentThread()
        val me = s.current!!
        if (!s.afterSwitchPoint(me, false, yieldPoint = true)) return
        s.parkUntilResumed(me)
        me.claim()
    }

    /**
     * Lets the other runnable tasklets run: the caller goes to the end of the round. Returns
     * [retval] (the caller's own tempval when it resumes; by default the caller itself).
     *
     * @throws SwitchTrapException under [switchTrap] when another tasklet is runnable.
     */
    public suspend fun schedule(retval: Any? = SELF): Any? = suspendCoroutineUninterceptedOrReturn { cont ->
        val me = cont.taskletOrNull() ?: return@suspendCoroutineUninterceptedOrReturn scheduleBlocking(self(retval))
        me.suspendIf(me.ownerScheduler().schedule(me, if (retval === SELF) me else retval), cont)
    }

    /** The blocking twin of [schedule]. */
    @JvmStatic
    @JvmOverloads
    public fun scheduleBlocking(retval: Any? = current): Any? = Scheduler.blockingSwitchPoint { s, me -> s.schedule(me, retval) }

    /**
     * Like [schedule], but the caller leaves the runnables queue (becomes paused) until someone
     * inserts or runs it; returns its tempval then ([retval] unless replaced meanwhile). With nothing
     * else runnable, the watchdog is woken (docs/stackless.md §4.8).
     *
     * @throws DeadlockException when nothing is runnable and the watchdog itself is blocked.
     */
    public suspend fun scheduleRemove(retval: Any? = SELF): Any? = suspendCoroutineUninterceptedOrReturn { cont ->
        val me = cont.taskletOrNull()
            ?: return@suspendCoroutineUninterceptedOrReturn scheduleRemoveBlocking(self(retval))
        me.suspendIf(me.ownerScheduler().scheduleRemove(me, if (retval === SELF) me else retval), cont)
    }

    /** The blocking twin of [scheduleRemove]. */
    @JvmStatic
    @JvmOverloads
    public fun scheduleRemoveBlocking(retval: Any? = current): Any? =
        Scheduler.blockingSwitchPoint { s, me -> s.scheduleRemove(me, retval) }

    private fun self(retval: Any?): Any? = if (retval === SELF) current else retval

    /**
     * Adds [change] to the calling thread's switch trap level and returns the previous level. While
     * the level is non-zero, any operation that would switch to another tasklet throws
     * [SwitchTrapException] and changes nothing.
     */
    @JvmStatic
    public fun switchTrap(change: Int): Int {
        val s = Scheduler.forCurrentThread()
        val old = s.switchTrap
        s.switchTrap = old + change
        return old
    }

    /** Installs the schedule callback (for every thread; null removes it) and returns the previous one. */
    @JvmStatic
    public fun setScheduleCallback(cb: ScheduleCallback?): ScheduleCallback? {
        val old = Scheduler.scheduleCallback
        Scheduler.scheduleCallback = cb
        return old
    }

    /** The schedule callback, or null. */
    @JvmStatic
    public fun getScheduleCallback(): ScheduleCallback? = Scheduler.scheduleCallback

    /** Installs the channel callback (for every thread; null removes it) and returns the previous one. */
    @JvmStatic
    public fun setChannelCallback(cb: ChannelCallback?): ChannelCallback? {
        val old = Scheduler.channelCallback
        Scheduler.channelCallback = cb
        return old
    }

    /** The channel callback, or null. */
    @JvmStatic
    public fun getChannelCallback(): ChannelCallback? = Scheduler.channelCallback

    /** Installs the handler of uncaught tasklet exceptions (null: they go to the watchdog) and returns the previous one. */
    @JvmStatic
    public fun setErrorHandler(h: ErrorHandler?): ErrorHandler? {
        val old = Scheduler.errorHandler
        Scheduler.errorHandler = h
        return old
    }

    /** The error handler, or null. */
    @JvmStatic
    public fun getErrorHandler(): ErrorHandler? = Scheduler.errorHandler

    /**
     * The main tasklet, current tasklet and run count of the thread [threadId] (the calling thread by
     * default).
     *
     * @throws IllegalStateException "Thread id not found" when that thread has no scheduler.
     */
    @JvmStatic
    @JvmOverloads
    public fun getThreadInfo(threadId: Long = Thread.currentThread().id): ThreadInfo {
        val s = if (threadId == Thread.currentThread().id) Scheduler.forCurrentThread() else Scheduler.forThreadId(threadId)
        if (s == null) throw IllegalStateException("Thread id not found")
        return ThreadInfo(s.main, if (s.runCount == 0) null else s.current, s.runCount)
    }

    /**
     * Runs [block] with the current tasklet atomic (not interrupted by the watchdog), restoring the
     * previous flag afterwards, so that atomic sections nest.
     */
    @JvmStatic
    public inline fun <R> atomic(block: () -> R): R {
        val t = current
        val old = t.setAtomic(true)
        try {
            return block()
        } finally {
            t.setAtomic(old)
        }
    }

    /**
     * A readable report of the calling thread's scheduler: every alive tasklet with its state, the
     * channel it waits on and its suspended stack (rebuilt from the continuation frames of a soft
     * tasklet, read from the carrier thread of a hard one).
     */
    @JvmStatic
    public fun dump(): String = Dump.of(Scheduler.forCurrentThread())
}
