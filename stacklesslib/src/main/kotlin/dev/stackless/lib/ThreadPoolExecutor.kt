package dev.stackless.lib

import dev.stackless.Channel
import java.util.concurrent.Callable
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import java.util.function.Function
import kotlin.time.Duration

/**
 * Runs jobs on real threads (stacklesslib's `futures.ThreadPoolExecutor`): a pool of at most
 * [maxWorkers] daemon threads, by default `min(32, processors + 4)` as in Python's
 * `concurrent.futures`; jobs beyond that wait in FIFO order. Idle threads end after a minute.
 *
 * A job's future is completed on its worker thread, which puts the tasklets waiting for it back
 * into their run queues at once: they run at their loop's next turn, without polling, and the other
 * tasklets run meanwhile. [Future.cancel] drops a job that has not started; one that runs cannot
 * be stopped, and its result is dropped. The executor keeps no reference to a job once it is done.
 * [close] is `shutdownBlocking(true)`.
 *
 * @throws IllegalArgumentException if [maxWorkers] is not positive.
 */
public class ThreadPoolExecutor @JvmOverloads constructor(maxWorkers: Int? = null) : AutoCloseable {
    /** The number of threads. */
    public val maxWorkers: Int = maxWorkers ?: minOf(32, Runtime.getRuntime().availableProcessors() + 4)

    private val tracker = JobTracker()

    init {
        require(this.maxWorkers > 0) { "maxWorkers must be positive: $maxWorkers" }
    }

    private val pool = java.util.concurrent.ThreadPoolExecutor(
        this.maxWorkers, this.maxWorkers, 60, TimeUnit.SECONDS, LinkedBlockingQueue(),
        daemonThreads("stackless ThreadPoolExecutor"),
    ).apply { allowCoreThreadTimeOut(true) }

    /** True once [shutdown] was called: [submit] refuses new jobs. */
    public val isShutdown: Boolean get() = tracker.isShutdown

    /**
     * Runs [fn] on a thread of the pool and returns its future: its value or its exception.
     *
     * @throws IllegalStateException "cannot schedule new futures after shutdown".
     */
    @JvmSynthetic // Java uses the Callable overload: a Java lambda would fit both.
    public fun <T> submit(fn: () -> T): Future<T> {
        val future = Future<T>()
        future.completer = Future.POOL
        synchronized(this) {
            tracker.track(future)
            pool.execute(Job(future, fn))
        }
        return future
    }

    /** [submit] for Java. */
    public fun <T> submit(fn: Callable<T>): Future<T> {
        val job: () -> T = { fn.call() }
        return submit(job)
    }

    /**
     * Submits `fn(item)` for every item at once and returns their results in input order, as
     * [TaskletExecutor.map] does (exceptions, budget, fed on demand).
     *
     * @throws IllegalStateException "cannot schedule new futures after shutdown".
     */
    public fun <T, R> map(items: Iterable<T>, timeout: Duration? = null, fn: (T) -> R): Channel<R> {
        val budget = Budget(timeout)
        val futures = items.map { item -> submit { fn(item) } }
        return ResultFeed(futures, budget).out
    }

    /** [map] for Java; a null [timeout] means no limit. */
    public fun <T, R> map(items: Iterable<T>, timeout: java.time.Duration?, fn: Function<in T, out R>): Channel<R> =
        map(items, timeout.toKotlin()) { fn.apply(it) }

    /**
     * Refuses new jobs from now on and, if [wait], waits until every job submitted so far is done
     * (queued ones still run); the threads end once idle. Further calls do no harm.
     */
    public suspend fun shutdown(wait: Boolean = true) {
        stopPool()
        tracker.shutdown(wait)
    }

    /** The blocking twin of [shutdown]. */
    @JvmOverloads
    public fun shutdownBlocking(wait: Boolean = true) {
        stopPool()
        tracker.shutdownBlocking(wait)
    }

    /** `shutdownBlocking(true)`. */
    override fun close() {
        shutdownBlocking(true)
    }

    override fun toString(): String =
        "ThreadPoolExecutor(maxWorkers=$maxWorkers, active=${pool.activeCount}, queued=${pool.queue.size}" +
            (if (tracker.isShutdown) ", shut down)" else ")")

    private fun stopPool() {
        // Under the lock of submit: a job is either in the pool before it stops, or refused.
        synchronized(this) {
            tracker.shutdownBlocking(false)
            pool.shutdown()
        }
    }

    private class Job<T>(private val future: Future<T>, private val fn: () -> T) : Runnable {
        override fun run() {
            if (!future.start(null, Future.POOL)) return
            val r = try {
                fn()
            } catch (e: Throwable) {
                future.tryFinish(null, e)
                return
            }
            future.tryFinish(r, null)
        }
    }
}
