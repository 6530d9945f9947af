package dev.stackless.lib

import dev.stackless.Channel
import dev.stackless.Stackless
import dev.stackless.Tasklet
import dev.stackless.TaskletExit
import java.util.concurrent.Callable
import java.util.function.Function
import kotlin.time.Duration

/**
 * Runs jobs as tasklets (stacklesslib's `futures.TaskletExecutor`): each [submit] makes a new
 * tasklet of the calling thread, scheduled but not run, and returns the [Future] of its job. At
 * most [maxWorkers] jobs run at once (null: no limit); the others wait in FIFO order and start,
 * on the thread of the job whose end makes room, when a running one ends.
 *
 * [Future.cancel] on a waiting job drops it; on a running one it kills its tasklet. The executor
 * keeps no reference to a job once it is done. [close] is `shutdownBlocking(true)`, so that
 * `use { }` and try-with-resources wait for the jobs.
 *
 * @throws IllegalArgumentException if [maxWorkers] is not positive.
 */
public class TaskletExecutor @JvmOverloads constructor(maxWorkers: Int? = null) : AutoCloseable {
    /** The most jobs that run at once, or null for no limit. */
    public val maxWorkers: Int? = maxWorkers

    private val tracker = JobTracker()
    private val waiting = ArrayDeque<Job<*>>()
    private var running = 0

    init {
        require(maxWorkers == null || maxWorkers > 0) { "maxWorkers must be positive: $maxWorkers" }
    }

    /** True once [shutdown] was called: [submit] refuses new jobs. */
    public val isShutdown: Boolean get() = tracker.isShutdown

    /**
     * Starts [fn] in a new tasklet of the calling thread (scheduled, not run), or queues it while
     * [maxWorkers] jobs run, and returns its future: its value, its exception, or cancelled if its
     * tasklet is killed.
     *
     * @throws IllegalStateException "cannot schedule new futures after shutdown".
     */
    public fun <T> submit(fn: suspend () -> T): Future<T> = submitJob(Job(Future(), fn, null))

    /**
     * [submit] for Java: [fn] runs in a tasklet with a Java body ([Tasklet.of]), whose blocking
     * calls block only that tasklet.
     *
     * @throws IllegalStateException "cannot schedule new futures after shutdown".
     */
    public fun <T> submit(fn: Callable<T>): Future<T> = submitJob(Job(Future(), null, fn))

    private fun <T> submitJob(job: Job<T>): Future<T> {
        val future = job.future
        // The tasklet will be made here: a waiter on this thread need not expect another thread.
        future.completer = Stackless.current.threadId
        synchronized(this) {
            tracker.track(future)
            if (maxWorkers != null && running >= maxWorkers) {
                waiting.addLast(job)
                return future
            }
            running++
        }
        job.start()
        return future
    }

    /**
     * Submits `fn(item)` for every item at once and returns their results in input order, as a
     * channel closed after the last one: iterate it with `for (r in ex.map(items) { … })` in a
     * tasklet or `blockingIterable()` from Java. A job's exception (or [java.util.concurrent.CancellationException])
     * is thrown by the iteration when its item is reached, and ends it. [timeout] is a budget for
     * the whole iteration, starting now: a result not ready when it runs out makes the iteration throw
     * [TaskletTimeoutException].
     *
     * The channel is fed on demand (see [asCompleted]): a map that is read partly or not at all
     * leaves nothing blocked, and [shutdown] waits for the jobs alone.
     *
     * @throws IllegalStateException "cannot schedule new futures after shutdown".
     */
    public fun <T, R> map(items: Iterable<T>, timeout: Duration? = null, fn: suspend (T) -> R): Channel<R> {
        val budget = Budget(timeout)
        val futures = items.map { item -> submit(suspend { fn(item) }) }
        return ResultFeed(futures, budget).out
    }

    /** [map] for Java, the jobs being Java tasklets as with [submit] of a [Callable]; a null [timeout] means no limit. */
    public fun <T, R> map(items: Iterable<T>, timeout: java.time.Duration?, fn: Function<in T, out R>): Channel<R> {
        val budget = Budget(timeout.toKotlin())
        val futures = items.map { item -> submit(Callable<R> { fn.apply(item) }) }
        return ResultFeed(futures, budget).out
    }

    /**
     * Refuses new jobs from now on and, if [wait], waits until every job submitted so far is done
     * (queued ones still run). Further calls do no harm.
     */
    public suspend fun shutdown(wait: Boolean = true) {
        tracker.shutdown(wait)
    }

    /** The blocking twin of [shutdown]. */
    @JvmOverloads
    public fun shutdownBlocking(wait: Boolean = true) {
        tracker.shutdownBlocking(wait)
    }

    /** `shutdownBlocking(true)`. */
    override fun close() {
        shutdownBlocking(true)
    }

    override fun toString(): String = synchronized(this) {
        "TaskletExecutor(maxWorkers=$maxWorkers, running=$running, queued=${waiting.size}" +
            (if (tracker.isShutdown) ", shut down)" else ")")
    }

    /** A job ended: the next waiting one that is not cancelled starts in its place. */
    private fun jobEnded() {
        val next: Job<*>
        synchronized(this) {
            while (true) {
                val j = waiting.removeFirstOrNull()
                if (j == null) {
                    running--
                    return
                }
                if (!j.future.cancelled) {
                    next = j
                    break
                }
            }
        }
        next.start()
    }

    /** A job: a suspend [fn] runs in a soft tasklet, a [callable] in a tasklet with a Java body. */
    private inner class Job<T>(
        val future: Future<T>,
        private val fn: (suspend () -> T)?,
        private val callable: Callable<T>?,
    ) {
        fun start() {
            val c = callable
            val t = if (c != null) Tasklet.of { execute { c.call() } } else Tasklet { execute { fn!!() } }
            t.name = "TaskletExecutor job"
            t.setup()
        }

        private inline fun execute(call: () -> T) {
            try {
                future.execute(call)
            } finally {
                jobEnded()
            }
        }
    }
}
