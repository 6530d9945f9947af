package dev.stackless

/**
 * A producer that feeds a channel on demand ([Channel.feeder]), as a Python generator yields only
 * when it is iterated: it hears when a receiver comes to wait and when one leaves, so that it can
 * make a value for a waiting receiver instead of waiting on the channel itself while nobody reads.
 *
 * Both calls come in the middle of an operation: [receiverWaits] on the receiver's thread inside its
 * receive, where a switch is refused as in a channel callback; [receiverLeft] on the thread that
 * killed, threw to or timed out the receiver. Neither may switch; both may set up, insert or wake
 * tasklets.
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
