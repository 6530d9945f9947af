package dev.stackless.lib

import kotlin.time.Duration

/**
 * A flag tasklets can wait for (stacklesslib's `Event`, with `threading.Event`'s semantics):
 * [set] raises it and wakes every waiter, [clear] lowers it, [wait] waits until it is raised.
 *
 * [set] never switches: the waiters become runnable in arrival order and the setter goes on. It
 * may be called from a timer callback ([MainLoop.callLater]). Used by the tasklets of one thread;
 * it is not safe to share between threads.
 */
public class Event {
    private var flag: Boolean = false
    private var waiters: WaitQueue? = null
    private val home = HomeThread()

    /** Whether the flag is raised. */
    public val isSet: Boolean get() = flag

    /** Raises the flag and wakes every waiting tasklet. Never switches. */
    public fun set() {
        home.check(this)
        flag = true
        waiters?.grantAll()
    }

    /** Lowers the flag; later [wait]s wait again. */
    public fun clear() {
        home.check(this)
        flag = false
    }

    /**
     * Returns true at once if the flag is raised; else waits up to [timeout] (null or infinite: no
     * limit; zero or negative: no wait) for a [set]. Returns the flag as it is when the waiter runs
     * again: false after a timeout, and also false if a [clear] came before the woken waiter ran.
     * A kill or an enclosing [timeout] ends the wait with its exception.
     *
     * @throws dev.stackless.DeadlockException when it would wait and nothing could ever wake it.
     */
    public suspend fun wait(timeout: Duration? = null): Boolean {
        if (flag) return true
        return waitSlow(waitNanos(timeout))
    }

    private suspend fun waitSlow(nanos: Long): Boolean {
        if (nanos != 0L) queue().await(nanos) { it.receive() }
        return flag
    }

    /** The blocking twin of [wait], for Java, the main tasklet and non-suspend code. */
    public fun waitBlocking(timeout: Duration? = null): Boolean {
        if (flag) return true
        val nanos = waitNanos(timeout)
        if (nanos != 0L) queue().await(nanos) { it.receiveBlocking() }
        return flag
    }

    /** [waitBlocking] without a time limit. */
    public fun waitBlocking(): Boolean = waitBlocking(null as Duration?)

    /** [waitBlocking] with a [java.time.Duration] (null: no limit). */
    public fun waitBlocking(timeout: java.time.Duration?): Boolean = waitBlocking(timeout.toKotlin())

    // set() wakes everybody: a woken waiter that dies before it runs has nothing to pass on.
    /** The queue a waiter joins; a wait from another thread than the event's fails here. */
    private fun queue(): WaitQueue {
        home.check(this)
        return waiters ?: WaitQueue(this) {}.also { waiters = it }
    }

    override fun toString(): String = if (flag) "Event(set)" else "Event(clear)"
}
