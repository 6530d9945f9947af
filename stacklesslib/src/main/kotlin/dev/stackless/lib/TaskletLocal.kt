package dev.stackless.lib

import dev.stackless.Stackless
import dev.stackless.Tasklet
import java.util.WeakHashMap

/**
 * A variable with a separate value in every tasklet (stacklesslib's `util.local`, the tasklet
 * analog of [ThreadLocal]): [get] and [set] act on the calling tasklet's value (the main tasklet of
 * a thread counts as a tasklet). Values are held weakly by their tasklet: one vanishes when its
 * tasklet is garbage-collected, so a value must not refer to its own tasklet. Thread-safe.
 *
 * @param initial computes the value of a tasklet that has none when [get] is called; without it,
 *   [get] fails then.
 */
public class TaskletLocal<T> @JvmOverloads constructor(private val initial: (() -> T)? = null) {
    private val values = WeakHashMap<Tasklet, Any?>()

    /**
     * The calling tasklet's value; the first time, the one [initial] computes.
     *
     * @throws NoSuchElementException when the tasklet has no value and there is no [initial].
     */
    @Suppress("UNCHECKED_CAST")
    public fun get(): T {
        val me = Stackless.current
        synchronized(values) {
            if (values.containsKey(me)) return values[me] as T
        }
        val init = initial ?: throw NoSuchElementException("no value in $me")
        // Computed outside the lock: it may use other tasklet locals, or this one from elsewhere.
        val v = init()
        synchronized(values) {
            if (values.containsKey(me)) return values[me] as T
            values[me] = v
        }
        return v
    }

    /** Sets the calling tasklet's value. */
    public fun set(value: T) {
        val me = Stackless.current
        synchronized(values) { values[me] = value }
    }

    /** Removes the calling tasklet's value, so that the next [get] starts afresh. */
    public fun remove() {
        val me = Stackless.current
        synchronized(values) { values.remove(me) }
    }

    /** True when the calling tasklet has a value. */
    public val isSet: Boolean get() {
        val me = Stackless.current
        return synchronized(values) { values.containsKey(me) }
    }
}
