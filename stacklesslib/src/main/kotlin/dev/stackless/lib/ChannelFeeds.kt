package dev.stackless.lib

import dev.stackless.Channel
import dev.stackless.ChannelClosedException
import dev.stackless.Tasklet

/**
 * The body of [asCompleted]'s tasklet: completions are queued by listeners, possibly on other
 * threads, and sent on in that order. Once the budget is spent, what is queued still goes out,
 * then the timeout instead of a wait.
 */
internal class CompletionFeed<T>(fs: Iterable<Future<T>>, private val budget: Budget) : DoneListener {
    private val futures: List<Future<T>> = LinkedHashSet<Future<T>>().apply { addAll(fs) }.toList()

    /** Done futures not yet sent; guarded by itself. */
    private val ready = ArrayDeque<Future<T>>()

    @Volatile private var feeder: Tasklet? = null

    /** Some future is completed by another thread than the feeder's. */
    private var foreign = false

    /** Before [feeder] first runs: the futures already done are queued in input order, the others listened to. */
    fun start(feeder: Tasklet) {
        this.feeder = feeder
        val pending = ArrayList<Future<T>>()
        synchronized(ready) {
            for (f in futures) if (f.done) ready.addLast(f) else pending.add(f)
        }
        val threadId = feeder.threadId
        for (f in pending) {
            if (f.foreignTo(threadId)) foreign = true
            if (!f.listen(this)) onDone(f)
        }
    }

    @Suppress("UNCHECKED_CAST")
    override fun onDone(f: Future<*>) {
        synchronized(ready) { ready.addLast(f as Future<T>) }
        feeder?.let { ForeignWake.wake(it) }
    }

    suspend fun run(out: Channel<Future<T>>) {
        try {
            out.feedFrom { feed(out) }
        } finally {
            for (f in futures) f.unlisten(this)
        }
    }

    private suspend fun feed(out: Channel<Future<T>>) {
        var left = futures.size
        while (left > 0) {
            val f = next() ?: break
            left--
            out.send(f)
        }
        if (left > 0) out.sendException(budget.timeoutException())
    }

    /** The next done future, waiting for one within the budget; null when the budget ran out. */
    private suspend fun next(): Future<T>? {
        poll()?.let { return it }
        budget.await(foreign, { synchronized(ready) { ready.isNotEmpty() } }) { park(futures) }
        return poll()
    }

    private fun poll(): Future<T>? = synchronized(ready) { ready.removeFirstOrNull() }
}

/**
 * The body of an executor's `map` tasklet: sends the results of [futures] in their order; the
 * first failure, cancellation or running out of [budget] is sent as the exception that ends the
 * iteration.
 */
internal class ResultFeed<R>(private val futures: List<Future<R>>, private val budget: Budget) {
    suspend fun run(out: Channel<R>) {
        out.feedFrom { feed(out) }
    }

    private suspend fun feed(out: Channel<R>) {
        for (f in futures) {
            if (!f.awaitDone(budget) { park(f) }) {
                out.sendException(budget.timeoutException())
                return
            }
            val r = try {
                f.outcome()
            } catch (e: Throwable) {
                out.sendException(e)
                return
            }
            out.send(r)
        }
    }

    companion object {
        /** A channel of the results of [futures] in order, fed by a new tasklet named [name] of the calling thread. */
        fun <R> start(futures: List<Future<R>>, budget: Budget, name: String): Channel<R> {
            val out = Channel<R>()
            val feed = ResultFeed(futures, budget)
            val feeder = Tasklet { feed.run(out) }
            feeder.name = name
            feeder.setup()
            return out
        }
    }
}

/**
 * Runs [feed], which sends to this channel, then ends the iteration: the channel is closed, and
 * readers already waiting are told the way the core ends an iteration, by a sent
 * [NoSuchElementException]. A reader that closed the channel itself stops the feed quietly; a
 * feed that fails (killed) still closes it.
 */
internal suspend inline fun Channel<*>.feedFrom(feed: () -> Unit) {
    try {
        feed()
    } catch (_: ChannelClosedException) {
        // The reader closed the channel: nobody listens any more.
        return
    } catch (e: Throwable) {
        close()
        throw e
    }
    close()
    while (balance < 0) sendException(NoSuchElementException("end of iteration"))
}
