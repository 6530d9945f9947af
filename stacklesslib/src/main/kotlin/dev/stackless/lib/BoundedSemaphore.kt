package dev.stackless.lib

/**
 * A [Semaphore] that checks its releases: [value] never rises above the initial value, so a
 * release without a matching acquire is caught (stacklesslib's `BoundedSemaphore`). Fair hand-off,
 * timeouts and kills as for [Semaphore]; used by the tasklets of one thread.
 *
 * @throws IllegalArgumentException "semaphore initial value must be >= 0" if [value] is negative.
 */
public class BoundedSemaphore(value: Int = 1) : Semaphore(value) {
    private val initial: Int = value

    /**
     * Gives a permit back: to the longest waiter if there is one, else to [value]. Never switches.
     *
     * @throws IllegalArgumentException "Semaphore released too many times" if every permit is
     *   already back ([value] would exceed the initial value).
     */
    override fun release() {
        require(value < initial) { "Semaphore released too many times" }
        super.release()
    }

    override fun toString(): String = "BoundedSemaphore(value=$value/$initial)"
}
