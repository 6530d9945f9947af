package dev.stackless

/**
 * A producer that feeds a channel on demand ([Channel.feeder]), as a Python generator yields only
 * when it is iterated: it hears when a receiver comes to wait and when one leaves, so that it can
 * make a value for a waiting receiver instead of waiting on the channel itself while nobody reads.
 *
 * Both calls come on the receiver's thread (or the thread that made it leave) in the middle of a
 * channel operation, under the rules of a channel callback: they must not switch; they may set up,
 * insert or wake tasklets.
 */
@InternalStacklessApi
public interface ChannelFeeder {
    /**
     * A receiver is about to wait, no sender being there. An exception thrown here fails that
     * receive, with the channel and the receiver as they were.
     */
    public fun receiverWaits()

    /** A waiting receiver left without a value: killed, thrown to or timed out. */
    public fun receiverLeft()
}
