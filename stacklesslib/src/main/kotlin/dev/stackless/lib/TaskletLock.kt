package dev.stackless.lib

import java.util.concurrent.Callable
import kotlin.time.Duration

/**
 * What [Lock], [RLock], [Semaphore] and [BoundedSemaphore] share (stacklesslib's `LockMixin` and
 * `Semaphore.acquire`): an acquire that waits, with an optional time limit, in a FIFO queue of
 * waiters created on the first wait, its blocking twins and [withLock]. The subclasses say what
 * taking and giving back mean ([tryAcquire], [release]); a release with waiters hands the lock or
 * permit straight to the longest one.
 */
public abstract class TaskletLock internal constructor() {
    /** The waiters, created on the first wait; a release hands over to them with [WaitQueue.grant]. */
    @get:JvmSynthetic @set:JvmSynthetic internal var waiters: WaitQueue? = null

    /** The thread whose tasklets use it: every [tryAcquire] and [release] checks it. */
    @get:JvmSynthetic internal val home: HomeThread = HomeThread()

    /** True when an [acquire] would wait (for [RLock]: some tasklet holds it). */
    public abstract val locked: Boolean

    /** Takes the lock or a permit if the calling tasklet can have it now; never waits. */
    public abstract fun tryAcquire(): Boolean

    /** Gives the lock or a permit back: to the longest waiter if there is one. Never switches. */
    public abstract fun release()

    /** What was handed to a waiter that left (killed, timed out) before it ran goes on. */
    @JvmSynthetic internal open fun passOn() {
        release()
    }

    /**
     * Takes the lock or a permit, waiting up to [timeout] for it (null or infinite: no limit; zero
     * or negative: no wait). Returns true if it got it, false when the time ran out; it never throws
     * on a timeout. A kill or an enclosing [timeout] ends the wait with its exception, empty-handed.
     *
     * @throws dev.stackless.DeadlockException when it would wait and nothing could ever wake it.
     */
    public suspend fun acquire(timeout: Duration? = null): Boolean {
        if (tryAcquire()) return true
        return acquireSlow(waitNanos(timeout))
    }

    private suspend fun acquireSlow(nanos: Long): Boolean = nanos != 0L && queue().await(nanos) { it.receive() }

    /** The blocking twin of [acquire], for Java, the main tasklet and non-suspend code. */
    public fun acquireBlocking(timeout: Duration? = null): Boolean {
        if (tryAcquire()) return true
        val nanos = waitNanos(timeout)
        return nanos != 0L && queue().await(nanos) { it.receiveBlocking() }
    }

    /** [acquireBlocking] without a time limit. */
    public fun acquireBlocking(): Boolean = acquireBlocking(null as Duration?)

    /** [acquireBlocking] with a [java.time.Duration] (null: no limit). */
    public fun acquireBlocking(timeout: java.time.Duration?): Boolean = acquireBlocking(timeout.toKotlin())

    /** Runs [block] holding the lock or a permit, released however [block] ends. */
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

    private fun queue(): WaitQueue = waiters ?: WaitQueue(this, ::passOn).also { waiters = it }
}
