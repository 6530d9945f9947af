package dev.stackless

/**
 * Iterates a [Channel] inside a tasklet (`for (x in channel)`): [hasNext] receives the next value,
 * or returns false once the channel is closing with no sender waiting or a
 * [NoSuchElementException] was sent; [next] returns the value received.
 */
public interface ChannelIterator<T> {
    /** Receives the next value; false when the iteration is over (docs/stackless.md §3.6). */
    public suspend operator fun hasNext(): Boolean

    /** The value received by the last [hasNext]. */
    public operator fun next(): T
}
