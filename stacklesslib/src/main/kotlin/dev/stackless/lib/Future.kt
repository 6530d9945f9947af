package dev.stackless.lib

import dev.stackless.InternalStacklessApi
import dev.stackless.SchedulerHooks
import dev.stackless.Stackless
import dev.stackless.Tasklet
import dev.stackless.TaskletExit
import java.util.concurrent.CancellationException
import java.util.function.Consumer
import kotlin.time.Duration

/**
 * The outcome of a job that runs elsewhere: in a tasklet of a [TaskletExecutor], on a thread of a
 * [ThreadPoolExecutor], or wherever the code that calls [setResult] runs (stacklesslib's
 * `futures.Future`, after Python's `concurrent.futures`).
 *
 * A future is *pending*, then *running* once its job has started, and ends *cancelled* or
 * *finished* with a value or an exception; [done] means either end. The first completion wins:
 * a later one is ignored on a cancelled future and refused on a finished one.
 *
 * Futures are thread-safe: they may be completed from any thread and awaited by tasklets of any
 * thread, including the main tasklet of a plain thread. A waiting tasklet leaves the run queue, so
 * the others run meanwhile, and is put back by the completion, without polling. A thread whose
 * tasklets all wait for futures that only another thread can complete must know it, or it reports
 * a deadlock: the executors see to that; code that completes a future itself on another thread
 * calls [setRunningOrNotifyCancel] there first.
 */
public class Future<T> {
    @Volatile private var state: Int = PENDING
    private var value: Any? = null
    private var error: Throwable? = null

    /** Done callbacks and internal listeners in registration order; dropped when the future is done. */
    private var callbacks: ArrayList<Any>? = null

    /** The tasklet running the job (a [TaskletExecutor]'s), which [cancel] kills. */
    private var runner: Tasklet? = null

    /** The id of the thread that will complete this future, [UNKNOWN] or [POOL] (some pool thread). */
    @Volatile @get:JvmSynthetic @set:JvmSynthetic internal var completer: Long = UNKNOWN

    /** Cancelled or finished. */
    public val done: Boolean get() = state >= CANCELLED

    /** Cancelled before it finished. */
    public val cancelled: Boolean get() = state == CANCELLED

    /** Its job has started and not ended. */
    public val running: Boolean get() = state == RUNNING

    /**
     * Cancels the future unless it is already done: it becomes cancelled, its done callbacks run and
     * its waiters wake up to a [CancellationException]. A job that has not started will not run; a
     * running job of a [TaskletExecutor] is killed (its tasklet gets [TaskletExit] at its next
     * switch point); a job running on a real thread cannot be stopped, and what it returns is
     * dropped. Returns false, changing nothing, when the future was already done.
     */
    public fun cancel(): Boolean {
        val victim: Tasklet?
        synchronized(this) {
            if (state >= CANCELLED) return false
            victim = runner
            state = CANCELLED
        }
        complete()
        if (victim != null) kill(victim)
        return true
    }

    /**
     * Waits until the future is done and returns its value. A null, negative or infinite [timeout]
     * waits as long as it takes; zero does not wait at all.
     *
     * @throws TaskletTimeoutException "timed out after <timeout>" when it is not done in time.
     * @throws CancellationException when the future was cancelled.
     * @throws Throwable the job's own exception, rethrown as it was, when the job failed.
     */
    public suspend fun result(timeout: Duration? = null): T {
        val budget = Budget(timeout)
        if (!awaitDone(budget) { park(this) }) throw budget.timeoutException()
        return outcome()
    }

    /** The blocking twin of [result] without a time limit, for Java and for non-suspend code. */
    public fun resultBlocking(): T = resultBlocking(null as Duration?)

    /** The blocking twin of [result]. */
    public fun resultBlocking(timeout: Duration?): T {
        val budget = Budget(timeout)
        if (!awaitDone(budget) { parkBlocking(this) }) throw budget.timeoutException()
        return outcome()
    }

    /** [resultBlocking] with a [java.time.Duration]. */
    public fun resultBlocking(timeout: java.time.Duration): T = resultBlocking(timeout.toKotlin())

    /**
     * Waits like [result] and returns the exception the job failed with (the instance itself), or
     * null when it finished with a value.
     *
     * @throws TaskletTimeoutException when it is not done in time.
     * @throws CancellationException when the future was cancelled.
     */
    public suspend fun exception(timeout: Duration? = null): Throwable? {
        val budget = Budget(timeout)
        if (!awaitDone(budget) { park(this) }) throw budget.timeoutException()
        return failure()
    }

    /** The blocking twin of [exception] without a time limit. */
    public fun exceptionBlocking(): Throwable? = exceptionBlocking(null as Duration?)

