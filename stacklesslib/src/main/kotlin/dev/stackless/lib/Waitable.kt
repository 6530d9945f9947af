package dev.stackless.lib

import dev.stackless.Stackless
import dev.stackless.Tasklet
import kotlin.time.Duration

/**
 * Something a tasklet can wait for (stacklesslib's "wait protocol"): it calls its done callbacks
 * when it becomes signalled. [Observer]s, [WaitChannel]s and [WaitSite] subclasses are waitables;
 * [swait] waits for one.
 *
 * Callbacks run on whoever signals, between switch points: they must not block or switch (a
 * channel operation there may fail); waking a tasklet up is what they are for.
 */
public interface Waitable {
    /** Whether the waitable is signalled now: a callback added now is called at once. */
    public val isSignalled: Boolean

    /**
     * Registers [cb] to be called with this waitable when it is next signalled. If it is already
     * [isSignalled], [cb] is called at once instead and is not kept.
     */
    public fun addDoneCallback(cb: (Waitable) -> Unit)

    /** Unregisters [cb] (compared with `==`); nothing happens if it is not registered. */
    public fun removeDoneCallback(cb: (Waitable) -> Unit)
}

/**
 * A [Waitable] made signalled by [signal] (stacklesslib's `WaitSite`). It is never [isSignalled]
 * by itself: subclasses that have a state (a flag, a result) override it. Callbacks are one-shot:
 * [signal] calls every registered callback once and forgets them. Safe to share between threads;
 * the callbacks run on the signalling thread.
 */
public open class WaitSite : Waitable {
    private var callbacks = ArrayList<(Waitable) -> Unit>()

    /** The size at which [addDoneCallback] next drops callbacks of collected [Observer]s. */
    private var pruneAt = PRUNE_MIN

    /** False here; subclasses with a state say whether it is reached. */
    override val isSignalled: Boolean get() = false

    override fun addDoneCallback(cb: (Waitable) -> Unit) {
        if (isSignalled) {
            call(cb)
            return
        }
        synchronized(this) {
            // An observer that was collected without close() leaves its callback behind; drop
            // those now and then, so that a waitable never signalled does not pile them up.
            if (callbacks.size >= pruneAt) {
                callbacks.removeAll { it is WeakObserverCallback && it.isCleared }
                pruneAt = maxOf(PRUNE_MIN, callbacks.size * 2)
            }
            callbacks.add(cb)
        }
        // Signalled meanwhile (another thread): the signal may have missed cb.
        if (isSignalled && synchronized(this) { callbacks.remove(cb) }) call(cb)
    }

    override fun removeDoneCallback(cb: (Waitable) -> Unit) {
        synchronized(this) { callbacks.remove(cb) }
    }

    /**
     * Calls every registered callback once, in the order they were added, and unregisters them all;
     * callbacks added meanwhile wait for the next signal. A callback that throws has its exception
     * passed to [handleException], and the others still run.
     */
    public fun signal() {
        val now = synchronized(this) {
            if (callbacks.isEmpty()) return
            callbacks.also { callbacks = ArrayList() }
        }
        for (cb in now) call(cb)
    }

    /** What to do with the exception [e] of a callback: by default, print its stack trace. */
    protected open fun handleException(e: Exception) {
        e.printStackTrace()
    }

    private fun call(cb: (Waitable) -> Unit) {
        try {
            cb(this)
        } catch (e: Exception) {
            handleException(e)
        }
    }

    private companion object {
        const val PRUNE_MIN = 16
    }
}

/**
 * Waits until [w] is signalled and returns it (stacklesslib's `swait`); returns at once if it is
 * already [Waitable.isSignalled]. A null, negative or infinite [timeout] waits as long as it
 * takes. The signal must come from the calling thread (a tasklet, a timer); a kill or an enclosing
 * [timeout] ends the wait with its exception.
 *
 * @throws TaskletTimeoutException "timed out after <timeout>" when [timeout] passes first.
 * @throws dev.stackless.DeadlockException when the main tasklet would wait alone, with nothing that
 *   could ever signal [w].
 */
public suspend fun swait(w: Waitable, timeout: Duration? = null): Waitable {
    val s = SingleWait(w)
    return s.run(Budget(timeout)) { park(s) }
}

/** The blocking twin of [swait], for Java, the main tasklet and non-suspend code. */
@JvmOverloads
public fun swaitBlocking(w: Waitable, timeout: Duration? = null): Waitable {
    val s = SingleWait(w)
    return s.run(Budget(timeout)) { parkBlocking(s) }
}

/** [swaitBlocking] with a [java.time.Duration] (null: no limit). */
public fun swaitBlocking(w: Waitable, timeout: java.time.Duration?): Waitable = swaitBlocking(w, timeout.toKotlin())

/** One [swait]: the callback that records the signal and puts the waiting tasklet back. */
internal class SingleWait(private val w: Waitable) : (Waitable) -> Unit {
    @Volatile private var signalled = false

    /** Null once the wait ended: a late call (from a signal already under way) must not wake it. */
    @Volatile private var waiter: Tasklet? = null

    override fun invoke(from: Waitable) {
        signalled = true
        waiter?.let { ForeignWake.wake(it) }
    }

    inline fun run(budget: Budget, park: () -> Unit): Waitable {
        // An immediate callback must not try to wake the running tasklet: the waiter comes after.
        w.addDoneCallback(this)
        waiter = Stackless.current
        try {
            if (!budget.await(false, { signalled }, park)) throw budget.timeoutException()
        } finally {
            waiter = null
            w.removeDoneCallback(this)
        }
        return w
    }

    /** For a deadlock report: what the wait is for. */
    override fun toString(): String = w.toString()
}
