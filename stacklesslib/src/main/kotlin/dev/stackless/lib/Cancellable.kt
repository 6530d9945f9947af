package dev.stackless.lib

import dev.stackless.InternalStacklessApi
import dev.stackless.SchedulerHooks
import dev.stackless.Stackless
import dev.stackless.Tasklet
import java.util.concurrent.Callable

/**
 * A handle to cancel a block of code running on a tasklet (stacklesslib's `cancellable`): the block
 * runs inside [run], and [cancel] from another tasklet makes it end with a
 * [TaskletCancelledException] carrying the cancel's args, wherever it is (running, runnable, or
 * blocked on a channel, a lock, a sleep or a future).
 *
 * ```
 * val handle = Cancellable()
 * Tasklet { handle.cancel("shutdown") }.setup()
 * try {
 *     handle.run { requests.receive() }
 * } catch (e: TaskletCancelledException) {
 *     check(handle.match(e))
 * }
 * ```
 *
 * Nesting is exact, as for [timeout]: the cancel travels as a private [Throwable] that
 * `catch (e: Exception)` does not catch and that only this handle's [run] converts, so a cancel of an
 * outer handle passes through inner handles, timeouts and handlers. A cancel that reaches the
 * tasklet just after its last operation completed (a value received, a lock taken) keeps that
 * operation's result: it is raised at the tasklet's next switch point inside the block, or, if the
 * block ends first, taken back, and the handle counts as not cancelled.
 *
 * One tasklet at a time may be inside a handle; it can be entered again after the block ended, unless
 * a cancel ended it. Every member must be used on the thread of the tasklet inside (from its tasklets,
 * its main tasklet or its timer callbacks).
 */
@OptIn(InternalStacklessApi::class)
public class Cancellable {
    /** Thrown into the tasklet inside; carries its handle, so that only that handle converts it. */
    internal class Signal(@JvmField val handle: Cancellable, @JvmField val args: List<Any?>) :
        Throwable("cancel signal", null, false, false)

    private var inside: Tasklet? = null
    private var home: Tasklet? = null // the main tasklet of the inside tasklet's thread
    private var signal: Signal? = null

    /** The exception the cancelled block ended with, or null while no cancel has ended one. */
    public var exception: TaskletCancelledException? = null
        private set

    /**
     * True once a cancel has reached the tasklet inside (and was not taken back because the block
     * ended before its next switch point); false before entering and when cancels came while no
     * tasklet was inside.
     */
    public val cancelled: Boolean get() = signal != null

    /**
     * Runs [block] on the calling tasklet, inside this handle, and returns what it returns.
     *
     * @throws TaskletCancelledException when this handle is cancelled while [block] runs.
     * @throws IllegalStateException if a tasklet is already inside, or a cancel ended an earlier block.
     */
    public suspend fun <R> run(block: suspend () -> R): R {
        val me = enter()
        try {
            return block()
        } catch (e: Signal) {
            throw convert(e)
        } finally {
            exit(me)
        }
    }

    /** [run] for Java and for non-suspend code: [block] runs on the calling tasklet. */
    public fun <R> runBlocking(block: Callable<R>): R {
        val me = enter()
        try {
            return block.call()
        } catch (e: Signal) {
            throw convert(e)
        } finally {
            exit(me)
        }
    }

    /**
     * Cancels the block inside: from another tasklet, the tasklet inside runs at once with the
     * cancel raised where it is, and the caller goes on after it (like [Tasklet.kill]); from the
     * tasklet inside, the cancel is raised here and now. Does nothing when no tasklet is inside or
     * the block was already cancelled.
     *
     * @throws IllegalStateException when called on another thread than the tasklet inside; from a
     *   timer callback, which cannot switch, after delivering the cancel as [cancelPending] does.
     */
    public suspend fun cancel(vararg args: Any?) {
        val target = deliver(args) ?: return
        when {
            target.isCurrent -> Stackless.schedule() // raises the pending cancel here
            inRunQueue(target) -> target.run()
        }
    }

    /** The blocking twin of [cancel]. */
    public fun cancelBlocking(vararg args: Any?) {
        val target = deliver(args) ?: return
        when {
            target.isCurrent -> Stackless.scheduleBlocking()
            inRunQueue(target) -> target.runBlocking()
        }
    }

    /**
     * Cancels the block inside without switching: the tasklet inside leaves whatever it waits on,
     * becomes runnable and raises the cancel when it runs; called by the tasklet inside itself, the
     * cancel is raised at its next switch point. For timer callbacks and for code that must not
     * switch; otherwise as [cancel].
     *
     * @throws IllegalStateException when called on another thread than the tasklet inside.
     */
    public fun cancelPending(vararg args: Any?) {
        val (t, s) = mark(args) ?: return
        SchedulerHooks.throwPending(t, s)
    }

    /** True if [e] is the very exception a cancel of this handle ended its block with. */
    public fun match(e: Any?): Boolean = exception != null && e === exception

    override fun toString(): String = "Cancellable(" + when {
        exception != null || signal != null -> "cancelled"
        inside != null -> "inside: $inside"
        else -> "idle"
    } + ")"

    private fun enter(): Tasklet {
        check(exception == null) { "this Cancellable was cancelled; use a new one" }
        inside?.let { throw IllegalStateException("$it is already inside this Cancellable") }
        val me = Stackless.current
        inside = me
        home = Stackless.main
        signal = null
        return me
    }

    private fun convert(e: Signal): Throwable {
        if (e.handle !== this) return e
        return TaskletCancelledException(e.args).also { exception = it }
    }

    /** The block ends: a cancel still waiting for the tasklet's next switch point is taken back. */
    private fun exit(me: Tasklet) {
        val s = signal
        if (s != null && exception == null && SchedulerHooks.retractPending(me, s)) signal = null
        inside = null
        home = null
    }

    /**
     * Delivers a cancel to the tasklet inside, pending, and returns that tasklet for the caller to
     * switch to (or, if it is the caller, to raise the cancel at a switch point); null for a no-op.
     * Delivered before the switch, so that a switch that cannot happen (a timer callback, a switch
     * trap) leaves the cancel pending rather than half done.
     */
    private fun deliver(args: Array<out Any?>): Tasklet? {
        val (t, s) = mark(args) ?: return null
        SchedulerHooks.throwPending(t, s)
        return t
    }

    /** Records a cancel: the tasklet inside and the signal for it, or null when there is nothing to cancel. */
    private fun mark(args: Array<out Any?>): Pair<Tasklet, Signal>? {
        val t = inside ?: return null
        check(Stackless.main === home) {
            "a Cancellable is cancelled on the thread of the tasklet inside ($t), not on ${Thread.currentThread().name}"
        }
        if (signal != null) return null
        val s = Signal(this, args.toList())
        signal = s
        return t to s
    }

    /** A tasklet waiting in a kotlinx.coroutines suspension is out of the queue: it raises the cancel when it comes back. */
    private fun inRunQueue(t: Tasklet): Boolean = t.blocked == 0 && t.next != null
}