    /** The blocking twin of [exception]. */
    public fun exceptionBlocking(timeout: Duration?): Throwable? {
        val budget = Budget(timeout)
        if (!awaitDone(budget) { parkBlocking(this) }) throw budget.timeoutException()
        return failure()
    }

    /** [exceptionBlocking] with a [java.time.Duration]. */
    public fun exceptionBlocking(timeout: java.time.Duration): Throwable? = exceptionBlocking(timeout.toKotlin())

    /**
     * Marks the future running, on the thread that will complete it, and returns true; returns false
     * if it was cancelled meanwhile (then the job must not run). Waiters on other threads learn here
     * that the answer will come from this thread. (`concurrent.futures`' `set_running_or_notify_cancel`.)
     *
     * @throws IllegalStateException if the future is already running or finished.
     */
    public fun setRunningOrNotifyCancel(): Boolean = start(null, Thread.currentThread().id)

    /**
     * Finishes the future with [value]: its done callbacks run (on the calling thread, before this
     * returns) and its waiters wake up. Ignored on a cancelled future.
     *
     * @throws IllegalStateException if the future already finished.
     */
    public fun setResult(value: T) {
        finish(value, null)
    }

    /**
     * Finishes the future with the exception [e], which [result] will rethrow; otherwise as [setResult].
     *
     * @throws IllegalStateException if the future already finished.
     */
    public fun setException(e: Throwable) {
        finish(null, e)
    }

    /**
     * Calls [cb] with this future when it is done: at once, on the calling thread, if it already is
     * (and then [cb] is not kept), else on the thread that completes it. Callbacks run in the order
     * they were added; an exception thrown by one is printed and the others still run.
     */
    @JvmSynthetic // Java uses the Consumer overload: a Java lambda would fit both.
    public fun addDoneCallback(cb: (Future<T>) -> Unit) {
        addCallback(cb)
    }

    /** [addDoneCallback] for Java. */
    public fun addDoneCallback(cb: Consumer<in Future<T>>) {
        addCallback(cb)
    }

    /** Removes the first registration of [cb], if it is still waiting to be called. */
    @JvmSynthetic // Java uses the Consumer overload: a Java lambda would fit both.
    public fun removeDoneCallback(cb: (Future<T>) -> Unit) {
        removeCallback(cb)
    }

    /** [removeDoneCallback] for Java. */
    public fun removeDoneCallback(cb: Consumer<in Future<T>>) {
        removeCallback(cb)
    }

    /** `Future@<identity>(pending)`, `(running)`, `(cancelled)`, `(finished returned X)` or `(finished raised E)`. */
    override fun toString(): String {
        val what = synchronized(this) {
            when (state) {
                PENDING -> "pending"
                RUNNING -> "running"
                CANCELLED -> "cancelled"
                else -> error?.let { "finished raised ${it.javaClass.simpleName}" }
                    ?: "finished returned ${value?.javaClass?.simpleName ?: "null"}"
            }
        }
        return "Future@" + Integer.toHexString(System.identityHashCode(this)) + "($what)"
    }

    // ---------------------------------------------------------------------------------------------

    /**
     * The job starts on [tasklet] (null: plain code) of thread [threadId]: pending becomes running.
     * False if the future was cancelled meanwhile.
     */
    @JvmSynthetic internal fun start(tasklet: Tasklet?, threadId: Long): Boolean {
        synchronized(this) {
            when (state) {
                CANCELLED -> return false
                PENDING -> {
                    state = RUNNING
                    runner = tasklet
                    if (completer != POOL) completer = threadId
                    return true
                }
                else -> throw IllegalStateException("the future has already started: $this")
            }
        }
    }

    /** The runner of the job was killed: the future is cancelled, unless it is done already. */
    @JvmSynthetic internal fun cancelledByKill() {
        synchronized(this) {
            if (state >= CANCELLED) return
            state = CANCELLED
        }
        complete()
    }

    private fun finish(v: Any?, e: Throwable?) {
        check(tryFinish(v, e) || cancelled) { "the future is already done: $this" }
    }

    /** Finishes the future with [v] or [e] unless it is done already; true if it did. */
    @JvmSynthetic internal fun tryFinish(v: Any?, e: Throwable?): Boolean {
        synchronized(this) {
            if (state >= CANCELLED) return false
            value = v
            error = e
            state = FINISHED
        }
        complete()
        return true
    }

    /** Just done: listeners and callbacks run in registration order, each one exactly once. */
    private fun complete() {
        val list: ArrayList<Any>?
        synchronized(this) {
            runner = null
            list = callbacks
            callbacks = null
        }
        if (list == null) return
        var fatal: Throwable? = null
        for (cb in list) {
            try {
                call(cb)
            } catch (e: Exception) {
                System.err.println("Exception in done callback of $this:")
                e.printStackTrace()
            } catch (e: Throwable) {
                // A kill or an Error: the other callbacks and the waiters still get their turn.
                if (fatal == null) fatal = e else fatal.addSuppressed(e)
            }
        }
        fatal?.let { throw it }
    }

