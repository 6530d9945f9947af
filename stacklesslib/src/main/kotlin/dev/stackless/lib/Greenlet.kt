package dev.stackless.lib

import dev.stackless.Stackless
import dev.stackless.Tasklet
import dev.stackless.TaskletExit
import java.lang.ref.WeakReference
import java.util.WeakHashMap

/**
 * The greenlet API emulated with tasklets: a greenlet is a tasklet that runs only when some other
 * greenlet explicitly [switch]es to it, handing it a value, and gets a value back when control is
 * switched back.
 *
 * A greenlet starts on the first [switch] to it: [run] is called with the switched value. When
 * [run] returns, its result is passed to the nearest live [parent]'s pending [switch]; when it
 * throws, the exception is thrown from that pending [switch] instead. Control reaches the parent
 * when the child's tasklet has ended, that is after any tasklet that was already runnable.
 *
 * Greenlets belong to the thread that created them. The tasklet that first asks for [current]
 * (the thread's main tasklet, usually) is wrapped in a root greenlet with no [parent].
 *
 * @property parent the greenlet that receives this one's result or exception; null for a root.
 */
public class Greenlet @JvmOverloads constructor(
    private val run: (suspend (Any?) -> Any?)? = null,
    public val parent: Greenlet? = current,
) {
    private var tasklet: Tasklet? = null
    private val threadId: Long = Thread.currentThread().id
    private var finished = false
    private var inValue: Any? = null
    private var inError: Throwable? = null

    private constructor(tasklet: Tasklet) : this(null, null) {
        this.tasklet = tasklet
    }

    /** True once [run] has returned or thrown (or, for a root greenlet, once its tasklet has ended). */
    public val dead: Boolean
        get() = finished || tasklet?.let { !it.alive } ?: false

    /** True while the greenlet has started and is not [dead] (Python's `bool(greenlet)`). */
    public val active: Boolean
        get() = tasklet != null && !dead

    /**
     * Switches to this greenlet, passing [value]: it becomes [run]'s argument if the greenlet has not
     * started, else the return value of the [switch] it is waiting in. A dead greenlet passes
     * [value] on to its nearest live parent. Returns the value the next switch back to the caller
     * passes, or throws the exception thrown back to it.
     *
     * @throws IllegalStateException "cannot switch to a different thread" when called on another thread
     *   than the greenlet's; "greenlet has no run function" for an unstarted greenlet without [run];
     *   "cannot switch to a dead greenlet without a live parent".
     */
    public suspend fun switch(value: Any? = null): Any? {
        val me = current
        val target = handOver(value, null)
        if (target !== me) (target.tasklet ?: target.start()).switch()
        return me.takeIncoming()
    }

    /** The blocking twin of [switch], for the main tasklet and non-suspend code. */
    @JvmOverloads
    public fun switchBlocking(value: Any? = null): Any? {
        val me = current
        val target = handOver(value, null)
        if (target !== me) (target.tasklet ?: target.start()).switchBlocking()
        return me.takeIncoming()
    }

    /**
     * Switches to this greenlet and throws [e] there, from its pending [switch] (or before [run]
     * starts, in which case [run] never runs and [e] reaches the parent). Returns what is next
     * switched back to the caller; throwing to the current greenlet throws [e] at once.
     *
     * @throws IllegalStateException as [switch] does.
     */
    public suspend fun throwException(e: Throwable): Any? {
        val me = current
        val target = handOver(null, e)
        if (target !== me) (target.tasklet ?: target.start()).switch()
        return me.takeIncoming()
    }

    /** The blocking twin of [throwException]. */
    public fun throwExceptionBlocking(e: Throwable): Any? {
        val me = current
        val target = handOver(null, e)
        if (target !== me) (target.tasklet ?: target.start()).switchBlocking()
        return me.takeIncoming()
    }

    /** Leaves [value] or [error] with the greenlet that will receive it, and returns that greenlet. */
    private fun handOver(value: Any?, error: Throwable?): Greenlet {
        if (Thread.currentThread().id != threadId) throw IllegalStateException("cannot switch to a different thread")
        val target = liveTarget()
        if (target.tasklet == null && target.run == null) throw IllegalStateException("greenlet has no run function")
        target.inValue = value
        target.inError = error
        return target
    }

    /** This greenlet, or the nearest ancestor that is not dead. */
    private fun liveTarget(): Greenlet =
        liveTargetOrNull() ?: throw IllegalStateException("cannot switch to a dead greenlet without a live parent")

    private fun start(): Tasklet {
        val body = run!!
        val t = Tasklet()
        tasklet = t
        register(t, this)
        t.bind({ runBody(body) }, paused = true)
        return t
    }

    private suspend fun runBody(body: suspend (Any?) -> Any?) {
        var result: Any? = null
        var failure: Throwable? = null
        try {
            result = body(takeIncoming())
        } catch (e: TaskletExit) {
            // Killed as a tasklet: it dies like one, without handing control to the parent.
            finished = true
            throw e
        } catch (e: Throwable) {
            failure = e
        }
        finished = true
        val heir = parent?.liveTargetOrNull() ?: return
        heir.inValue = result
        heir.inError = failure
        // A parent that never started starts now, with this result as its run's argument.
        (heir.tasklet ?: heir.run?.let { heir.start() })?.insert()
    }

    private fun liveTargetOrNull(): Greenlet? {
        var g: Greenlet? = this
        while (g != null && g.dead) g = g.parent
        return g
    }

    /** Reads the value (or exception) the last switch to this greenlet brought. */
    private fun takeIncoming(): Any? {
        val e = inError
        val v = inValue
        inError = null
        inValue = null
        if (e != null) throw e
        return v
    }

    /** `Greenlet(<state>)`. */
    override fun toString(): String =
        "Greenlet(" + (if (tasklet == null) "not started" else if (dead) "dead" else "active") + ")"

    public companion object {
        /** Per thread: the greenlet of each tasklet (weakly, so that finished tasklets are not kept). */
        private val registry = ThreadLocal.withInitial { WeakHashMap<Tasklet, WeakReference<Greenlet>>() }

        private fun register(t: Tasklet, g: Greenlet) {
            registry.get()[t] = WeakReference(g)
        }

        /**
         * The greenlet of the current tasklet; a tasklet that is not a greenlet's (the thread's main
         * tasklet, usually) gets a root greenlet with no parent on first use.
         */
        @JvmStatic
        public val current: Greenlet
            get() {
                val t = Stackless.current
                registry.get()[t]?.get()?.let { return it }
                val root = Greenlet(t)
                register(t, root)
                return root
            }
    }
}
