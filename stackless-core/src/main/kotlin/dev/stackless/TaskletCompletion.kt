package dev.stackless

import kotlin.coroutines.Continuation
import kotlin.coroutines.CoroutineContext

/**
 * The bottom of a soft tasklet's continuation chain. It is also the chain's only
 * [CoroutineContext] element, so a switch point finds its tasklet with one field read
 * (`continuation.context[TaskletCompletion]`) instead of a thread-local lookup.
 *
 * It holds nothing but the tasklet, which keeps schedulers, threads and callbacks out of the
 * chain: a suspended tasklet can be serialized.
 */
internal class TaskletCompletion(@JvmField val tasklet: Tasklet) :
    Continuation<Unit>, CoroutineContext.Element, java.io.Serializable {

    override val key: CoroutineContext.Key<*> get() = Key

    override val context: CoroutineContext get() = this

    /** The body returned or threw: end the tasklet (spec §4.9). Runs inside the scheduler's loop. */
    override fun resumeWith(result: Result<Unit>) {
        tasklet.ownerScheduler().taskletEnded(tasklet, result.exceptionOrNull())
    }

    companion object Key : CoroutineContext.Key<TaskletCompletion>
}

/** The tasklet whose body [this] continuation runs in, or null outside any tasklet. */
internal fun Continuation<*>.taskletOrNull(): Tasklet? = context[TaskletCompletion]?.tasklet
