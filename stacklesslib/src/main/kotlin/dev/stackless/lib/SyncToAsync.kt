package dev.stackless.lib

import dev.stackless.DeadlockException
import dev.stackless.InternalStacklessApi
import dev.stackless.SchedulerHooks
import dev.stackless.Stackless
import dev.stackless.Tasklet
import java.util.function.Consumer

/**
 * Lets a tasklet call an API that reports through callbacks, and wait for the answer as if the call
 * were synchronous (stacklesslib's `fittings.SyncToAsync`). [initiateCall] starts the operation and
 * hands it [onSuccess] and [onFailure] (or [returnValue] and [raiseException]) as its callbacks;
 * [call] runs it and waits until one of them, or [cancel], gives the outcome.
 *
 * ```
 * val fetch = SyncToAsync.of<String> { s -> client.fetch(url, s::onSuccess, s::onFailure) }
 * val body = fetch.call()          // in a tasklet; callBlocking() elsewhere
 * ```
 *
 * The first outcome wins; whatever comes after it, or after the caller left (a kill, an enclosing
 * [timeout]), goes to [abandonedSuccess] / [abandonedFailure]. An outcome that arrives while
 * [initiateCall] still runs (a callback fired synchronously) is kept for the caller. An outcome that
 * arrived just before a kill or a timeout is not lost: [call] returns it and the interrupt is raised
 * at the caller's next switch point (or, for a timeout whose scope ends first, not at all).
 *
 * The callbacks may run on any thread: on the caller's own thread (a [MainLoop] timer, another
 * tasklet) the caller is put back into its run queue directly; from another thread it is woken
 * through its scheduler. While it waits, the caller is paused. Set [crossThread] when the callbacks
 * come from another thread (a thread pool, an I/O library): the caller's thread then parks while
 * waiting instead of reporting a deadlock when it has nothing else to do. It is off by default so
 * that a callback that is never called on this thread still ends in a [dev.stackless.DeadlockException]
 * rather than a silent hang; the waiting thread cannot know in advance where a callback will come from.
 *
 * An instance serves one call: the callbacks carry no identity of the call they answer, so a late
 * answer to an earlier call could otherwise be taken for the next one's. Create one per call.
 */
