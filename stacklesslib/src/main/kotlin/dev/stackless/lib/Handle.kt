package dev.stackless.lib

/** A callback scheduled on a [MainLoop]; it can be cancelled until it has run. */
public interface Handle {
    /**
     * Removes the callback from its loop so that it never runs (again, for a repeating one).
     * Returns true if it was waiting, false if it had already run or been cancelled.
     */
    public fun cancel(): Boolean

    /** True while the callback waits to run. */
    public val isPending: Boolean
}
