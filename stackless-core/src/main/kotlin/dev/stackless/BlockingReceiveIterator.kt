package dev.stackless

/**
 * The iterator of a receiving source for code that blocks ([Channel.blockingIterable], and
 * stacklesslib's `QueueChannel`): [hasNext] receives the next value and keeps it for [next].
 * [receiveOrEnd] blocks for the next value and returns it, or returns [END] when the iteration is
 * over (the source is closed and drained, or a sender ended it with a [NoSuchElementException]).
 */
@InternalStacklessApi
public class BlockingReceiveIterator<T>(
    private val what: String,
    private val receiveOrEnd: () -> Any?,
) : Iterator<T> {
    private var value: Any? = END

    /** True when a value is there for [next]; blocks until one comes or the iteration ends. */
    override fun hasNext(): Boolean {
        if (value !== END) return true
        value = receiveOrEnd()
        return value !== END
    }

    /**
     * The next value.
     *
     * @throws NoSuchElementException when the iteration is over.
     */
    @Suppress("UNCHECKED_CAST")
    override fun next(): T {
        if (!hasNext()) throw NoSuchElementException("$what exhausted")
        val v = value
        value = END
        return v as T
    }

    public companion object {
        /** What [receiveOrEnd] returns when the iteration is over. */
        @JvmField
        public val END: Any = Any()

        /**
         * The value a suspending iterator's `hasNext()` received, for its `next()`.
         *
         * @throws NoSuchElementException when [value] is [END]: `hasNext()` was not called.
         */
        @Suppress("UNCHECKED_CAST")
        @JvmStatic
        public fun <T> received(value: Any?): T {
            if (value === END) throw NoSuchElementException("hasNext() was not called")
            return value as T
        }
    }
}
