package dev.stackless.lib

import dev.stackless.Channel

/**
 * A channel for signals that never block the signaller (stacklesslib's `SignalChannel`): tasklets
 * wait in [receive]; [signal] hands a value to the first of them, if any, and [signalAll] to every
 * one waiting at that moment, in the order they came. A signal nobody waits for is lost: there is
 * no memory. Woken receivers are only made runnable (channel preference 1); the signaller goes on.
 *
 * [dev.stackless.Channel] is final, so this wraps one rather than extending it. Waiters may be
 * killed or timed out while they wait: they leave the channel and are no longer counted. Signal from
 * tasklets or the main tasklet, not from timer callbacks (a channel operation there throws
 * [IllegalStateException]). With waiters on another thread, a waiter withdrawn at the very moment of
 * the signal can make [signal] wait for the next receiver, since the check and the hand-off cannot
 * be one step across threads; with waiters of its own thread it never waits.
 */
public class SignalChannel<T> {
    private val channel = Channel<T>().also { it.preference = 1 }

    /** Tasklets waiting in [receive], as a negative number (0 when none waits), like [Channel.balance]. */
    public val balance: Int get() = channel.balance

    /** Waits for the next signal and returns its value. Errors as for [Channel.receive]. */
    public suspend fun receive(): T = channel.receive()

    /** The blocking twin of [receive]. */
    public fun receiveBlocking(): T = channel.receiveBlocking()

    /**
     * Wakes the first waiting tasklet with [value] and returns true, or returns false if none waits
     * (the signal is lost). It does not switch: it is a switch point only for an exception pending
     * for the caller, which it raises, and for a watchdog's interruption.
     */
    public suspend fun signal(value: T): Boolean {
        if (channel.balance >= 0) return false
        channel.send(value)
        return true
    }

    /** The blocking twin of [signal]. */
    public fun signalBlocking(value: T): Boolean {
        if (channel.balance >= 0) return false
        channel.sendBlocking(value)
        return true
    }

    /** Wakes every tasklet waiting now with [value], first come first served; returns how many. Switches as [signal]. */
    public suspend fun signalAll(value: T): Int = signalAllWith { channel.send(value) }

    /** The blocking twin of [signalAll]. */
    public fun signalAllBlocking(value: T): Int = signalAllWith { channel.sendBlocking(value) }

    /**
     * [signalAll]'s loop around one send, [send]. Snapshot: a woken receiver that comes back to wait
     * (another thread's) is not woken twice.
     */
    private inline fun signalAllWith(send: () -> Unit): Int {
        var n = 0
        for (i in 0 until -channel.balance) {
            if (channel.balance >= 0) break
            send()
            n++
        }
        return n
    }

    override fun toString(): String = "SignalChannel(waiting=${maxOf(0, -channel.balance)})"
}