    @Suppress("UNCHECKED_CAST")
    private fun call(cb: Any) {
        when (cb) {
            is DoneListener -> cb.onDone(this)
            is Consumer<*> -> (cb as Consumer<Future<T>>).accept(this)
            else -> (cb as (Future<T>) -> Unit)(this)
        }
    }

    private fun addCallback(cb: Any) {
        synchronized(this) {
            if (state < CANCELLED) {
                (callbacks ?: ArrayList<Any>(2).also { callbacks = it }).add(cb)
                return
            }
        }
        try {
            call(cb)
        } catch (e: Exception) {
            System.err.println("Exception in done callback of $this:")
            e.printStackTrace()
        }
    }

    private fun removeCallback(cb: Any) {
        synchronized(this) { callbacks?.remove(cb) }
    }

    /** Registers [l] to be called when the future is done; false, not registering it, if it already is. */
    @JvmSynthetic internal fun listen(l: DoneListener): Boolean {
        synchronized(this) {
            if (state >= CANCELLED) return false
            (callbacks ?: ArrayList<Any>(2).also { callbacks = it }).add(l)
            return true
        }
    }

    /** Withdraws [l] (a waiter that stopped waiting). */
    @JvmSynthetic internal fun unlisten(l: DoneListener) {
        synchronized(this) { callbacks?.remove(l) }
    }

    /** Finished with an exception (a cancelled future did not fail). */
    @get:JvmSynthetic internal val failed: Boolean get() = synchronized(this) { state == FINISHED && error != null }

    /** True when a waiter on the thread [threadId] waits for another thread to complete this future. */
    @JvmSynthetic internal fun foreignTo(threadId: Long): Boolean {
        val c = completer
        return c != UNKNOWN && c != threadId
    }

    /**
     * Waits within [budget] until the future is done or [abandoned] holds (after a wake-up), paused
     * by [park] (the suspend or the blocking way); false when the budget ran out first.
     */
    @JvmSynthetic internal inline fun awaitDone(budget: Budget, abandoned: () -> Boolean = { false }, park: () -> Unit): Boolean {
        if (done) return true
        if (budget.expired()) return false
        val me = Stackless.current
        val waker = Waker(me)
        if (!listen(waker)) return true
        try {
            return budget.await(foreignTo(me.threadId), { done || abandoned() }, park)
        } finally {
            unlisten(waker)
        }
    }

    /** The value of a finished future, or what it failed with; [CancellationException] if cancelled. */
    @Suppress("UNCHECKED_CAST")
    @JvmSynthetic internal fun outcome(): T {
        val e = synchronized(this) {
            if (state == CANCELLED) throw cancellation()
            error
        }
        if (e != null) throw e
        return value as T
    }

    private fun failure(): Throwable? = synchronized(this) {
        if (state == CANCELLED) throw cancellation()
        error
    }

    private fun cancellation() = CancellationException("the future was cancelled")

    internal companion object {
        const val PENDING = 0
        const val RUNNING = 1
        const val CANCELLED = 2
        const val FINISHED = 3

        /** Nobody said which thread completes the future. */
        const val UNKNOWN = -1L

        /** A thread of a pool completes it: never the waiter's own thread. */
        const val POOL = -2L

        /**
         * Kills [t] at its next switch point, from whichever thread cancels: a pending throw, which
         * unlike a switching kill is also allowed in timer callbacks.
         */
        @OptIn(InternalStacklessApi::class)
        private fun kill(t: Tasklet) {
            try {
                SchedulerHooks.throwPending(t, TaskletExit())
            } catch (_: IllegalStateException) {
                // It ended, or its thread did, meanwhile: nothing is left to stop.
            }
        }
    }
}

/** An internal party interested in a future's completion; called on the completing thread, must not switch. */
internal fun interface DoneListener {
    fun onDone(f: Future<*>)
}

/** Puts a tasklet waiting for futures back into its run queue when one is done. */
internal class Waker(private val waiter: Tasklet) : DoneListener {
    override fun onDone(f: Future<*>) {
        ForeignWake.wake(waiter)
    }
}

/**
 * Runs [call] on the current tasklet as this future's job (stacklesslib's `Future.execute`): nothing
 * if the future was cancelled first; a kill cancels the future and goes on killing the tasklet.
 */
internal inline fun <T> Future<T>.execute(call: () -> T) {
    val me = Stackless.current
    if (!start(me, me.threadId)) return
    val r = try {
        call()
    } catch (e: TaskletExit) {
        cancelledByKill()
        throw e
    } catch (e: Throwable) {
        tryFinish(null, e)
        return
    }
    tryFinish(r, null)
}
