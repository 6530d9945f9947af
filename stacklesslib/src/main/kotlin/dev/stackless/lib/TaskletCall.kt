package dev.stackless.lib

import dev.stackless.Channel
import dev.stackless.Tasklet
import dev.stackless.TaskletExit
import java.util.concurrent.Callable
import kotlin.time.Duration

/**
 * Runs [fn] on a new tasklet of this thread, started as [dispatcher] says, and waits for it: returns
 * what [fn] returns and rethrows what it throws (errors included, the same instance). If the called
 * tasklet is killed, the caller gets a [TaskletCancelledException] caused by that [TaskletExit].
 *
 * The caller waits in a channel receive, so a kill or an enclosing [timeout] ends the wait, and a
 * result handed over just before keeps its value (the interrupt then comes at the next switch point).
 * With a [timeout] the caller stops waiting after that long. Either way the called tasklet is not
 * cancelled: it goes on, its late result or exception is dropped, and [onAbandoned] runs on the
 * caller, as it leaves, if [fn] had not finished by then. An exception thrown by [onAbandoned] is
 * added to the suppressed ones of the exception that ended the wait.
 *
 * @throws TaskletTimeoutException when [timeout] expires first.
 * @throws TaskletCancelledException when the called tasklet is killed.
 */
public suspend fun <R> taskletCall(
    dispatcher: TaskletDispatch = TaskletDispatch.RUN,
    timeout: Duration? = null,
    onAbandoned: Runnable? = null,
    fn: suspend () -> R,
): R {
    val call = TaskletCallSite<R>()
    val callee = Tasklet { call.complete(call.capture { fn() }) }.setup()
    try {
        if (dispatcher == TaskletDispatch.RUN) callee.run()
        return timeout(timeout) { call.await() }
    } catch (e: Throwable) {
        call.leave(onAbandoned, e)
        throw e
    }
}

/**
 * [taskletCall] for Java and for non-suspend code: [fn] runs on a new Java-bodied tasklet
 * ([Tasklet.of], hard-switched when it blocks); the caller waits with a blocking receive.
 */
@JvmOverloads
public fun <R> taskletCallBlocking(
    dispatcher: TaskletDispatch = TaskletDispatch.RUN,
    timeout: java.time.Duration? = null,
    onAbandoned: Runnable? = null,
    fn: Callable<R>,
): R {
    val call = TaskletCallSite<R>()
    val callee = Tasklet.of { call.completeBlocking(call.capture { fn.call() }) }.setup()
    try {
        if (dispatcher == TaskletDispatch.RUN) callee.runBlocking()
        return timeoutBlocking(timeout) { call.awaitBlocking() }
    } catch (e: Throwable) {
        call.leave(onAbandoned, e)
        throw e
    }
}

/**
 * The meeting point of one [taskletCall]: the called tasklet hands its outcome over the channel if
 * the caller waits there, keeps it for the caller if it has not started waiting yet (the function
 * finished before the caller got back), and drops it once the caller has left. Both sides run on
 * the same thread, so no field needs a fence.
 */
internal class TaskletCallSite<R> {
    private val channel = Channel<Result<R>>()
    private var early: Result<R>? = null
    var done = false
    private var left = false

    /** Runs the called function: its outcome, a kill becoming a [TaskletCancelledException]. */
    inline fun capture(fn: () -> R): Result<R> {
        val outcome = try {
            Result.success(fn())
        } catch (e: TaskletExit) {
            Result.failure(TaskletCancelledException(listOfNotNull(e.message), e))
        } catch (e: Throwable) {
            Result.failure(e)
        }
        done = true
        return outcome
    }

    /** Hands [outcome] to the caller waiting in the channel, keeps it for a caller not waiting yet, or drops it. */
    suspend fun complete(outcome: Result<R>) {
        if (left) return
        if (channel.balance < 0) channel.send(outcome) else early = outcome
    }

    /** The blocking twin of [complete], for a Java-bodied called tasklet. */
    fun completeBlocking(outcome: Result<R>) {
        if (left) return
        if (channel.balance < 0) channel.sendBlocking(outcome) else early = outcome
    }

    suspend fun await(): R = (early ?: channel.receive()).getOrThrow()

    fun awaitBlocking(): R = (early ?: channel.receiveBlocking()).getOrThrow()

    /** The caller leaves by [e] (returning needs no bookkeeping: the outcome has arrived). */
    fun leave(onAbandoned: Runnable?, e: Throwable) {
        left = true
        if (done || onAbandoned == null) return
        try {
            onAbandoned.run()
        } catch (failure: Throwable) {
            e.addSuppressed(failure)
        }
    }
}
