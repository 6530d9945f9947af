package dev.stackless.lib

import java.util.concurrent.Callable
import kotlin.time.Duration

/**
 * A [Semaphore] that checks its releases: [value] never rises above the initial value, so a
 * release without a matching acquire is caught (stacklesslib's `BoundedSemaphore`). Fair hand-off,
 * timeouts and kills as for [Semaphore]; used by the tasklets of one thread.
 *
 * @throws IllegalArgumentException "semaphore initial value must be >= 0" if [value] is negative.
 */
public class BoundedSemaphore(value: Int = 1) {
    private val initial: Int = value
    private var permits: Int = value
    private var waiters: WaitQueue? = null

    init {
        require(value >= 0) { "semaphore initial value must be >= 0" }
    }

    /** The permits available now; 0 while tasklets wait. */
    public val value: Int get() = permits

    /** True when no permit is available: an [acquire] would wait. */
    public val locked: Boolean get() = permits == 0

    /**
     * Takes a permit, waiting up to [timeout] for one (null or infinite: no limit; zero or negative:
     * no wait). Returns true if it got one, false when the time ran out; it never throws on a
     * timeout. A kill or an enclosing [timeout] ends the wait with its exception and no permit.
     *
     * @throws dev.stackless.DeadlockException when it would wait and nothing could ever wake it.
     */
    public suspend fun acquire(timeout: Duration? = null): Boolean {
        if (permits > 0) {
            permits--
            return true
        }
        return acquireSlow(waitNanos(timeout))
    }

    private suspend fun acquireSlow(nanos: Long): Boolean = nanos != 0L && queue().await(nanos) { it.receive() }

    /** The blocking twin of [acquire], for Java, the main tasklet and non-suspend code. */
    public fun acquireBlocking(timeout: Duration? = null): Boolean {
        if (permits > 0) {
            permits--
            return true
        }
        val nanos = waitNanos(timeout)
        return nanos != 0L && queue().await(nanos) { it.receiveBlocking() }
    }

    /** [acquireBlocking] without a time limit. */
    public fun acquireBlocking(): Boolean = acquireBlocking(null as Duration?)

    /** [acquireBlocking] with a [java.time.Duration] (null: no limit). */
    public fun acquireBlocking(timeout: java.time.Duration?): Boolean = acquireBlocking(timeout.toKotlin())

    /** Takes a permit if one is available now; never waits. */
    public fun tryAcquire(): Boolean {
        if (permits > 0) {
            permits--
            return true
        }
        return false
    }

    /**
     * Gives a permit back: to the longest waiter if there is one, else to [value]. Never switches.
     *
     * @throws IllegalArgumentException "Semaphore released too many times" if every permit is
     *   already back ([value] would exceed the initial value).
     */
    public fun release() {
        require(permits < initial) { "Semaphore released too many times" }
        val q = waiters
        if (q == null || q.grant() == null) permits++
    }

    /** Runs [block] holding a permit, released however [block] ends. */
    public suspend inline fun <R> withLock(block: suspend () -> R): R {
        acquire()
        try {
            return block()
        } finally {
            release()
        }
    }

    /** The blocking twin of [withLock], for Java. */
    public fun <R> withLockBlocking(block: Callable<R>): R {
        acquireBlocking()
        try {
            return block.call()
        } finally {
            release()
        }
    }

    private fun queue(): WaitQueue = waiters ?: WaitQueue(::release).also { waiters = it }

    override fun toString(): String = "BoundedSemaphore(value=$permits/$initial)"
}
