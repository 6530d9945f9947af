package dev.stackless

/**
 * The part of a tasklet's state that most tasklets never use: an exception waiting for its next
 * switch point, a hard tasklet's body before its carrier starts, and what a kotlinx.coroutines
 * suspension needs. A [Tasklet] allocates it when the first of these is set and keeps it; the
 * others read null through [Tasklet.extras] without allocating.
 */
internal class TaskletExtras : java.io.Serializable {
    /** [Tasklet.pendingError]. */
    @JvmField var pendingError: Throwable? = null

    /** [Tasklet.hardBody]. */
    @JvmField var hardBody: Runnable? = null

    /** [Tasklet.foreignResumes]. */
    @Transient @JvmField var foreignResumes: ArrayDeque<Runnable>? = null

    /** [Tasklet.foreignCancel]. */
    @Transient @JvmField var foreignCancel: kotlinx.coroutines.CancellableContinuation<*>? = null

    private companion object {
        private const val serialVersionUID = 1L
    }
}
