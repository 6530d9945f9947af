package dev.stackless.lib

import java.util.concurrent.Callable
import kotlin.time.Duration

/**
 * A mutual-exclusion lock for tasklets (stacklesslib's `Lock`, with `threading.Lock`'s semantics):
 * not reentrant (the holder that acquires again waits for itself) and not owned (any tasklet may
 * release it).
 *
 * Fair: waiters are served in arrival order, and [release] hands the lock straight to the longest
 * waiter, which becomes runnable while the releasing tasklet goes on (it never switches), so a
 * tasklet that comes later cannot take the lock first. A waiter that is killed or timed out never
 * loses the lock: if it was handed over just before, it goes on to the next waiter.
 *
 * The uncontended [acquire] and [release] allocate nothing; the wait queue is created on the first
 * wait. A lock is used by the tasklets of one thread (hard tasklets and the main tasklet included);
 * it is not safe to share between threads.
 */
public class Lock {
    private var held: Boolean = false
    private var waiters: WaitQueue? = null

    /** True while some tasklet holds the lock. */
    public val locked: Boolean get() = held

    /**
     * Takes the lock, waiting up to [timeout] for it (null or infinite: no limit; zero or negative:
     * no wait). Returns true if it got it, false when the time ran out; it never throws on a
     * timeout. A kill or an enclosing [timeout] ends the wait with its exception, without the lock.
     *
     * @throws dev.stackless.DeadlockException when it would wait and nothing could ever wake it.
     */
    public suspend fun acquire(timeout: Duration? = null): Boolean {
        if (!held) {
            held = true
            return true
        }
        return acquireSlow(waitNanos(timeout))
    }

    private suspend fun acquireSlow(nanos: Long): Boolean = nanos != 0L && queue().await(nanos) { it.receive() }

    /** The blocking twin of [acquire], for Java, the main tasklet and non-suspend code. */
    public fun acquireBlocking(timeout: Duration? = null): Boolean {
        if (!held) {
            held = true
            return true
        }
        val nanos = waitNanos(timeout)
        return nanos != 0L && queue().await(nanos) { it.receiveBlocking() }
    }

    /** [acquireBlocking] without a time limit. */
    public fun acquireBlocking(): Boolean = acquireBlocking(null as Duration?)

    /** [acquireBlocking] with a [java.time.Duration] (null: no limit). */
    public fun acquireBlocking(timeout: java.time.Duration?): Boolean = acquireBlocking(timeout.toKotlin())

    /** Takes the lock if it is free now; never waits. */
    public fun tryAcquire(): Boolean {
        if (!held) {
            held = true
            return true
        }
        return false
    }

    /**
     * Releases the lock, whoever holds it: the longest waiter gets it, else it becomes free.
     * Never switches.
     *
     * @throws IllegalStateException "release unlocked lock" if it is not locked.
     */
    public fun release() {
        check(held) { "release unlocked lock" }
        val q = waiters
        if (q == null || q.grant() == null) held = false
    }

    /** Runs [block] holding the lock, released however [block] ends. */
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

    override fun toString(): String = if (held) "Lock(locked)" else "Lock(unlocked)"
}
