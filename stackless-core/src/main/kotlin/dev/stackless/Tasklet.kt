package dev.stackless

import kotlin.coroutines.Continuation
import kotlin.coroutines.intrinsics.createCoroutineUnintercepted
import kotlin.coroutines.intrinsics.COROUTINE_SUSPENDED
import kotlin.coroutines.intrinsics.suspendCoroutineUninterceptedOrReturn

/**
 * A tasklet: a cheap, cooperatively scheduled task with a Kotlin `suspend` body (soft-switched)
 * or a Java [Runnable] body ([Tasklet.of], hard-switched on a carrier thread when it blocks).
 *
 * A tasklet belongs to the thread that created it and runs only when that thread's scheduler
 * switches to it. Its life cycle is Stackless': *bound* ([bind]), *runnable* ([setup], [insert]),
 * *current*, *blocked* on a [Channel], *paused* ([remove], [Stackless.scheduleRemove], [switch]) and
 * *dead* (its body returned or threw). Every operation that can switch has a `suspend` form for
 * tasklet bodies and a `…Blocking` twin for Java, for plain threads (the main tasklet) and for
 * non-suspend code inside a tasklet.
 *
 * Misuse throws [IllegalStateException] with Stackless' message text; its `toString()` adds the
 * tasklet's name and state.
 */
