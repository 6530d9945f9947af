package dev.stackless.lib

import dev.stackless.InternalStacklessApi
import dev.stackless.SchedulerHooks
import dev.stackless.Stackless
import dev.stackless.Tasklet
import java.util.concurrent.Callable
import java.util.concurrent.ExecutorService
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.ThreadFactory
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger
import kotlin.time.Duration

/**
 * Runs the blocking [block] on a real thread of a bounded pool while only the calling tasklet waits;
 * the other tasklets of the thread run meanwhile. Returns what [block] returns, or rethrows what it
 * throws. The result is handed over before the loop is woken, so the caller runs at the loop's next
 * turn, without polling.
 *
 * With a [timeout] the caller stops waiting after that long and gets [TaskletTimeoutException]; a
 * kill or an enclosing [timeout] also ends the wait. The thread cannot be stopped: it finishes
 * [block], whose result is dropped, and [onAbandoned] runs (on that worker thread) when the caller
 * gave up first. A result that came just before the caller gave up is kept: it is returned, and
 * the kill or interrupt follows at the caller's next switch point (a timeout's not at all once its
 * scope has ended).
 *
 * The pool has `stackless.callOnThread.threads` threads (default: 4 × processors, at least 16);
 * calls beyond that queue in FIFO order.
 *
 * @throws TaskletTimeoutException when [timeout] expires first.
 */
@OptIn(InternalStacklessApi::class)
public suspend fun <R> callOnThread(timeout: Duration? = null, onAbandoned: Runnable? = null, block: () -> R): R {
    val call = ThreadCall(Stackless.current, block, onAbandoned)
    ThreadBridge.pool.execute(call)
    return timeout(timeout) { call.await() }
}

/** [callOnThread] for Java and for non-suspend code. */
@JvmOverloads
public fun <R> callOnThreadBlocking(
    timeout: java.time.Duration? = null,
    onAbandoned: Runnable? = null,
    block: Callable<R>,
): R {
    val call = ThreadCall(Stackless.current, { block.call() }, onAbandoned)
    ThreadBridge.pool.execute(call)
    return timeoutBlocking(timeout) { call.awaitBlocking() }
}

/** The bounded pool of real threads behind [callOnThread]: daemon threads, idle ones end after a minute. */
internal object ThreadBridge {
    private val size: Int = Integer.getInteger(
        "stackless.callOnThread.threads",
        maxOf(16, 4 * Runtime.getRuntime().availableProcessors()),
    )

    val pool: ExecutorService = java.util.concurrent.ThreadPoolExecutor(
        size, size, 60, TimeUnit.SECONDS, LinkedBlockingQueue(),
        daemonThreads("stackless callOnThread"),
    ).apply { allowCoreThreadTimeOut(true) }
}

/** A factory of daemon threads named [prefix] 1, 2, … */
internal fun daemonThreads(prefix: String): ThreadFactory {
    val n = AtomicInteger()
    return ThreadFactory { r -> Thread(r, "$prefix ${n.incrementAndGet()}").apply { isDaemon = true } }
}

/**
 * One call on a real thread, awaited by [waiter]: the worker stores the outcome, then (if the
 * waiter still waits) puts the waiter back into its run queue from its own thread.
 */
@OptIn(InternalStacklessApi::class)
internal class ThreadCall<R>(
    private val waiter: Tasklet,
    private val block: () -> R,
    private val onAbandoned: Runnable?,
) : Runnable {
    private val state = AtomicInteger(WAITING)
    private var value: Any? = null
    private var error: Throwable? = null

    override fun run() {
        try {
            value = block()
        } catch (e: Throwable) {
            error = e
        }
        if (state.compareAndSet(WAITING, DONE)) {
            ForeignWake.wake(waiter)
        } else {
            onAbandoned?.run()
        }
    }

    suspend fun await(): R {
        if (waiter.isMain) return awaitBlocking() // called outside a tasklet body
        SchedulerHooks.beginForeignWait()
        try {
            while (state.get() == WAITING) Stackless.scheduleRemove()
        } catch (e: Throwable) {
            abandon(e)
        } finally {
            SchedulerHooks.endForeignWait()
        }
        return outcome()
    }

    fun awaitBlocking(): R {
        SchedulerHooks.beginForeignWait()
        try {
            while (state.get() == WAITING) {
                // Always a switch point first: it throws what is pending (a timeout's interrupt) and
                // refuses to run in a timer callback, neither of which the loop's wait does.
                Stackless.scheduleRemoveBlocking()
                // The main tasklet alone comes straight back from scheduleRemove: it parks instead.
                if (waiter.isMain && state.get() == WAITING && SchedulerHooks.runCount() <= 1) SchedulerHooks.waitForWork()
            }
        } catch (e: Throwable) {
            abandon(e)
        } finally {
            SchedulerHooks.endForeignWait()
        }
        return outcome()
    }

    /**
     * The wait ended by [e] (a kill, a timeout): the caller gives up and [e] is rethrown, unless the
     * worker finished just before. Then, as for a channel operation that completed, the result is
     * kept and [e] waits for the caller's next switch point (a timeout whose scope ends first drops it).
     */
    private fun abandon(e: Throwable) {
        if (state.compareAndSet(WAITING, ABANDONED)) throw e
        SchedulerHooks.throwPending(waiter, e)
    }

    @Suppress("UNCHECKED_CAST")
    private fun outcome(): R {
        error?.let { throw it }
        return value as R
    }

    private companion object {
        const val WAITING = 0
        const val DONE = 1
        const val ABANDONED = 2
    }
}

/**
 * Puts a tasklet that waits for another thread back into its run queue, from any thread. A wake-up
 * that arrives after the wait ended (the tasklet saw the result by itself) is dropped by its thread.
 */
@OptIn(InternalStacklessApi::class)
internal object ForeignWake {
    fun wake(t: Tasklet) {
        // Killed, blocked elsewhere or its thread ended: it no longer waits for this, and nothing happens.
        SchedulerHooks.wakeForeign(t)
    }
}