@OptIn(InternalStacklessApi::class)
public abstract class SyncToAsync<T> @JvmOverloads constructor(
    /** True if the callbacks come from other threads; see the class comment. */
    public val crossThread: Boolean = false,
) {
    private val lock = Any()
    private var state = READY
    private var caller: Tasklet? = null
    private var waiting = false
    private var outcome: Result<T>? = null

    /**
     * Starts the asynchronous operation, on the calling tasklet; it must eventually call [onSuccess],
     * [onFailure], [returnValue] or [raiseException] (or someone calls [cancel]). An exception thrown
     * here ends the call with that exception; callbacks that come later go to the abandoned hooks.
     */
    protected abstract fun initiateCall()

    /**
     * Starts the operation with [initiateCall] and waits for its outcome: returns the value given to
     * [onSuccess] or [returnValue].
     *
     * @throws AsyncCallFailedException when the operation reports a failure through [onFailure].
     * @throws TaskletCancelledException when [cancel] is called first.
     * @throws Throwable what was given to [raiseException], or what [initiateCall] threw.
     * @throws IllegalStateException if this instance was already called.
     */
    public suspend fun call(): T = perform { await(it) }

    /** The blocking twin of [call], for Java, for the main tasklet and for non-suspend code. */
    public fun callBlocking(): T = perform { awaitBlocking(it) }

    /** Success callback: the caller gets [value]; if it has left, [abandonedSuccess] gets it. Any thread. */
    public fun onSuccess(value: T) {
        if (!returnValue(value)) abandonedSuccess(value)
    }

    /**
     * Failure callback: the caller gets an [AsyncCallFailedException] caused by [error]; if it has
     * left, [abandonedFailure] gets [error]. Any thread.
     */
    public fun onFailure(error: Throwable) {
        if (!raiseException(AsyncCallFailedException(error))) abandonedFailure(error)
    }

    /** Gives [value] to the caller; false (and nothing else happens) if the call is over or already answered. */
    public fun returnValue(value: T): Boolean = deliver(Result.success(value))

    /** Makes the caller throw [e] itself; false (and nothing else happens) if the call is over or already answered. */
    public fun raiseException(e: Throwable): Boolean = deliver(Result.failure(e))

    /**
     * Ends the waiting call with a [TaskletCancelledException] carrying [args], without switching
     * (from a tasklet, a timer callback or another thread); the operation itself goes on and its late
     * outcome goes to the abandoned hooks. Returns false, doing nothing, if no call is in progress or
     * it has already been answered.
     */
    public fun cancel(vararg args: Any?): Boolean = deliver(Result.failure(TaskletCancelledException(args.toList())))

    /** Called with a value that came after the call was over. Does nothing by default. */
    protected open fun abandonedSuccess(value: Any?) {}

    /** Called with a failure that came after the call was over. Passes it to [abandonedSuccess] by default. */
    protected open fun abandonedFailure(error: Throwable) {
        abandonedSuccess(error)
    }

    override fun toString(): String = "SyncToAsync(" + synchronized(lock) {
        when (state) {
            READY -> "ready"
            CALLING -> if (outcome != null) "answered" else "waiting: $caller"
            else -> "over"
        }
    } + ")"

    private fun start(): Tasklet {
        val me = Stackless.current
        synchronized(lock) {
            check(state == READY) { "a SyncToAsync serves one call; create a new one for each call" }
            state = CALLING
            caller = me
        }
        return me
    }

    private inline fun perform(wait: (Tasklet) -> Result<T>): T {
        val me = start()
        try {
            initiateCall()
        } catch (e: Throwable) {
            finish()
            throw e
        }
        val result = try {
            wait(me)
        } catch (e: Throwable) {
            return keepArrived(me, e)
        }
        finish()
        return result.getOrThrow()
    }

    private suspend fun await(me: Tasklet): Result<T> {
        if (me.isMain) return awaitBlocking(me) // called outside a tasklet body
        // A callback that comes in while we wait finds `waiting` and puts us back after we leave the queue.
        return awaitWith { Stackless.scheduleRemove() }
    }

    private fun awaitBlocking(me: Tasklet): Result<T> = awaitWith {
        if (!me.isMain || SchedulerHooks.runCount() > 1) {
            Stackless.scheduleRemoveBlocking()
        } else {
            // The main tasklet alone would come straight back from scheduleRemove: it parks
            // instead, unless nothing at all (tasklet, timer, other thread) could answer.
            if (!SchedulerHooks.waitForWork()) throw DeadlockException("Deadlock: the last runnable tasklet cannot be blocked.")
            // A switch point, for a kill or a timeout that came while it was parked.
            Stackless.scheduleBlocking()
        }
    }

    /** The wait of [await] and [awaitBlocking] around their way of leaving the run queue, [park]. */
    private inline fun awaitWith(park: () -> Unit): Result<T> {
        if (crossThread) SchedulerHooks.beginForeignWait()
        try {
            while (true) {
                synchronized(lock) {
                    outcome?.let { return it }
                    waiting = true
                }
                park()
            }
        } finally {
            synchronized(lock) { waiting = false }
            if (crossThread) SchedulerHooks.endForeignWait()
        }
    }

    /** The call is over: later outcomes are abandoned. Returns the outcome that had arrived, if any. */
    private fun finish(): Result<T>? = synchronized(lock) {
        state = OVER
        caller = null
        outcome
    }

    /**
     * The call ended by [e]: an outcome that had already arrived is returned (thrown, for a failure)
     * and [e] waits for the caller's next switch point, as for a channel operation that completed.
     */
    private fun keepArrived(me: Tasklet, e: Throwable): T {
        val arrived = finish() ?: throw e
        SchedulerHooks.throwPending(me, e)
        return arrived.getOrThrow()
    }

    private fun deliver(o: Result<T>): Boolean {
        val wake: Tasklet
        synchronized(lock) {
            if (state != CALLING || outcome != null) return false
            outcome = o
            if (!waiting) return true
            wake = caller!!
        }
        // Inserted directly from its own thread (a timer, a tasklet), through its scheduler's inbox
        // from any other thread.
        ForeignWake.wake(wake)
        return true
    }

    public companion object {
        private const val READY = 0
        private const val CALLING = 1
        private const val OVER = 2

        /**
         * A [SyncToAsync] whose [initiateCall] is [initiate], given the instance so that it can pass
         * its callbacks on: `SyncToAsync.of(s -> api.start(s::onSuccess, s::onFailure))`.
         */
        @JvmStatic
        @JvmOverloads
        public fun <T> of(crossThread: Boolean = false, initiate: Consumer<SyncToAsync<T>>): SyncToAsync<T> =
            object : SyncToAsync<T>(crossThread) {
                override fun initiateCall() = initiate.accept(this)
            }
    }
}
