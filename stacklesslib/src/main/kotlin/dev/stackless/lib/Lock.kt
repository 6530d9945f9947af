package dev.stackless.lib

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
public class Lock : TaskletLock() {
    private var held: Boolean = false

    /** True while some tasklet holds the lock. */
    override val locked: Boolean get() = held

    /** Takes the lock if it is free now; never waits. */
    override fun tryAcquire(): Boolean {
        home.check(this)
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
    override fun release() {
        home.check(this)
        check(held) { "release unlocked lock" }
        val q = waiters
        if (q == null || q.grant() == null) held = false
    }

    override fun toString(): String = if (held) "Lock(locked)" else "Lock(unlocked)"
}
