package dev.stackless.lib

import java.util.concurrent.Callable
import java.util.function.BooleanSupplier
import kotlin.time.Duration

/**
 * A condition variable for tasklets (stacklesslib's `Condition`, with `threading.Condition`'s
 * semantics): tasklets holding [lock] [wait] until another tasklet holding it calls [notify] or
 * [notifyAll]. The lock operations ([acquire], [release], [withLock], …) are [lock]'s.
 *
 * Waiters are woken in arrival order, and a notification goes to a tasklet that waits at the
 * moment of the [notify], never to one that comes later. A notification is not lost to a waiter
 * that is killed or timed out after it was chosen but before its [wait] returned: it goes on to
 * the next waiter. A notification with nobody waiting is dropped, as in Python.
 *
 * Used by the tasklets of one thread; it is not safe to share between threads.
 */
public class Condition @JvmOverloads constructor(
    /** The lock this condition releases while waiting and takes back before [wait] returns. */
    public val lock: RLock = RLock(),
) {
    private var waiters: WaitQueue? = null

    /** True while some tasklet holds [lock]. */
    public val locked: Boolean get() = lock.locked

    /** True when the calling tasklet holds [lock]. */
    public val isOwned: Boolean get() = lock.isOwned

    /** [RLock.acquire] of [lock]. */
    public suspend fun acquire(timeout: Duration? = null): Boolean = lock.acquire(timeout)

    /** [RLock.acquireBlocking] of [lock]. */
    public fun acquireBlocking(timeout: Duration? = null): Boolean = lock.acquireBlocking(timeout)

    /** [RLock.acquireBlocking] of [lock], without a time limit. */
    public fun acquireBlocking(): Boolean = lock.acquireBlocking()

    /** [RLock.acquireBlocking] of [lock] with a [java.time.Duration] (null: no limit). */
    public fun acquireBlocking(timeout: java.time.Duration?): Boolean = lock.acquireBlocking(timeout)

    /** [RLock.tryAcquire] of [lock]. */
    public fun tryAcquire(): Boolean = lock.tryAcquire()

    /**
     * [RLock.release] of [lock].
     *
     * @throws IllegalStateException "cannot release un-acquired lock" if the calling tasklet does not hold it.
     */
    public fun release(): Unit = lock.release()

    /** [RLock.withLock] of [lock]. */
    public suspend inline fun <R> withLock(block: suspend () -> R): R = lock.withLock(block)

    /** [RLock.withLockBlocking] of [lock]. */
    public fun <R> withLockBlocking(block: Callable<R>): R = lock.withLockBlocking(block)

    /**
     * Releases [lock] (fully, at any depth), waits up to [timeout] (null or infinite: no limit;
     * zero or negative: no wait) for a [notify], then takes [lock] back at its old depth. Returns
     * true if notified, false if the time ran out.
     *
     * [lock] is taken back however the wait ends, as Java's `Condition.await` does, so that the
     * caller's `finally` can release it: a kill or an enclosing [timeout] is rethrown only once the
     * lock is held again (a second exception while taking it back is dropped). Only if the lock
     * can never be had (a deadlock, a switch or block trap) is that error thrown without it.
     *
     * @throws IllegalStateException "cannot wait on un-acquired lock" if the calling tasklet does not hold [lock].
     */
    public suspend fun wait(timeout: Duration? = null): Boolean = awaitNotify(waitNanos(timeout))

    /** The blocking twin of [wait], for Java, the main tasklet and non-suspend code. */
    public fun waitBlocking(timeout: Duration? = null): Boolean = awaitNotifyBlocking(waitNanos(timeout))

    /** [waitBlocking] without a time limit. */
    public fun waitBlocking(): Boolean = awaitNotifyBlocking(WaitQueue.NO_LIMIT)

    /** [waitBlocking] with a [java.time.Duration] (null: no limit). */
    public fun waitBlocking(timeout: java.time.Duration?): Boolean = waitBlocking(timeout.toKotlin())

    /**
     * Waits until [predicate] holds, for at most [timeout] in all: returns at once if it holds,
     * else [wait]s and checks again after each wake-up; returns [predicate]'s last value (false
     * when the time ran out first). With a zero [timeout] it waits once. Errors as for [wait].
     */
    public suspend fun waitFor(timeout: Duration? = null, predicate: () -> Boolean): Boolean =
        waitForWith(timeout, predicate) { awaitNotify(it) }

    /** The blocking twin of [waitFor], for Java, the main tasklet and non-suspend code. */
    public fun waitForBlocking(timeout: Duration? = null, predicate: BooleanSupplier): Boolean =
        waitForWith(timeout, predicate::getAsBoolean) { awaitNotifyBlocking(it) }

    /** [waitForBlocking] without a time limit. */
    public fun waitForBlocking(predicate: BooleanSupplier): Boolean = waitForBlocking(null as Duration?, predicate)

    /** [waitForBlocking] with a [java.time.Duration] (null: no limit). */
    public fun waitForBlocking(timeout: java.time.Duration?, predicate: BooleanSupplier): Boolean =
        waitForBlocking(timeout.toKotlin(), predicate)

    /**
     * Wakes the [n] longest waiters (fewer if fewer wait). They become runnable; each returns from
     * [wait] once it has [lock] back. Never switches.
     *
     * @throws IllegalStateException "cannot notify on un-acquired lock" if the calling tasklet does not hold [lock].
     * @throws IllegalArgumentException if [n] is negative.
     */
    public fun notify(n: Int = 1) {
        check(lock.isOwned) { "cannot notify on un-acquired lock" }
        require(n >= 0) { "cannot notify a negative number of waiters: $n" }
        val q = waiters ?: return
        var left = n
        while (left > 0 && q.grant() != null) left--
    }

    /**
     * Wakes every waiter, in arrival order. Called `notifyAllWaiters` from Java, since
     * `Object.notifyAll()` is final.
     *
     * @throws IllegalStateException "cannot notify on un-acquired lock" if the calling tasklet does not hold [lock].
     */
    @JvmName("notifyAllWaiters")
    public fun notifyAll() {
        check(lock.isOwned) { "cannot notify on un-acquired lock" }
        waiters?.grantAll()
    }

    private suspend fun awaitNotify(nanos: Long): Boolean =
        waitWith(nanos, { q, n -> q.await(n) { it.receive() } }, { lock.acquire() })

    private fun awaitNotifyBlocking(nanos: Long): Boolean =
        waitWith(nanos, { q, n -> q.await(n) { it.receiveBlocking() } }, { lock.acquireBlocking() })

    /** The body of [wait] around its two blocking steps, [await] (notification) and [acquire] ([lock]). */
    private inline fun waitWith(nanos: Long, await: (WaitQueue, Long) -> Boolean, acquire: () -> Boolean): Boolean {
        check(lock.isOwned) { "cannot wait on un-acquired lock" }
        val q = queue()
        val depth = lock.releaseAll()
        var notified = false
        var failure: Throwable? = null
        try {
            notified = nanos != 0L && await(q, nanos)
        } catch (e: Throwable) {
            failure = e
        }
        while (true) {
            try {
                acquire()
                break
            } catch (e: Throwable) {
                if (failure == null) {
                    failure = e
                    // Notified, but this wait() will not return normally: the next waiter gets it.
                    if (notified) q.grant()
                }
                // A deadlock or a trap would fail every retry.
                if (e is IllegalStateException) throw failure
            }
        }
        lock.restore(depth)
        if (failure != null) throw failure
        return notified
    }

    private inline fun waitForWith(timeout: Duration?, predicate: () -> Boolean, wait: (Long) -> Unit): Boolean {
        var result = predicate()
        if (result) return true
        val nanos = waitNanos(timeout)
        val deadline = if (nanos > 0) deadlineIn(nanos) else 0L
        var first = true
        while (!result) {
            val left = nanosLeft(nanos, deadline)
            if (!first && left == 0L) break
            first = false
            wait(left)
            result = predicate()
        }
        return result
    }

    // A waiter chosen by notify() that dies before it runs passes the notification on.
    private fun queue(): WaitQueue = waiters ?: WaitQueue(this) { waiters?.grant() }.also { waiters = it }

    override fun toString(): String = "Condition($lock)"
}