public class Tasklet private constructor(
    @Transient @JvmField @JvmSynthetic internal var scheduler: Scheduler?,
    body: Any?,
) : java.io.Serializable {

    /** A tasklet of the calling thread bound to [body] (not yet runnable: call [setup]). */
    @JvmOverloads
    public constructor(body: (suspend () -> Unit)? = null) : this(Scheduler.forCurrentThread(), body)

    // State table: the legal combinations of the flags below, for a tasklet of scheduler s. Every
    // other combination is a bug; checkInvariants() (Invariants.kt) checks this table.
    //
    //   state             aliveFlag inRunQueue blocked channel foreignWaiting  entered by
    //   bound             false     false      0       null    false           constructor, bind()
    //   runnable          true      true       0       null    false           setup(), insert(), a match, a wake-up
    //   current           true      true       0       null    false           a switch (s.current === this)
    //   blocked           true      false      ±1      ch      false           send()/receive() with no partner
    //   matched remotely  true      false*     ±1      ch      false           another thread's match (wakePending)
    //   paused            true      false      0       null    false           remove(), scheduleRemove(), switch(), an interrupt
    //   foreign wait      true      false      0       null    true            a kotlinx suspension (s.foreignWaits counts it)
    //   dead              false     false      0       null    false           its body returned or threw, kill()
    //
    // * true if a throw made it runnable before its wake-up mail was applied; wake() then keeps the
    //   value and defers the exception.
    //
    // Orthogonal flags: opDone (its last channel operation completed and it has not run since: a
    // throw waits in pendingError, counted in s.slowPath, instead of replacing the result);
    // inWatchdogStack (inside Stackless.run(), on s.watchdogs); atomicFlag; isMainFlag. A soft
    // tasklet has a frame while it is suspended and none while it runs; a hard tasklet has its
    // hardBody until its carrier starts, then a carrier, never both. pendingError, hardBody and the
    // kotlinx fields live in extras, allocated when one of them is first set.

    // Links of the runnables queue (circular) or of a channel's waiters (linear).
    @JvmField @JvmSynthetic internal var nextLink: Tasklet? = null
    @JvmField @JvmSynthetic internal var prevLink: Tasklet? = null

    // Links of the scheduler's registry of alive tasklets, and whose registry holds them: after a
    // bindThread() to another thread the old one lets go first, on its own thread.
    @JvmField @JvmSynthetic internal var allNext: Tasklet? = null
    @JvmField @JvmSynthetic internal var allPrev: Tasklet? = null
    @Transient @JvmField @JvmSynthetic internal var registry: Scheduler? = null

    /** Its last channel operation completed and it has not run since: a throw must not replace the result. */
    @JvmField @JvmSynthetic internal var opDone: Boolean = false

    /**
     * The state few tasklets ever need ([TaskletExtras]), allocated when the first of it is set: a
     * soft tasklet blocked in `receive()` stays small (the scale tests count bytes per tasklet).
     */
    @JvmField @JvmSynthetic internal var extras: TaskletExtras? = null

    /** The channel this tasklet waits on, with [blocked] giving the direction. */
    @JvmField @JvmSynthetic internal var channel: Channel<*>? = null

    /**
     * Matched on [channel] by another thread, which took it out of the channel's waiters and posted
     * its wake-up: until its own thread applies that, it is blocked but no longer waiting. Set by the
     * matching thread under the channel's lock; read under it ([Channel.withdraw]); cleared by its
     * own thread when it applies the wake-up.
     */
    @JvmField @JvmSynthetic internal var wakePending: Boolean = false

    /** A soft tasklet's suspended continuation (also before it starts); null while it runs. */
    @JvmField @JvmSynthetic internal var frame: Continuation<Any?>? = null

    /**
     * Suspended in a kotlinx.coroutines function (`delay`, `withContext`, …) rather than at a
     * Stackless switch point: out of the run queue until its resumption is dispatched back.
     */
    @JvmField @JvmSynthetic internal var foreignWaiting: Boolean = false

    /**
     * Counts the waits for another thread this tasklet began and ended ([SchedulerHooks.beginForeignWait]):
     * a wake-up posted during one wait is dropped if it arrives after that wait has ended.
     */
    @Volatile @JvmField @JvmSynthetic internal var foreignEpoch: Int = 0

    /** The thread this tasklet's Java frames live on: hard tasklets, the main tasklet, pinned soft tasklets. */
    @Transient @JvmField @JvmSynthetic internal var carrier: Thread? = null

    @JvmField @JvmSynthetic internal var aliveFlag: Boolean = false
    @JvmField @JvmSynthetic internal var inRunQueue: Boolean = false
    @JvmField @JvmSynthetic internal var inWatchdogStack: Boolean = false
    @JvmField @JvmSynthetic internal var isMainFlag: Boolean = false
    @JvmField @JvmSynthetic internal var atomicFlag: Boolean = false
    private var nameField: String? = null

    /**
     * The tasklet's value slot: the bound body before [setup], a value in flight on a channel, the
     * value that [Stackless.schedule], [run] or [switch] return when the tasklet resumes (read and
     * reset to null then), or an exception waiting to be thrown in it.
     */
    public var tempval: Any? = body

    /** 0, or the direction the tasklet is blocked in: 1 waiting to send, -1 waiting to receive. */
    public var blocked: Int = 0
        @JvmSynthetic internal set

    /** When true, a channel operation that would block throws instead ("this tasklet does not like to be blocked."). */
    public var blockTrap: Boolean = false

    /** Alive: set up, not yet ended, and its thread still exists. */
    public val alive: Boolean get() {
        val s = scheduler ?: return false
        return aliveFlag && (s.isHere() || s.checkLive())
    }

    /** In the runnables queue or blocked on a channel. */
    public val scheduled: Boolean get() = inRunQueue || blocked != 0 || foreignWaiting

    /** Alive but neither runnable nor blocked: it runs again only when someone inserts or runs it. */
    public val paused: Boolean get() = alive && !scheduled

    /** True while the watchdog must not interrupt this tasklet ([setAtomic], [Stackless.atomic]). */
    public val atomic: Boolean get() = atomicFlag

    /** True for its thread's main tasklet (the thread itself, outside any tasklet body). */
    public val isMain: Boolean get() = isMainFlag

    /** True when this is the running tasklet of its thread. */
    public val isCurrent: Boolean get() = scheduler?.current === this

    /** The next tasklet in the runnables queue (circular) or in the channel's waiters (null at the end). */
    public val next: Tasklet? get() = nextLink

    /** The previous tasklet in the runnables queue (circular) or in the channel's waiters (null at the head). */
    public val prev: Tasklet? get() = prevLink

    /** The id of the owning thread, -1 once that thread has ended. */
    public val threadId: Long get() {
        val s = scheduler ?: return -1L
        return if (s.isHere() || s.checkLive()) s.thread.id else -1L
    }

    /** False for a hard tasklet that has started: its state lives on a thread's stack and cannot be serialized. */
    public val restorable: Boolean get() = carrier == null || isMainFlag

    /** Shown in dumps, error messages and [toString]; defaults to `tasklet-<identity>`. */
    public var name: String
        get() = nameField ?: if (isMainFlag) "main" else "tasklet-" + Integer.toHexString(System.identityHashCode(this))
        set(value) {
            nameField = value
        }

    @JvmSynthetic internal fun ownerScheduler(): Scheduler =
        scheduler ?: throw TaskletStateException("tasklet has no thread", this)

    // ---------------------------------------------------------------------------------------------
    // Life cycle

    /**
     * Binds [body] (a `suspend () -> Unit` or, from Java, see [Tasklet.of]), discarding any
     * suspended execution without running its `finally` blocks. With [paused] false the tasklet is
     * *bound* (or *not alive* when [body] is null); with [paused] true its execution is created but
     * not queued, reusing the bound body when [body] is null (Python's `bind(f, args)`).
     *
     * @throws IllegalStateException "can't (re)bind the current tasklet", "tasklet is scheduled",
     *   "can't unbind the main tasklet", "tasklet has C state on its stack" (a hard tasklet that has
     *   started, or a main tasklet), "the tasklet was not bound to a function".
     */
    public fun bind(body: (suspend () -> Unit)?, paused: Boolean = false): Tasklet = bindAny(body, paused)

    /** [bind] with a trailing lambda: `t.bind { … }` leaves the tasklet bound, not alive. */
    public fun bind(body: suspend () -> Unit): Tasklet = bindAny(body, false)

    private fun bindAny(body: Any?, paused: Boolean): Tasklet {
        // A tasklet whose thread has ended can still be unbound or given a new body (docs/stackless.md §5.4).
        val s = scheduler ?: if (paused) throw TaskletStateException("tasklet has no thread", this) else null
        if (s != null && s.current === this) throw TaskletStateException("can't (re)bind the current tasklet", this)
        if (scheduled) throw TaskletStateException("tasklet is scheduled", this)
        if (isMainFlag && !paused) throw TaskletStateException("can't unbind the main tasklet", this)
        checkNoThreadStack()
        if (!paused) {
            discardFrame(s)
            tempval = body
            return this
        }
        val function = body ?: tempval ?: throw TaskletStateException("the tasklet was not bound to a function", this)
        if (function !is Runnable && function !is Function1<*, *>) {
            throw IllegalArgumentException("tasklet function must be a callable or None")
        }
        discardFrame(s)
        tempval = null
        start(s!!, function)
        return this
    }

    /**
     * A started hard tasklet (or a main tasklet) has frames on a thread's stack, which cannot be
     * dropped without unwinding them: Stackless' "C state".
     */
    private fun checkNoThreadStack() {
        if (carrier != null) throw TaskletStateException("tasklet has C state on its stack", this)
    }

    private fun discardFrame(s: Scheduler?) {
        if (aliveFlag) {
            s?.unregister(this)
            aliveFlag = false
        }
        frame = null
        hardBody = null
    }

    @Suppress("UNCHECKED_CAST")
    private fun start(s: Scheduler, function: Any) {
        when (function) {
            is Runnable -> hardBody = function
            else -> frame = (function as suspend () -> Unit)
                .createCoroutineUnintercepted(TaskletCompletion(this)) as Continuation<Any?>
        }
        aliveFlag = true
        s.register(this)
    }

    /**
     * Makes a bound tasklet alive and appends it to the end of its thread's runnables queue.
     *
     * @throws IllegalStateException "tasklet is alive", "the tasklet was not bound to a function".
     */
    public fun setup(): Tasklet {
        val s = ownerScheduler()
        if (!s.isHere()) {
            if (aliveFlag) throw TaskletStateException("tasklet is alive", this)
            if (tempval == null) throw TaskletStateException("the tasklet was not bound to a function", this)
            s.postFor(this, Mail.SETUP, null, "tasklet has no thread")
            return this
        }
        if (alive) throw TaskletStateException("tasklet is alive", this)
        bindAny(null, paused = true)
        s.append(this)
        return this
    }

    /** Same as [setup]: `Tasklet { … }()` starts a tasklet. */
    public operator fun invoke(): Tasklet = setup()

    /**
     * Appends a paused tasklet to the end of the runnables queue; a no-op if it is already there.
     * Never switches.
     *
     * @throws IllegalStateException "You cannot run a blocked tasklet", "You cannot run an unbound(dead) tasklet".
     */
    public fun insert(): Tasklet {
        val s = scheduler ?: throw TaskletStateException("Target thread isn't initialized", this)
        if (!s.isHere()) {
            s.checkRunnable(this)
            s.postFor(this, Mail.INSERT, null, "Target thread isn't initialized")
            return this
        }
        s.checkRunnable(this)
        if (!inRunQueue) s.append(this)
        return this
    }

    /**
     * Takes a runnable tasklet out of the runnables queue: it becomes paused. A no-op for a paused or
     * dead tasklet. Never switches.
     *
     * @throws IllegalStateException "You cannot remove a blocked tasklet.", "The current tasklet cannot be removed."
     */
    public fun remove(): Tasklet {
        val s = scheduler ?: return this
        if (blocked != 0) throw TaskletStateException("You cannot remove a blocked tasklet.", this)
        if (s.current === this) throw TaskletStateException("The current tasklet cannot be removed.", this)
        if (!s.isHere()) {
            if (s.checkLive()) s.post(Mail(Mail.REMOVE, this, null))
            return this
        }
        if (inRunQueue) s.unlink(this)
        return this
    }

    // ---------------------------------------------------------------------------------------------
    // Switching

    /**
     * Switches to this tasklet now (appending it first if it was paused); the caller stays runnable
     * and resumes when the scheduler comes round to it. Returns the caller's tempval at resumption.
     *
     * @throws IllegalStateException "You cannot run a blocked tasklet", "You cannot run an unbound(dead) tasklet".
     * @throws SwitchTrapException under [Stackless.switchTrap].
     */
    public suspend fun run(): Any? = suspendCoroutineUninterceptedOrReturn { cont ->
        val me = cont.taskletOrNull() ?: return@suspendCoroutineUninterceptedOrReturn runBlocking()
        me.suspendIf(me.ownerScheduler().runTasklet(me, this, removeCaller = false), cont)
    }

    /** The blocking twin of [run]. */
    public fun runBlocking(): Any? = Scheduler.blockingSwitchPoint { s, me -> s.runTasklet(me, this, removeCaller = false) }

    /**
     * Like [run], but the caller leaves the runnables queue (becomes paused) until someone inserts,
     * runs or switches to it again.
     */
    public suspend fun switch(): Any? = suspendCoroutineUninterceptedOrReturn { cont ->
        val me = cont.taskletOrNull() ?: return@suspendCoroutineUninterceptedOrReturn switchBlocking()
        me.suspendIf(me.ownerScheduler().runTasklet(me, this, removeCaller = true), cont)
    }

    /** The blocking twin of [switch]. */
    public fun switchBlocking(): Any? = Scheduler.blockingSwitchPoint { s, me -> s.runTasklet(me, this, removeCaller = true) }

    /**
     * Raises [TaskletExit] in this tasklet: at once (it runs before the caller continues) or, with
     * [pending], when its turn comes. A dead or never-started tasklet is simply dropped.
     */
    public suspend fun kill(pending: Boolean = false) {
        if (!dropIfDetached()) throwException(killExit(), pending)
    }

    /** The blocking twin of [kill]. */
    @JvmOverloads
    public fun killBlocking(pending: Boolean = false) {
        if (!dropIfDetached()) throwExceptionBlocking(killExit(), pending)
    }

    private fun killExit(): TaskletExit = TaskletExit().apply { fromKill = true }

    /** `kill()` of a tasklet whose thread has ended drops its frame: it is dead, and out of its channel. */
    private fun dropIfDetached(): Boolean {
        val s = scheduler
        if (s != null && (s.isHere() || s.checkLive())) return false
        drop()
        return true
    }

    /**
     * Throws [e] in this tasklet at the point where it is suspended (before its body if it has not
     * started; from `send`/`receive` if it is blocked, leaving the channel). Without [pending] the
     * tasklet runs now and the caller resumes after it; with [pending] it is only made runnable.
     * Throwing to the current tasklet throws [e] in the caller.
     *
     * @throws IllegalStateException "You cannot throw to a dead tasklet" (any [e] but [TaskletExit]).
     * @throws SwitchTrapException under [Stackless.switchTrap] when not [pending].
     */
    public suspend fun throwException(e: Throwable, pending: Boolean = false): Unit =
        suspendCoroutineUninterceptedOrReturn { cont ->
            val me = cont.taskletOrNull()
                ?: return@suspendCoroutineUninterceptedOrReturn throwExceptionBlocking(e, pending)
            val result = me.suspendIf(me.ownerScheduler().throwTo(me, this, e, pending), cont)
            if (result === COROUTINE_SUSPENDED) result else Unit
        }

    /** The blocking twin of [throwException]. */
    @JvmOverloads
    public fun throwExceptionBlocking(e: Throwable, pending: Boolean = false) {
        val s = Scheduler.forCurrentThreadOrNull()
        if (pending && s != null && s.inCallback) {
            // From a timer, schedule or channel callback, where nothing may switch.
            s.throwPending(this, e)
            return
        }
        Scheduler.blockingSwitchPoint { sc, me -> sc.throwTo(me, this, e, pending) }
    }

    /** [throwException] with `pending = false` (Stackless' `raise_exception`). */
    public suspend fun raiseException(e: Throwable): Unit = throwException(e, false)

    /** The blocking twin of [raiseException]. */
    public fun raiseExceptionBlocking(e: Throwable): Unit = throwExceptionBlocking(e, false)

    /** Sets the atomic flag (no watchdog interruption while set) and returns its previous value. */
    public fun setAtomic(flag: Boolean): Boolean {
        val old = atomicFlag
        atomicFlag = flag
        return old
    }

    /**
     * Moves a paused (or blocked) tasklet to [thread]'s scheduler, which must exist; a no-op when it
     * already belongs there.
     *
     * @throws IllegalStateException "can't (re)bind a runnable tasklet", "tasklet has C state on its stack".
     * @throws IllegalArgumentException "bad thread" when [thread] has no scheduler.
     */
    @JvmOverloads
    public fun bindThread(thread: Thread = Thread.currentThread()) {
        val here = Scheduler.forCurrentThread()
        val target = if (thread === Thread.currentThread()) here else Scheduler.forThreadId(thread.id)
        if (target === scheduler) return
        if (inRunQueue) throw TaskletStateException("can't (re)bind a runnable tasklet", this)
        checkNoThreadStack()
        if (target == null) throw IllegalArgumentException("bad thread")
        if (aliveFlag) moveRegistry(target)
        val ch = channel
        // A blocked tasklet is woken by whoever matches it: the channel must see the new owner at once.
        if (ch != null) ch.guard(here) { scheduler = target } else scheduler = target
    }

    /** The registry of the old thread lets go (on that thread) before the new one adopts it. */
    private fun moveRegistry(target: Scheduler) {
        val old = registry
        when {
            old == null || !old.checkLive() -> {
                registry = null
                // Detached just now if its thread has ended: then there is nothing to adopt.
                if (!aliveFlag) return
                if (target.isHere()) target.register(this) else target.post(Mail(Mail.ADOPT, this, null))
            }
            old.isHere() -> {
                old.unregister(this)
                if (target.isHere()) target.register(this) else target.post(Mail(Mail.ADOPT, this, null))
            }
            else -> old.post(Mail(Mail.RELEASE, this, target))
        }
    }

    private fun state(): String = when {
        scheduler == null -> "detached from its ended thread"
        isCurrent -> "current"
        blocked != 0 -> channel?.let { Deadlocks.waitDescription(this, it) } ?: "blocked"
        inRunQueue -> "runnable"
        foreignWaiting -> "waiting in a kotlinx.coroutines suspension"
        aliveFlag -> "paused"
        tempval != null -> "bound"
        else -> "not alive"
    }

    /** `Tasklet(<name>, <state>)`, the state being current, runnable, blocked …, paused, bound or not alive. */
    override fun toString(): String = "Tasklet($name, ${state()})"

    public companion object {
        /**
         * A tasklet with a Java body, not yet runnable: call [setup]. Its body runs on a carrier
         * thread of its own (virtual on JDK 21+), and its `…Blocking` calls hand the scheduler to the
         * next tasklet while they wait, so it behaves like any other tasklet.
         */
        @JvmStatic
        public fun of(body: Runnable): Tasklet = Tasklet(Scheduler.forCurrentThread(), body)

        @JvmSynthetic internal fun newMain(s: Scheduler, thread: Thread): Tasklet = Tasklet(s, null).apply {
            isMainFlag = true
            aliveFlag = true
            carrier = thread
        }
    }
}
