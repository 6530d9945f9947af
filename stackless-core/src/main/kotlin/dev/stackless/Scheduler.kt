package dev.stackless

import java.util.concurrent.ConcurrentHashMap
import kotlin.coroutines.Continuation

/**
 * One thread's scheduler: its state, and the registry of all schedulers (the companion).
 *
 * The state is here; what acts on it lives in one file per concept, as extension functions on
 * this class (compiled to static methods: no indirection on the hot path):
 * - RunQueue.kt: the runnables queue and the registry of alive tasklets;
 * - SwitchOperations.kt: schedule, scheduleRemove, run/switch, throw/kill, the slow-path checks;
 * - Watchdog.kt: Stackless.run()'s watchdog stack and the budget of a timed run;
 * - TaskletEnd.kt: what happens when a tasklet's body returns or throws;
 * - Baton.kt: the trampoline (pump), the baton, carrier and loop threads, blocking calls;
 * - ForeignWaits.kt: tasklets inside kotlinx.coroutines suspensions;
 * - RemoteOperations.kt: what other threads post to the Inbox, and how it is applied;
 * - Deadlocks.kt: the idle wait, global deadlock detection and the report;
 * - Timer.kt: running due timers between tasklets;
 * - ThreadEnds.kt: detaching the tasklets of a thread that has ended.
 *
 * Every operation is called by the thread that holds the [baton]. Nothing allocates or locks on
 * the way of a switch.
 */
internal class Scheduler private constructor(@JvmField val thread: Thread) {
    /** The main tasklet; replaced by a temporary one when the thread has ended and hard tasklets are killed. */
    @JvmField var main: Tasklet = Tasklet.newMain(this, thread)

    /** The running tasklet; null only transiently while the queue is empty inside an operation. */
    @JvmField var current: Tasklet? = null

    @JvmField var runCount: Int = 0
    @JvmField var switchTrap: Int = 0

    /** Tasklets inside [Stackless.run], innermost last (docs/stackless.md §1.4, §4.4). */
    @JvmField val watchdogs: ArrayList<Tasklet> = ArrayList()

    /**
     * Non-zero when an operation must look closer before it starts: a callback is running ([IN_TIMER],
     * [IN_SCHEDULE_CALLBACK] or [IN_CHANNEL_CALLBACK] added), or tasklets of this scheduler have an exception
     * waiting for their next switch point (one each). One field, so that the hot path checks once.
     */
    @JvmField var slowPath: Int = 0

    /** True while a timer, schedule or channel callback runs: nothing may switch, a throw can only be pending. */
    val inCallback: Boolean get() = slowPath >= IN_CHANNEL_CALLBACK

    /** The timers of this thread (stacklesslib's event queue, kotlinx `delay`). */
    @JvmField val timers: TimerHeap = TimerHeap()

    /**
     * Tasklets of this thread waiting for something another thread will post here (a kotlinx
     * resumption, a thread-pool result). While non-zero, an idle thread is waiting, not deadlocked.
     */
    @JvmField var foreignWaits: Int = 0

    /** Switches left before the trampoline next looks at the clock for due timers. */
    @JvmField var timerCountdown = TIMER_CHECK_INTERVAL

    /** Loop threads parked until they get the baton; only the baton holder touches this. */
    @JvmField val idleLoops = ArrayDeque<Thread>()

    /** The thread allowed to run this scheduler's tasklets now; handed over with park/unpark. */
    @Volatile @JvmField var baton: Thread = thread

    /** Every alive tasklet (and the blocked ones), for [Stackless.dump] and the deadlock report. */
    @JvmField var firstAlive: Tasklet? = null
    @JvmField var lastAlive: Tasklet? = null
    @JvmField var aliveCount: Int = 0

    /** Requests of other threads, applied by this scheduler's thread at its next switch or while idle. */
    @JvmField val inbox: Inbox = Inbox()

    /** Parked in [idleWait] or awaitShared (ChannelSharing.kt): a post must unpark the baton holder. */
    @Volatile @JvmField var parked: Boolean = false

    /** Idle: nothing runnable, parked until another thread posts (changed under [Threads]). */
    @JvmField var idle: Boolean = false

    /** Set by the thread that found that no thread can make progress: this idle scheduler deadlocked too. */
    @Volatile @JvmField var deadlocked: String? = null

    /** The thread has ended and its tasklets were detached (docs/stackless.md §5.4). */
    @Volatile @JvmField var detached: Boolean = false

    /** The watchdog whose `run()` waits for other threads instead of returning when the queue empties (threadblock). */
    @JvmField var threadblockOwner: Tasklet? = null

    init {
        append(main)
        register(main)
    }

    /** The budget of the outermost timed `run()`, or null: the only thing the hot path checks. */
    @JvmField var budget: RunBudget? = null

    /** Set while the loop drains with no tasklet running: the current one is still suspended. */
    @JvmField var betweenTasklets = false

    /** True while [drain] runs: a drain reached from inside it (through a throw) leaves the rest to it. */
    @JvmField var draining = false

    /** The report of the deadlock that made the last [awaitWork] return false, or null if it stopped on request. */
    @JvmField var deadlockReport: String? = null

    /** Resumes until pump() next checks the invariants, in a run with -Dstackless.checkInvariants=true. */
    @JvmField var invariantCountdown: Int = 0

    /** [watchThreadEnd] was called: [ThreadEnds] watches (or is about to watch) the thread. */
    @Volatile @JvmField var endWatched = false

    override fun toString(): String = "Scheduler(thread '${thread.name}', runCount=$runCount)"

    companion object {
        /** The scheduler a thread runs: its own, or its owner's on a carrier, loop or reaper thread. */
        @JvmField val local: ThreadLocal<Scheduler> = ThreadLocal<Scheduler>()

        /** Guards the idle flags of all schedulers, so that exactly one thread finds a global deadlock. */
        @JvmField val idleLock: Any = Any()

        /** Every scheduler whose thread has not been detached, by thread id. */
        @JvmField val byThreadId: ConcurrentHashMap<Long, Scheduler> = ConcurrentHashMap<Long, Scheduler>()

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

        /** The scheduler of the calling thread, or null if it has none: nothing is created. */
        fun forCurrentThreadOrNull(): Scheduler? = local.get()

        /** The schedulers whose thread's end must be watched ([watchThreadEnd]) and has not been acted on yet. */
        fun watchRequests(): List<Scheduler> = byThreadId.values.filter { it.endWatched && !it.detached }

        fun forThreadId(id: Long): Scheduler? = byThreadId[id]?.takeIf { it.checkLive() }

        fun threadIds(): List<Long> = byThreadId.values.filter { it.checkLive() }.map { it.thread.id }.sorted()

        /** Every scheduler whose thread is alive, for the deadlock report. */
        fun all(): List<Scheduler> = byThreadId.values.filter { !it.detached && it.thread.isAlive }

        /** Runs [op] for the current tasklet of the calling thread; blocks until it is resumed if it switched. */
        inline fun blockingSwitchPoint(op: (Scheduler, Tasklet) -> Boolean): Any? {
            val s = forCurrentThread()
            val me = s.current ?: throw IllegalStateException("A timer callback cannot switch tasklets or use a channel")
            if (s.afterSwitchPoint(me, op(s, me))) s.parkUntilResumed(me)
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
