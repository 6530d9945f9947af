package dev.stackless.lib

import dev.stackless.Stackless
import dev.stackless.Tasklet

/**
 * A reentrant lock for tasklets (stacklesslib's `RLock`, with `threading.RLock`'s semantics): the
 * owning tasklet may acquire it again, and must release it as many times; only the owner may
 * release it. The default lock of a [Condition].
 *
 * Fair: waiters are served in arrival order, and the last [release] hands the lock straight to the
 * longest waiter, which becomes its owner and runnable while the releasing tasklet goes on (it
 * never switches), so a tasklet that comes later cannot take the lock first. A waiter that is
 * killed or timed out never loses the lock: if it was handed over just before, it goes on to the
 * next waiter.
 *
 * The uncontended [acquire] and [release] allocate nothing; the wait queue is created on the first
 * wait. A lock is used by the tasklets of one thread (hard tasklets and the main tasklet included);
 * it is not safe to share between threads.
 */
public class RLock : TaskletLock() {
    private var owner: Tasklet? = null
    private var count: Int = 0

    /** True while some tasklet holds the lock. */
    override val locked: Boolean get() = owner != null

    /** True when the calling tasklet holds the lock (Python's `_is_owned()`). */
    public val isOwned: Boolean get() = owner.let { it != null && it === Stackless.current }

    /** Takes the lock if it is free now, or once more if the calling tasklet owns it; never waits. */
    override fun tryAcquire(): Boolean {
        home.check(this)
        val me = Stackless.current
        val o = owner
        if (o == null) {
            owner = me
            count = 1
            return true
        }
        if (o === me) {
            count++
            return true
        }
        return false
    }

    /**
     * Releases one level of the calling tasklet's hold; the last one hands the lock to the longest
     * waiter, or frees it. Never switches.
     *
     * @throws IllegalStateException "cannot release un-acquired lock" if the calling tasklet does
     *   not own the lock (it is free, or held by another tasklet).
     */
    override fun release() {
        home.check(this)
        val o = owner
        check(o != null && o === Stackless.current) { "cannot release un-acquired lock" }
        if (--count == 0) handOff()
    }

    /**
     * For [Condition.wait]: releases the calling tasklet's hold at any depth and returns the depth,
     * for [restore]. The caller has checked [isOwned].
     */
    @JvmSynthetic internal fun releaseAll(): Int {
        val depth = count
        count = 0
        handOff()
        return depth
    }

    /** After a plain [acquire] by the calling tasklet: sets the depth saved by [releaseAll]. */
    @JvmSynthetic internal fun restore(depth: Int) {
        count = depth
    }

    /** The last hold ended (or a waiter that got the lock died before it ran): the next waiter owns it now. */
    private fun handOff() {
        val w = waiters?.grant()
        if (w != null) {
            owner = w.tasklet
            count = 1
        } else {
            owner = null
            count = 0
        }
    }

    @JvmSynthetic override fun passOn() {
        handOff()
    }

    override fun toString(): String = owner.let { if (it == null) "RLock(unlocked)" else "RLock(owner=$it, count=$count)" }
}
