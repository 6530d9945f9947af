package dev.stackless.lib

import dev.stackless.Channel

/**
 * A rendezvous [Channel] that is also a [Waitable] (stacklesslib's `WaitChannel`): it signals
 * whenever its balance leaves 0, that is when a send or a receive starts to block, the channel
 * becoming receivable or sendable. During that signal [balance] already counts the tasklet about
 * to block (+1 for a send, -1 for a receive), so that the callbacks see the state they are told of.
 * [Receivable] and [Sendable] wait for one direction.
 *
 * The signal is edge-triggered: the channel is never [isSignalled] by itself, so a wait that starts
 * while a tasklet already blocks in it waits for the next change. Used by the tasklets of one thread.
 * Everything else (preference, close, the waiters) is on the underlying [channel]; operations made
 * there directly do not signal.
 */
public class WaitChannel<T> : WaitSite() {
    /** The channel wrapped. */
    public val channel: Channel<T> = Channel()

    /** What [balance] adds to the channel's while the waiters are told about a blocking operation. */
    private var balanceAdjust = 0

    /** Waiting senders (positive) or receivers (negative), as [Channel.balance]. */
    public val balance: Int get() = channel.balance + balanceAdjust

    /**
     * Sends [value] as [Channel.send]; signals first if the send is going to block.
     *
     * @throws dev.stackless.ChannelClosedException and the other errors of [Channel.send].
     */
    public suspend fun send(value: T): Unit = signalling(SEND) { channel.send(value) }

    /** The blocking twin of [send]. */
    public fun sendBlocking(value: T): Unit = signalling(SEND) { channel.sendBlocking(value) }

    /**
     * Sends [e] to be thrown by the receiver, as [Channel.sendException]; signals first if the send
     * is going to block.
     */
    public suspend fun sendException(e: Throwable): Unit = signalling(SEND) { channel.sendException(e) }

    /** The blocking twin of [sendException]. */
    public fun sendExceptionBlocking(e: Throwable): Unit = signalling(SEND) { channel.sendExceptionBlocking(e) }

    /**
     * Receives a value as [Channel.receive]; signals first if the receive is going to block.
     *
     * @throws dev.stackless.ChannelClosedException and the other errors of [Channel.receive].
     */
    public suspend fun receive(): T = signalling(RECEIVE) { channel.receive() }

    /** The blocking twin of [receive]. */
    public fun receiveBlocking(): T = signalling(RECEIVE) { channel.receiveBlocking() }

    /** `WaitChannel@<identity>(balance=…)`, for deadlock reports. */
    override fun toString(): String =
        "WaitChannel@" + Integer.toHexString(System.identityHashCode(this)) + "(balance=$balance)"

    /** Every operation: [notifyStateChange] in direction [dir], then [op] on the channel. */
    private inline fun <R> signalling(dir: Int, op: () -> R): R {
        notifyStateChange(dir)
        return op()
    }

    /** An operation in direction [adjust] blocks when nobody waits: tell the waiters first. */
    private fun notifyStateChange(adjust: Int) {
        if (channel.balance != 0 || channel.closing) return
        balanceAdjust += adjust
        try {
            signal()
        } finally {
            balanceAdjust -= adjust
        }
    }
}

/** The direction of a send, as in [Channel.balance]. */
private const val SEND = 1

/** The direction of a receive. */
private const val RECEIVE = -1
