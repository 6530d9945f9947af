package dev.stackless.lib

import java.lang.ref.WeakReference

/**
 * A weak reference to a bound method: [method] applied to [target], holding [target] only weakly,
 * so that registering an object's method somewhere (an observer, a callback list) does not keep
 * the object alive. The JVM form of Python's `WeakMethod(obj.meth)`.
 *
 * [method] must not itself hold [target]: pass an unbound reference such as `Foo::bar` or a lambda
 * taking the target as its argument.
 *
 * Two weak methods are equal while both targets are alive when they refer to the same target
 * (identity) and equal methods; once a target is gone a weak method equals only itself. The hash
 * code is fixed at construction, so a weak method keeps its place in a hash set after its target dies.
 *
 * @throws IllegalArgumentException "method must not be bound to its target" when [method] is a
 *   callable reference bound to [target] (`target::bar`), which would keep it alive.
 */
public class WeakMethod<T : Any, out R>(target: T, method: (T) -> R) {
    private val ref = WeakReference(target)
    private val method: (T) -> R = method
    private val hash = 31 * System.identityHashCode(target) + method.hashCode()

    init {
        val bound = (method as? kotlin.jvm.internal.CallableReference)?.boundReceiver
        require(bound !== target) { "method must not be bound to its target" }
    }

    /** The method bound to the target, or null once the target has been collected. */
    public fun get(): (() -> R)? {
        val t = ref.get() ?: return null
        val m = method
        return { m(t) }
    }

    /** The target, or null once it has been collected. */
    public val target: T? get() = ref.get()

    /** True until the target has been collected. */
    public val isAlive: Boolean get() = ref.get() != null

    /** Same live target (identity) and equal method; a dead weak method equals only itself. */
    override fun equals(other: Any?): Boolean {
        if (this === other) return true
        if (other !is WeakMethod<*, *>) return false
        val mine = ref.get() ?: return false
        return mine === other.ref.get() && method == other.method
    }

    /** Fixed at construction from the target's identity and the method. */
    override fun hashCode(): Int = hash

    /** `WeakMethod(<method> of <target>)`, or `WeakMethod(dead)`. */
    override fun toString(): String = ref.get()?.let { "WeakMethod($method of $it)" } ?: "WeakMethod(dead)"
}

/**
 * A callable stand-in for a bound method that holds its target weakly: calling it calls [method]
 * on the target while that lives; afterwards it calls [fallback] if given, else throws. The first
 * call (or [isAlive] check) that finds the target gone calls [callback] with this proxy, once.
 * The JVM form of Python's `WeakMethodProxy`; the JVM reports collection only when someone looks,
 * so [callback] runs then rather than at collection.
 *
 * Equality is that of the underlying [WeakMethod]: same live target and equal method.
 *
 * @throws IllegalArgumentException as [WeakMethod] does.
 */
public class WeakMethodProxy<T : Any, out R> @JvmOverloads constructor(
    target: T,
    method: (T) -> R,
    private val callback: ((WeakMethodProxy<T, R>) -> Unit)? = null,
    private val fallback: (() -> R)? = null,
) {
    private val weak = WeakMethod(target, method)
    private var deathReported = false

    /**
     * Calls the method on the live target, or [fallback] once the target is gone.
     *
     * @throws IllegalStateException "weakly-referenced object no longer exists" when the target is
     *   gone and there is no [fallback] (Python's `ReferenceError`).
     */
    public operator fun invoke(): R {
        weak.get()?.let { return it() }
        reportDeath()
        val f = fallback ?: throw IllegalStateException("weakly-referenced object no longer exists")
        return f()
    }

    /** True until the target has been collected; the first false reply calls [callback]. */
    public val isAlive: Boolean
        get() {
            if (weak.isAlive) return true
            reportDeath()
            return false
        }

    private fun reportDeath() {
        if (deathReported) return
        deathReported = true
        callback?.invoke(this)
    }

    /** Same live target (identity) and equal method; a dead proxy equals only itself. */
    override fun equals(other: Any?): Boolean =
        this === other || (other is WeakMethodProxy<*, *> && weak == other.weak)

    /** Fixed at construction from the target's identity and the method. */
    override fun hashCode(): Int = weak.hashCode()

    /** `WeakMethodProxy(alive)` or `WeakMethodProxy(dead)`. */
    override fun toString(): String = "WeakMethodProxy(" + (weak.get()?.let { "alive" } ?: "dead") + ")"
}
