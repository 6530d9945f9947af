package dev.stackless

import kotlinx.coroutines.CancellableContinuation
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Delay
import kotlinx.coroutines.DisposableHandle
import kotlinx.coroutines.InternalCoroutinesApi
import kotlin.coroutines.Continuation
import kotlin.coroutines.ContinuationInterceptor
import kotlin.coroutines.CoroutineContext

/**
 * The bottom of a soft tasklet's continuation chain, and its whole [CoroutineContext]: the
 * tasklet's dispatcher. Stackless switch points find their tasklet with one lookup
 * (`continuation.context[ContinuationInterceptor]`) instead of a thread-local; they resume frames
 * directly and never intercept, so the dispatcher costs the hot path nothing.
 *
 * kotlinx.coroutines code called by the tasklet sees a [CoroutineDispatcher] with [Delay]:
 * `delay` and `withTimeout` use the scheduler's timers, and a resumption dispatched from any thread
 * (the end of `withContext(Dispatchers.IO)`, a channel of kotlinx) makes the tasklet runnable again
 * in queue order, on its own thread. Code inside `withContext(otherDispatcher)` is not in the
 * tasklet: Stackless operations there act as from a plain thread.
 *
 * It holds nothing but the tasklet, which keeps schedulers, threads and callbacks out of the
 * chain: a suspended tasklet can be serialized.
 */
@OptIn(InternalCoroutinesApi::class, InternalStacklessApi::class)
internal class TaskletCompletion(@JvmField val tasklet: Tasklet) :
    CoroutineDispatcher(), Delay, Continuation<Unit>, java.io.Serializable {

    override val context: CoroutineContext get() = this

    /** The body returned or threw: end the tasklet (docs/stackless.md §4.9). Runs inside the scheduler's loop. */
    override fun resumeWith(result: Result<Unit>) {
        tasklet.ownerScheduler().taskletEnded(tasklet, result.exceptionOrNull())
    }

    /** Always: the tasklet resumes at its turn in the run queue, never inside the caller. */
    override fun isDispatchNeeded(context: CoroutineContext): Boolean = true

    override fun dispatch(context: CoroutineContext, block: Runnable) {
        val s = tasklet.scheduler ?: return // Its thread ended: the tasklet never runs again.
        if (s.isHere()) s.resumeForeign(tasklet, block) else s.post(Mail(Mail.RESUME, tasklet, block))
    }

    override fun scheduleResumeAfterDelay(timeMillis: Long, continuation: CancellableContinuation<Unit>) {
        val s = tasklet.ownerScheduler()
        val timer = s.callAt(deadlineAfter(timeMillis), 0) { continuation.resume(Unit) { _, _, _ -> } }
        continuation.invokeOnCancellation { timer.cancel() }
        tasklet.foreignCancel = continuation
    }

    override fun invokeOnTimeout(timeMillis: Long, block: Runnable, context: CoroutineContext): DisposableHandle {
        val timer = tasklet.ownerScheduler().callAt(deadlineAfter(timeMillis), 0, block)
        return DisposableHandle { timer.cancel() }
    }

    override fun toString(): String = "TaskletDispatcher(${tasklet.name})"

    private fun deadlineAfter(millis: Long): Long =
        System.nanoTime() + if (millis >= Long.MAX_VALUE / 4_000_000) Long.MAX_VALUE / 4 else millis * 1_000_000
}

/**
 * The tasklet whose body [this] continuation runs in, or null outside any tasklet. A tasklet's
 * context is its [TaskletCompletion] itself, so the common case is one type check; a context that
 * kotlinx code combined with other elements is searched for its interceptor.
 */
internal fun Continuation<*>.taskletOrNull(): Tasklet? {
    val c = KotlinContinuations.contextOf(this)
    if (c is TaskletCompletion) return c.tasklet
    return (c[ContinuationInterceptor] as? TaskletCompletion)?.tasklet
}
