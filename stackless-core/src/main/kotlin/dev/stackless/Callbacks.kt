package dev.stackless

/**
 * Called for every real switch between two tasklets of a thread, after the run queue has been
 * updated and before control moves (see [Stackless.setScheduleCallback]).
 *
 * [prev] is the tasklet that stops running (the dying tasklet when one ends), [next] the one that
 * runs now; `onSchedule(null, main)` is called when a thread's main tasklet is created. The callback
 * must not switch tasklets; an exception it throws is printed and ignored.
 */
public fun interface ScheduleCallback {
    /** Notifies a switch from [prev] to [next]. */
    public fun onSchedule(prev: Tasklet?, next: Tasklet?)
}

/**
 * Called once per channel operation, before it acts (see [Stackless.setChannelCallback]).
 * [sending] is true for a send, [willBlock] true when no partner is waiting. A channel operation made
 * inside the callback throws `IllegalStateException("Recursive channel call due to callbacks!")`.
 */
public fun interface ChannelCallback {
    /** Notifies that [tasklet] sends to or receives from [channel]. */
    public fun onChannel(channel: Channel<*>, tasklet: Tasklet, sending: Boolean, willBlock: Boolean)
}

/**
 * Receives the uncaught exceptions of tasklets instead of the watchdog (see
 * [Stackless.setErrorHandler]). It runs in the dying tasklet. If it returns, the exception is
 * swallowed; if it throws, the new exception goes to the watchdog.
 */
public fun interface ErrorHandler {
    /** Handles [error], which ended [tasklet]. */
    public fun onError(tasklet: Tasklet, error: Throwable)
}

/** Stackless prints and ignores an exception of the schedule callback; the switch proceeds. */
internal fun notifySafely(cb: ScheduleCallback, prev: Tasklet?, next: Tasklet) {
    try {
        cb.onSchedule(prev, next)
    } catch (e: Throwable) {
        System.err.println("Exception ignored in: 'Error in scheduling callback'")
        e.printStackTrace()
    }
}
