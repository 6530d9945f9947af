package dev.stackless.lib

/**
 * How [taskletCall] and [AsyncToSync] start the tasklet that runs a function
 * (stacklesslib's `tasklet_run` and `tasklet_new` dispatchers).
 */
public enum class TaskletDispatch {
    /** The new tasklet runs at once, until it first switches; the caller stays runnable behind it. */
    RUN,

    /** The new tasklet goes to the end of the runnables queue; the caller goes on. */
    NEW,
}
