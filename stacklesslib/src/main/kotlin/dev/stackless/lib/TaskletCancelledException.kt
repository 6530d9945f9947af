package dev.stackless.lib

import java.util.concurrent.CancellationException

/**
 * A Stackless operation was cancelled (stacklesslib's `CancelledError`): raised by [Cancellable.run]
 * when its handle is cancelled, by [SyncToAsync.call] when the call is cancelled, and by
 * [taskletCall] when the called tasklet was killed. [args] are the values given to the cancel
 * (empty for a kill); the message is `cancelled`, followed by `: ` and the args when there are any.
 */
public class TaskletCancelledException @JvmOverloads constructor(
    /** The values given to the cancel, in order. */
    public val args: List<Any?> = emptyList(),
    cause: Throwable? = null,
) : CancellationException(if (args.isEmpty()) "cancelled" else "cancelled: " + args.joinToString(", ")) {
    init {
        if (cause != null) initCause(cause)
    }
}
