package dev.stackless.lib

import java.util.concurrent.Callable
import kotlin.time.Duration

/**
 * A counting semaphore for tasklets (stacklesslib's `Semaphore`, with `threading.Semaphore`'s
 * semantics): [acquire] takes one of [value] permits, waiting while there is none; [release]
 * gives one back. Releasing more often than acquiring is allowed and raises [value] above its
 * initial value (see [BoundedSemaphore] for the checked kind).
 *
 * Fair: waiters are served in arrival order, and [release] hands its permit straight to the
 * longest waiter, which becomes runnable while the releasing tasklet goes on (it never switches),
 * so a tasklet that comes later cannot take the permit first. A waiter that is killed or timed out
 * never loses a permit: one handed to it just before goes on to the next waiter.
 *
 * The uncontended [acquire] and [release] allocate nothing; the wait queue is created on the first
 * wait. A semaphore is used by the tasklets of one thread (hard tasklets and the main tasklet
 * included); it is not safe to share between threads.
 *
 * @throws IllegalArgumentException "semaphore initial value must be >= 0" if [value] is negative.
 */
public class Semaphore(value: Int = 1) {
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

    /** Gives a permit back: to the longest waiter if there is one, else to [value]. Never switches. */
    public fun release() {
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

    override fun toString(): String = "Semaphore(value=$permits)"
}
