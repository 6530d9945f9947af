package dev.stackless.lib

import dev.stackless.InternalStacklessApi
import dev.stackless.SchedulerLoop
import dev.stackless.Stackless
import dev.stackless.Tasklet
import java.util.concurrent.Callable
import kotlin.time.Duration

/**
 * Runs [block] on the calling tasklet with a time limit of [d]: when it expires, the tasklet gets a
 * pending interrupt wherever it is, running, runnable, or blocked on a channel, a lock, a sleep or
 * a future, and this call throws [TaskletTimeoutException] ("timed out after …").
 *
 * Nesting is exact: the interrupt is a private [Throwable] that `catch (e: Exception)` and
 * `catch (e: TaskletTimeoutException)` do not catch, and only the scope that set it converts it, so
 * an outer timeout passes through the handlers inside an inner one. A null, infinite or negative
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
    private val timer = SchedulerLoop.callAt(deadlineIn(nanosOf(d)!!), 0, this)

    override fun run() {
        SchedulerLoop.throwPending(tasklet, interrupt)
    }

    /** What the scope throws for [e]: its own interrupt becomes a [TaskletTimeoutException]; another scope's passes on. */
    fun convert(e: Interrupt): Throwable = if (e === interrupt) TaskletTimeoutException("timed out after $d") else e

    /** The scope ends: its timer goes, and an interrupt still waiting for the next switch point is taken back. */
    fun end() {
        timer.cancel()
        SchedulerLoop.retractPending(tasklet, interrupt)
    }

    companion object {
        /** Starts a scope for the calling tasklet, or returns null when [d] sets no limit. */
        fun start(d: Duration?): TimeoutScope? {
            if (d == null || d.isInfinite() || d.isNegative()) return null
            return TimeoutScope(Stackless.current, d)
        }
    }
}
