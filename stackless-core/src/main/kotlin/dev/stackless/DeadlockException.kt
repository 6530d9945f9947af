package dev.stackless

/**
 * Thrown when a tasklet would block but nothing could ever wake it: the run queue is empty and the
 * watchdog (the caller of [Stackless.run], else the main tasklet) is itself blocked.
 *
 * The first line of [message] is Stackless' text (for example
 * `Deadlock: the last runnable tasklet cannot be blocked.`); the following lines name every blocked
 * tasklet of the thread and the channel it waits on.
 */
public class DeadlockException(message: String) : IllegalStateException(message)
