package dev.stackless

/**
 * Thrown by a channel operation that would block on a channel that is [closing][Channel.closing]
 * (Stackless' `ValueError("Send/receive operation on a closed channel")`).
 */
public class ChannelClosedException(message: String) : IllegalStateException(message)
