package dev.stackless.lib

import dev.stackless.InternalStacklessApi
import dev.stackless.SchedulerHooks
import dev.stackless.Stackless
import dev.stackless.Tasklet
import java.util.concurrent.Callable
import java.util.concurrent.ConcurrentHashMap
import kotlin.time.Duration

/**
 * Runs [block] on the calling tasklet with a time limit of [d]: when it expires, the tasklet gets a
 * pending interrupt wherever it is, running, runnable, or blocked on a channel, a lock, a sleep or
 * a future, and this call throws [TaskletTimeoutException] ("timed out after …").
 *
 * Nesting is exact: the interrupt is a private [Throwable] that `catch (e: Exception)` and
 * `catch (e: TaskletTimeoutException)` do not catch, and only the scope that set it converts it, so
 * an outer timeout passes through the handlers inside an inner one; once an enclosing limit has
 * expired, the limits inside it no longer interrupt. A null, infinite or negative
 * [d] means no limit; zero expires at the loop's next look at its timers. An operation that completed
 * just before the limit keeps its result (the value is never lost); the interrupt then comes at the
 * tasklet's next switch point inside the scope, or not at all if the scope ends first.
 *
 * @throws TaskletTimeoutException when the limit expires.
 */
@OptIn(InternalStacklessApi::class)
public suspend fun <R> timeout(d: Duration?, block: suspend () -> R): R {
    val scope = TimeoutScope.start(d) ?: return block()
    try {
        return block()
    } catch (e: TimeoutScope.Interrupt) {
        throw scope.convert(e)
    } finally {
        scope.end()
    }
}

/** [timeout] for Java and for non-suspend code: [block] runs on the calling tasklet. */
@OptIn(InternalStacklessApi::class)
public fun <R> timeoutBlocking(d: java.time.Duration?, block: Callable<R>): R {
    val scope = TimeoutScope.start(d.toKotlin()) ?: return block.call()
    try {
        return block.call()
    } catch (e: TimeoutScope.Interrupt) {
        throw scope.convert(e)
    } finally {
        scope.end()
    }
}

/** One [timeout] scope: the timer that interrupts its tasklet, and the interrupt only it converts. */
@OptIn(InternalStacklessApi::class)
internal class TimeoutScope private constructor(private val tasklet: Tasklet, private val d: Duration) : Runnable {
    /** Thrown pending into the tasklet; it carries its scope, so that only that scope converts it. */
    internal class Interrupt(@JvmField val scope: TimeoutScope) : Throwable("timeout interrupt", null, false, false)

    private val interrupt = Interrupt(this)

    /** The scope of the same tasklet that encloses this one, or null. */
    private val parent: TimeoutScope? = innermost.put(tasklet, this)

    /** The timer ran: the interrupt is on its way, or was thrown. */
    @Volatile private var fired = false

    private val timer = SchedulerHooks.callAt(deadlineIn(nanosOf(d)!!), 0, this)

    override fun run() {
        // An enclosing scope that fired first wins: its interrupt, not yet thrown, must not be
        // replaced by this one, which the handlers inside the enclosing scope would then see.
        var p = parent
        while (p != null) {
            if (p.fired) return
            p = p.parent
        }
        fired = true
        SchedulerHooks.throwPending(tasklet, interrupt)
    }

    /** What the scope throws for [e]: its own interrupt becomes a [TaskletTimeoutException]; another scope's passes on. */
    fun convert(e: Interrupt): Throwable = if (e === interrupt) TaskletTimeoutException("timed out after $d") else e

    /** The scope ends: its timer goes, and an interrupt still waiting for the next switch point is taken back. */
    fun end() {
        timer.cancel()
        SchedulerHooks.retractPending(tasklet, interrupt)
        if (parent == null) innermost.remove(tasklet, this) else innermost.replace(tasklet, this, parent)
    }

    companion object {
        /** The innermost scope of each tasklet inside one; scopes nest, so each end restores its parent. */
        private val innermost = ConcurrentHashMap<Tasklet, TimeoutScope>()

        /** Starts a scope for the calling tasklet, or returns null when [d] sets no limit. */
        fun start(d: Duration?): TimeoutScope? {
            if (d == null || d.isInfinite() || d.isNegative()) return null
            return TimeoutScope(Stackless.current, d)
        }
    }
}
