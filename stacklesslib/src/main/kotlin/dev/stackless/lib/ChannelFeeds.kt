package dev.stackless.lib

import dev.stackless.Channel
import dev.stackless.ChannelFeeder
import dev.stackless.InternalStacklessApi
import dev.stackless.Stackless
import dev.stackless.Tasklet

/**
 * A channel fed on demand, as a Python generator is: nothing runs for it while nobody reads it, so
 * a reader that stops early (or never starts) leaves no tasklet blocked behind.
 *
 * Each time a receiver is about to wait on [out] ([ChannelFeeder.receiverWaits]), a feeding
 * tasklet named [name] is set up on the receiver's thread, unless one is running already. It makes
 * one item per waiting receiver with [next] and hands it over, and ends as soon as no receiver is
 * left to serve. A wait inside [next] ends early when the receivers leave ([abandoned]); an item made
 * for a receiver that left meanwhile (killed, timed out) is kept for the next one, so that nothing
 * is lost or made twice. After the last item ([END]) or a [Failure] (thrown by the receive that
 * reaches it) the channel is closed and receivers still waiting are told the iteration ended.
 */
@OptIn(InternalStacklessApi::class)
internal abstract class DemandFeed<T>(private val name: String) : ChannelFeeder {
    /** The channel the readers iterate. */
    val out: Channel<T> = Channel<T>().also { it.feeder = this }

    /** Receivers that came to wait and are not served yet; guarded by this. */
    private var demands = 0

    /** The feeding tasklet while one runs; written under this. */
    @Volatile protected var feeder: Tasklet? = null

    /** An item made for a receiver that left; [NONE] if none. Touched by the feeding tasklet only. */
    private var kept: Any? = NONE

    /**
     * The next item: a value, a [Failure], [END], or [NONE] when it stopped waiting because
     * [abandoned] became true. Runs in the feeding tasklet.
     */
    protected abstract suspend fun next(): Any?

    /** After the last item or a failure, or when the feeding tasklet is killed. */
    protected open fun ended() {}

    /** No receiver waits any more: a wait for the next item may stop. */
    protected fun abandoned(): Boolean = out.balance >= 0

    override fun receiverWaits() {
        val t: Tasklet
        synchronized(this) {
            demands++
            if (feeder != null) return
            t = Tasklet { feed() }
            feeder = t
        }
        t.name = name
        t.setup()
    }

    override fun receiverLeft() {
        feeder?.let { ForeignWake.wake(it) }
    }

    private suspend fun feed() {
        try {
            while (takeDemand()) {
                val item = if (kept !== NONE) kept.also { kept = NONE } else next()
                if (out.balance >= 0) {
                    // The receiver it was made for has gone.
                    kept = item
                    continue
                }
                if (item === END) return finish()
                if (item is Failure) {
                    out.sendException(item.error)
                    return finish()
                }
                @Suppress("UNCHECKED_CAST")
                out.send(item as T)
            }
        } catch (e: Throwable) {
            out.close()
            ended()
            throw e
        }
    }

    /** One demand to serve; false, and the feeding tasklet is done, when none is left. */
    private fun takeDemand(): Boolean = synchronized(this) {
        if (demands == 0) {
            feeder = null
            return false
        }
        demands--
        true
    }

    private suspend fun finish() {
        out.close()
        ended()
        while (out.balance < 0) out.sendException(NoSuchElementException("end of iteration"))
    }

    /** An item that ends the iteration by [error]. */
    class Failure(@JvmField val error: Throwable)

    companion object {
        /** The item after the last one. */
        @JvmField val END = Any()

        /** No item. */
        @JvmField val NONE = Any()
    }
}

/**
 * [asCompleted]'s feed: completions are queued by listeners, possibly on other threads, and handed
 * out in that order. Once the budget is spent, what is queued still goes out, then the timeout
 * instead of a wait.
 */
internal class CompletionFeed<T>(fs: Iterable<Future<T>>, private val budget: Budget) :
    DemandFeed<Future<T>>("asCompleted"), DoneListener {
    private val futures: List<Future<T>> = LinkedHashSet<Future<T>>().apply { addAll(fs) }.toList()

    /** Done futures not yet handed out; guarded by itself. */
    private val ready = ArrayDeque<Future<T>>()

    /** Futures not yet handed out; touched by the feeding tasklet only. */
    private var left = futures.size

    /** Some future is completed by another thread than the caller's. */
    private var foreign = false

    /** The futures already done are queued in input order, the others listened to. */
    fun start(): Channel<Future<T>> {
        val pending = ArrayList<Future<T>>()
        synchronized(ready) {
            for (f in futures) if (f.done) ready.addLast(f) else pending.add(f)
        }
        val threadId = Stackless.current.threadId
        for (f in pending) {
            if (f.foreignTo(threadId)) foreign = true
            if (!f.listen(this)) onDone(f)
        }
        return out
    }

    @Suppress("UNCHECKED_CAST")
    override fun onDone(f: Future<*>) {
        synchronized(ready) { ready.addLast(f as Future<T>) }
        feeder?.let { ForeignWake.wake(it) }
    }

    override suspend fun next(): Any? {
        if (left == 0) return END
        val f = poll() ?: run {
            val inTime = budget.await(foreign, { synchronized(ready) { ready.isNotEmpty() } || abandoned() }) { park(futures) }
            poll() ?: return if (inTime) NONE else Failure(budget.timeoutException())
        }
        left--
        return f
    }

    override fun ended() {
        for (f in futures) f.unlisten(this)
    }

    private fun poll(): Future<T>? = synchronized(ready) { ready.removeFirstOrNull() }
}

/**
 * An executor's `map` feed: the results of [futures] in their order; the first failure,
 * cancellation or running out of [budget] is the exception that ends the iteration.
 */
internal class ResultFeed<R>(private val futures: List<Future<R>>, private val budget: Budget) :
    DemandFeed<R>("map") {
    /** The next future to hand out; touched by the feeding tasklet only. */
    private var index = 0

    override suspend fun next(): Any? {
        if (index == futures.size) return END
        val f = futures[index]
        if (!f.awaitDone(budget, { abandoned() }) { park(f) }) return Failure(budget.timeoutException())
        if (!f.done) return NONE
        index++
        return try {
            f.outcome()
        } catch (e: Throwable) {
            Failure(e)
        }
    }
}
