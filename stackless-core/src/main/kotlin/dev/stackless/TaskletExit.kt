package dev.stackless

/**
 * Raised inside a tasklet by [Tasklet.kill].
 *
 * Like `ThreadDeath`, it is an [Error] so that `catch (e: Exception)` does not swallow it: `finally`
 * blocks run, and a tasklet whose body lets it escape ends silently. It is not silenced in the main
 * tasklet: a killed main tasklet sees it thrown from the blocking call it was in.
 */
public open class TaskletExit(message: String? = null) : Error(message) {
    /** Raised by [Tasklet.kill], which drops a tasklet whose thread has ended instead of failing. */
    @Transient @JvmField @JvmSynthetic internal var fromKill: Boolean = false
}
