package dev.stackless.lib

import dev.stackless.Channel
import dev.stackless.InternalStacklessApi
import dev.stackless.SchedulerHooks
import dev.stackless.Stackless
import dev.stackless.Tasklet
import kotlin.time.Duration

/**
 * The tasklets waiting on one lock, condition, event or barrier, longest waiter first.
 *
 * A waiter blocks in a receive on [place], a channel nobody sends on: it shows as blocked, a
 * deadlock report names it, and a kill or a [timeout] withdraws it like any channel wait. It is
 * woken by a pending throw of [Wake] rather than by a send, because a pending throw never switches
 * and never fails, neither in a timer callback nor in a tasklet that has a kill waiting for its
 * next switch point: a release can always hand its permit over.
 *
 * What a waiter got is its [Waiter.state], not the exception it wakes with: a kill or an outer
 * timeout that comes after the hand-off replaces the [Wake], but not the hand-off, which the waiter
 * then passes on with [onLostGrant] before it rethrows.
 *
 * Like the primitives built on it, a queue belongs to the tasklets of one thread; nothing here locks
 * ([HomeThread] refuses use from another thread).
 */
@OptIn(InternalStacklessApi::class)
internal class WaitQueue(owner: Any, private val onLostGrant: () -> Unit) {
    private var head: Waiter? = null
    private var tail: Waiter? = null

    /** Where the waiters block; deadlock reports and tasklet descriptions name [owner] for it. */
    @JvmField @JvmSynthetic internal val place: Channel<Unit> = Channel<Unit>().apply { waitingFor = owner }

    /**
     * Blocks the calling tasklet with [block] (a receive on [place]) until [grant] picks it (true) or
     * [nanos] pass (false; [NO_LIMIT] waits forever). Any other exception (a kill, an outer timeout, a
     * deadlock) is rethrown with the wait undone; a grant it had already got goes to [onLostGrant].
     */
    @JvmSynthetic internal inline fun await(nanos: Long, block: (Channel<Unit>) -> Unit): Boolean {
        val w = Waiter(Stackless.current, this)
        link(w)
        val timer = if (nanos > 0) SchedulerHooks.callAt(deadlineIn(nanos), 0, w) else null
        try {
            while (true) {
                try {
                    block(place)
                } catch (e: Throwable) {
                    if (e !== Wake) {
                        abandon(w)
                        throw e
                    }
                    if (w.state != Waiter.WAITING) return w.state == Waiter.GRANTED
                }
            }
        } finally {
            timer?.cancel()
        }
    }

    /**
     * Wakes the longest waiter that still waits and returns it, or returns null if there is none.
     * Never switches: the waiter only becomes runnable. Waiters that were thrown to (a kill, an
     * outer timeout) but have not run yet are skipped; they leave the queue when they run.
     */
    fun grant(): Waiter? {
        var w = head
        while (w != null) {
            if (w.tasklet.blocked != 0) {
                wake(w, Waiter.GRANTED)
                return w
            }
            w = w.next
        }
        return null
    }

    /** [grant] for every waiter that still waits; returns how many. */
    fun grantAll(): Int {
        var n = 0
        while (grant() != null) n++
        return n
    }

    /** The timer of [w] expired: it stops waiting, unless it was granted or thrown to first. */
    fun expire(w: Waiter) {
        if (w.state == Waiter.WAITING && w.tasklet.blocked != 0) wake(w, Waiter.TIMED_OUT)
    }

    private fun wake(w: Waiter, state: Int) {
        unlink(w)
        w.state = state
        SchedulerHooks.throwPending(w.tasklet, Wake)
    }

    /** [w]'s wait ended by an exception: it leaves the queue, or passes on what it was given. */
    @JvmSynthetic internal fun abandon(w: Waiter) {
        when (w.state) {
            Waiter.WAITING -> unlink(w)
            Waiter.GRANTED -> onLostGrant()
        }
    }

    @JvmSynthetic internal fun link(w: Waiter) {
        val last = tail
        w.prev = last
        if (last == null) head = w else last.next = w
        tail = w
    }

    private fun unlink(w: Waiter) {
        val n = w.next
        val p = w.prev
        if (p == null) head = n else p.next = n
        if (n == null) tail = p else n.prev = p
        w.next = null
        w.prev = null
    }

    companion object {
        /** The wait of [await] has no time limit. */
        const val NO_LIMIT: Long = -1L
    }
}

/** One wait of [tasklet] in [queue]; also the timer callback that ends it. */
internal class Waiter(@JvmField val tasklet: Tasklet, private val queue: WaitQueue) : Runnable {
    @JvmField var next: Waiter? = null
    @JvmField var prev: Waiter? = null
    @JvmField var state: Int = WAITING

    override fun run() {
        queue.expire(this)
    }

    companion object {
        const val WAITING = 0
        const val GRANTED = 1
        const val TIMED_OUT = 2
    }
}

/** Thrown pending into a waiter to wake it; its [Waiter.state] says why. Shared: it has no stack trace. */
internal object Wake : Throwable("wake-up of a lock waiter", null, false, false)

/**
 * The wait of [timeout] in nanoseconds for [WaitQueue.await]: [WaitQueue.NO_LIMIT] for null or
 * infinite (wait forever), 0 for zero or negative (do not wait), else at least 1.
 */
internal fun waitNanos(timeout: Duration?): Long = when {
    timeout == null || timeout.isInfinite() -> WaitQueue.NO_LIMIT
    !timeout.isPositive() -> 0L
    else -> timeout.inWholeNanoseconds.coerceAtLeast(1)
}

/** The nanoseconds left until [deadline] for the next wait of a loop that started with [nanos]. */
internal fun nanosLeft(nanos: Long, deadline: Long): Long =
    if (nanos <= 0) nanos else (deadline - System.nanoTime()).coerceAtLeast(0)
