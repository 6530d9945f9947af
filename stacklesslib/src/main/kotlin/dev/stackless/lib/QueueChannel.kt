package dev.stackless.lib

import dev.stackless.BlockingReceiveIterator
import dev.stackless.Channel
import dev.stackless.ChannelClosedException
import dev.stackless.ChannelIterator
import dev.stackless.InternalStacklessApi
import dev.stackless.SchedulerHooks
import dev.stackless.Stackless
import dev.stackless.Tasklet

/**
 * A channel with a buffer (stacklesslib's `util.QueueChannel`): [send] puts the value into the
 * buffer and returns at once, without switching, while the buffer has room ([maxLen] values; a
 * negative [maxLen] means no limit); when it is full, the sender blocks like on a plain [Channel]
 * until a receiver makes room. [receive] takes the oldest value, blocking while there is none.
 * `maxLen = 0` makes it a plain rendezvous channel.
 *
 * Values come out in the order they were sent, each exactly once: a sender killed (or timed out)
 * while blocked gets the exception and its value is not enqueued; a receiver killed after a value
 * was handed to it still gets the value, and the exception at its next switch point. An exception
 * sent with [sendException] takes its place in the queue and is thrown by the [receive] that
 * reaches it.
 *
 * A queue is meant for the tasklets of one thread (its buffer is not shared safely between threads).
 */
public class QueueChannel<T> @JvmOverloads constructor(
    /** The buffer's capacity; negative for no limit, zero for a rendezvous channel. */
    public val maxLen: Int = -1,
) {
    /** Blocked senders and receivers. Its preference is -1: a receive that frees a sender does not switch. */
    private val channel = Channel<Any?>()
    private val buffer = ArrayDeque<Any?>()

    /**
     * Values waiting (buffered, or held by blocked senders) when positive, the number of blocked
     * receivers negated when negative.
     */
    public val balance: Int get() = buffer.size + channel.balance

    /** [close] was called. */
    public val closing: Boolean get() = channel.closing

    /** [closing] and empty, nobody waiting: every [send] and [receive] fails. */
    public val closed: Boolean get() = channel.closing && buffer.isEmpty() && channel.balance == 0

    /**
     * Marks the queue closing: the values in it, and those of blocked senders, can still be
     * received, but a [send] that would block and a [receive] on an empty queue throw
     * [ChannelClosedException]. Unlike on a [Channel], receivers already waiting (on an empty
     * queue, which now stays empty) do not wait forever: they get that exception too, so that
     * `for (x in queue)` ends. Never switches.
     */
    @OptIn(InternalStacklessApi::class)
    public fun close() {
        channel.close()
        if (channel.balance >= 0) return
        val receivers = ArrayList<Tasklet>()
        var t = channel.queue
        while (t != null) {
            receivers.add(t)
            t = t.next
        }
        for (r in receivers) SchedulerHooks.throwPending(r, ChannelClosedException(CLOSED))
    }

    /**
     * Enqueues [value]: into the buffer while it has room, straight to the first waiting receiver
     * if there is one (which then runs first), else by blocking until a receiver takes it.
     *
     * @throws ChannelClosedException if the queue is closing and nobody takes the value.
     */
    public suspend fun send(value: T) {
        Stackless.atomic {
            if (!offer(value)) channel.send(value)
        }
    }

    /** The blocking twin of [send]. */
    public fun sendBlocking(value: T) {
        Stackless.atomic {
            if (!offer(value)) channel.sendBlocking(value)
        }
    }

    /**
     * Enqueues [e], to be thrown by the [receive] that reaches it; otherwise as [send].
     *
     * @throws ChannelClosedException if the queue is closing and nobody takes it.
     */
    public suspend fun sendException(e: Throwable) {
        val failure = Failure(e)
        Stackless.atomic {
            if (!offer(failure)) channel.send(failure)
        }
    }

    /** The blocking twin of [sendException]. */
    public fun sendExceptionBlocking(e: Throwable) {
        val failure = Failure(e)
        Stackless.atomic {
            if (!offer(failure)) channel.sendBlocking(failure)
        }
    }

    /**
     * Takes the oldest value, blocking while the queue is empty; throws it if it is an exception
     * sent with [sendException].
     *
     * @throws ChannelClosedException if the queue is closing and empty.
     */
    public suspend fun receive(): T = Stackless.atomic {
        // A blocked sender's value queues behind the buffered ones; the sender becomes runnable.
        if (channel.balance > 0) buffer.addLast(channel.receive())
        unwrap(if (buffer.isEmpty()) channel.receive() else buffer.removeFirst())
    }

    /** The blocking twin of [receive]. */
    public fun receiveBlocking(): T = Stackless.atomic {
        if (channel.balance > 0) buffer.addLast(channel.receiveBlocking())
        unwrap(if (buffer.isEmpty()) channel.receiveBlocking() else buffer.removeFirst())
    }

    /**
     * `for (x in queue)` in a tasklet: receives until the queue is [closing] with nothing left in it
     * and no sender waiting (also when it closes while the iteration waits), or until a
     * [NoSuchElementException] is received.
     */
    public operator fun iterator(): ChannelIterator<T> = SuspendIterator()

    /** Iterates with blocking receives, for Java: `for (T x : queue.blockingIterable())`; ends as [iterator]. */
    @OptIn(InternalStacklessApi::class)
    public fun blockingIterable(): Iterable<T> = Iterable { BlockingReceiveIterator<T>("queue") { nextOrEnd { receiveBlocking() } } }

    /** `QueueChannel@<identity>(buffered=…, balance=…[, closing])`. */
    override fun toString(): String =
        "QueueChannel@" + Integer.toHexString(System.identityHashCode(this)) +
            "(buffered=${buffer.size}, balance=$balance" + (if (closing) ", closing)" else ")")

    /**
     * Buffers [item] if that needs no partner: the queue is open, no receiver waits for it and no
     * sender is ahead of it, and there is room. False when the channel must take it.
     */
    private fun offer(item: Any?): Boolean {
        if (channel.closing || channel.balance != 0) return false
        if (maxLen >= 0 && buffer.size >= maxLen) return false
        buffer.addLast(item)
        return true
    }

    @Suppress("UNCHECKED_CAST")
    private fun unwrap(item: Any?): T {
        if (item is Failure) throw item.error
        return item as T
    }

    /** The end of an iteration: closing, and nothing buffered or offered. */
    private fun exhausted(): Boolean = channel.closing && balance <= 0

    /** The next item for an iterator, or [NONE] at the end: closed and drained, or ended by a sent NoSuchElementException. */
    private inline fun nextOrEnd(receive: () -> T): Any? {
        if (exhausted()) return NONE
        return try {
            receive()
        } catch (_: NoSuchElementException) {
            NONE
        } catch (e: ChannelClosedException) {
            if (channel.closing) NONE else throw e
        }
    }

    /** An exception travelling in the queue, in its turn. */
    private class Failure(@JvmField val error: Throwable)

    private inner class SuspendIterator : ChannelIterator<T> {
        private var value: Any? = NONE

        override suspend fun hasNext(): Boolean {
            value = nextOrEnd { receive() }
            return value !== NONE
        }

        @OptIn(InternalStacklessApi::class)
        override fun next(): T {
            val v = value
            value = NONE
            return BlockingReceiveIterator.received(v)
        }
    }

    private companion object {
        /** No item: the end of an iteration, or an iterator holding nothing yet. */
        @OptIn(InternalStacklessApi::class)
        val NONE: Any = BlockingReceiveIterator.END

        /** The core's text for an operation that fails on a closed channel. */
        const val CLOSED = "Send/receive operation on a closed channel"
    }
}
