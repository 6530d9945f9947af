package dev.stackless.lib

import kotlin.time.Duration

/**
 * A barrier for a fixed number of tasklets (stacklesslib's `Barrier`, a copy of Python's
 * `threading.Barrier`): each of [parties] tasklets calls [await], and all of them go on once the
 * last one has arrived. The last one runs [action] first; then the barrier is ready for the next
 * round. Arrivals during the release of a round wait for the next one.
 *
 * When a wait times out, the barrier breaks: every waiter, and every later [await] until [reset],
 * gets [BrokenBarrierException]; [action] throwing breaks it too. [action] runs on the last
 * arriving tasklet; if it switches and the barrier is reset or aborted meanwhile, that tasklet gets
 * [BrokenBarrierException] as well. A waiter that is killed simply leaves (as in Python: the
 * barrier stays whole and waits for another arrival).
 *
 * Used by the tasklets of one thread; it is not safe to share between threads.
 *
 * @throws IllegalArgumentException if [parties] is less than 1.
 */
public class Barrier @JvmOverloads constructor(
    /** The number of tasklets that must call [await] for the barrier to let them pass. */
    public val parties: Int,
    private val action: Runnable? = null,
) {
    /** Used by [await] when it is given no timeout. */
    private var defaultTimeout: Duration? = null

    /** A barrier whose [await]s use [timeout] when they are given none. */
    public constructor(parties: Int, action: Runnable?, timeout: Duration?) : this(parties, action) {
        defaultTimeout = timeout
    }

    /** A barrier whose [await]s use [timeout] when they are given none (Java). */
    public constructor(parties: Int, action: Runnable?, timeout: java.time.Duration?) :
        this(parties, action, timeout.toKotlin())

    init {
        require(parties >= 1) { "parties must be >= 1: $parties" }
    }

    private var state: Int = FILLING
    private var count: Int = 0

    // Every change is announced to all waiters, who look again: a dead one has nothing to pass on.
    private val waiters = WaitQueue(this) {}
    private val home = HomeThread()

    /** The number of tasklets waiting for the current round to fill (0 while it is released or reset). */
    public val nWaiting: Int get() = if (state == FILLING) count else 0

    /** True when the barrier is broken (a timeout, an [abort], a failed [action]) until [reset]. */
    public val broken: Boolean get() = state == BROKEN

    /**
     * Waits until [parties] tasklets have called it, up to [timeout] (null: the barrier's default
     * timeout, else no limit; zero or negative: no wait). Returns the caller's arrival index in
     * its round, 0 to [parties] - 1; the last arriver (index [parties] - 1) runs the action first.
     *
     * @throws BrokenBarrierException if the barrier is or becomes broken, is reset while waiting,
     *   or the wait times out (which breaks it).
     */
    public suspend fun await(timeout: Duration? = null): Int = awaitWith(timeout) { n -> waiters.await(n) { it.receive() } }

    /** The blocking twin of [await], for Java, the main tasklet and non-suspend code. */
    public fun awaitBlocking(timeout: Duration? = null): Int = awaitWith(timeout) { n -> waiters.await(n) { it.receiveBlocking() } }

    /** [awaitBlocking] with the barrier's default timeout. */
    public fun awaitBlocking(): Int = awaitBlocking(null as Duration?)

    /** [awaitBlocking] with a [java.time.Duration] (null: the barrier's default timeout). */
    public fun awaitBlocking(timeout: java.time.Duration?): Int = awaitBlocking(timeout.toKotlin())

    /**
     * Returns the barrier to its initial state: tasklets waiting in the current round get
     * [BrokenBarrierException], and a broken barrier is whole again once they have left.
     */
    public fun reset() {
        home.check(this)
        if (count > 0) {
            if (state == FILLING || state == BROKEN) state = RESETTING
        } else {
            state = FILLING
        }
        waiters.grantAll()
    }

    /** Breaks the barrier: current and later [await]s throw [BrokenBarrierException] until [reset]. */
    public fun abort() {
        home.check(this)
        breakBarrier()
    }

    private inline fun awaitWith(timeout: Duration?, wait: (Long) -> Boolean): Int {
        home.check(this)
        // The previous round is still leaving (or its last arriver is running the action).
        while (state == DRAINING || state == RESETTING || (state == FILLING && count == parties)) {
            wait(WaitQueue.NO_LIMIT)
        }
        if (state == BROKEN) throw BrokenBarrierException()
        val index = count++
        try {
            if (index + 1 == parties) trip() else waitForTrip(timeout ?: defaultTimeout, wait)
            return index
        } finally {
            count--
            // The last one out opens the next round.
            if (count == 0 && (state == DRAINING || state == RESETTING)) {
                state = FILLING
                waiters.grantAll()
            }
        }
    }

    /** The last arriver: runs the action and releases the round. */
    private fun trip() {
        try {
            action?.run()
        } catch (e: Throwable) {
            breakBarrier()
            throw e
        }
        if (state != FILLING) throw BrokenBarrierException()
        state = DRAINING
        waiters.grantAll()
    }

    private inline fun waitForTrip(timeout: Duration?, wait: (Long) -> Boolean) {
        val nanos = waitNanos(timeout)
        val deadline = if (nanos > 0) deadlineIn(nanos) else 0L
        while (state == FILLING) {
            val left = nanosLeft(nanos, deadline)
            if (left == 0L || !wait(left)) {
                if (state == FILLING) {
                    breakBarrier()
                    throw BrokenBarrierException()
                }
                break
            }
        }
        if (state == RESETTING || state == BROKEN) throw BrokenBarrierException()
    }

    private fun breakBarrier() {
        state = BROKEN
        waiters.grantAll()
    }

    override fun toString(): String = "Barrier(parties=$parties, waiting=$nWaiting" + (if (broken) ", broken)" else ")")
}

// The states of a Barrier, as in Python's threading.Barrier.
private const val FILLING = 0
private const val DRAINING = 1
private const val RESETTING = -1
private const val BROKEN = -2
