package dev.stackless.lib

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
public open class Semaphore(value: Int = 1) : TaskletLock() {
    private var permits: Int = value

    init {
        require(value >= 0) { "semaphore initial value must be >= 0" }
    }

    /** The permits available now; 0 while tasklets wait. */
    public val value: Int get() = permits

    /** True when no permit is available: an [acquire] would wait. */
    override val locked: Boolean get() = permits == 0

    /** Takes a permit if one is available now; never waits. */
    override fun tryAcquire(): Boolean {
        home.check(this)
        if (permits > 0) {
            permits--
            return true
        }
        return false
    }

    /** Gives a permit back: to the longest waiter if there is one, else to [value]. Never switches. */
    override fun release() {
        home.check(this)
        val q = waiters
        if (q == null || q.grant() == null) permits++
    }

    override fun toString(): String = "Semaphore(value=$permits)"
}
