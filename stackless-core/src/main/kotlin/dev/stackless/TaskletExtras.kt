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

// The tasklet's fields kept here, read and written as if they were its own.

/** An exception thrown to it while [opDone] (or while it was running): raised at its next switch point. */
internal var Tasklet.pendingError: Throwable?
    @JvmSynthetic get() = extras?.pendingError
    @JvmSynthetic set(value) {
        extrasFor(value)?.pendingError = value
    }

/** Resumptions dispatched to this tasklet by kotlinx.coroutines, run in order when it runs. */
internal var Tasklet.foreignResumes: ArrayDeque<Runnable>?
    @JvmSynthetic get() = extras?.foreignResumes
    @JvmSynthetic set(value) {
        extrasFor(value)?.foreignResumes = value
    }

/** The `delay` this tasklet waits in, which a kill or throw cancels at once. */
internal var Tasklet.foreignCancel: kotlinx.coroutines.CancellableContinuation<*>?
    @JvmSynthetic get() = extras?.foreignCancel
    @JvmSynthetic set(value) {
        extrasFor(value)?.foreignCancel = value
    }

/** A hard tasklet's body until its carrier thread starts. */
internal var Tasklet.hardBody: Runnable?
    @JvmSynthetic get() = extras?.hardBody
    @JvmSynthetic set(value) {
        extrasFor(value)?.hardBody = value
    }

/** [extras] to store [value] in: created for a non-null value, null (nothing to clear) otherwise. */
private fun Tasklet.extrasFor(value: Any?): TaskletExtras? =
    extras ?: if (value == null) null else TaskletExtras().also { extras = it }
