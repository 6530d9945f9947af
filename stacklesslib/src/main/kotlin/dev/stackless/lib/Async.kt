package dev.stackless.lib

import dev.stackless.Stackless
import dev.stackless.Tasklet
import dev.stackless.TaskletExit
import java.util.function.Function
import kotlin.time.Duration

/**
 * C#-style async/await on tasklets (stacklesslib's `async.Awaiter`): the handle an async function
 * gets as its receiver, through which it awaits futures and hands control back to its caller.
 *
 * An async call ([async], [callAsync]) runs its function at once on a new tasklet while the caller
 * is paused, "depth first": the function runs as an ordinary call would until it [await]s a future
 * that is not done. Then, once, the caller continues and receives the function's [Future], while
 * the function waits for what it awaited; later awaits only wait. If the function ends without
 * waiting, the caller continues when it ends and receives a done future. The function's value,
 * exception or kill (cancelled) ends up in that future; [Future.cancel] kills the function's tasklet.
 *
 * An awaiter belongs to one async call: the tasklet of its function uses it. Nested async calls,
 * made from inside the function, get their own awaiter.
 */
public class Awaiter internal constructor() {
    /** The tasklet that made the call, until it is continued. */
    private var caller: Tasklet? = null

    /** The caller was continued (or woke up by other means and left): it is never continued twice. */
    private var callerContinued = false

    /**
     * Calls the async function [fn] from inside this one and returns its future; the same as
     * [async], the called function getting an awaiter of its own.
     *
     * @throws IllegalStateException when called on a thread that cannot switch tasklets (a timer callback).
     */
    @JvmSynthetic // Java uses the Function overload of callAsyncBlocking.
    public suspend fun <T> callAsync(fn: suspend Awaiter.() -> T): Future<T> = async(fn)

    /** The blocking twin of [callAsync]: the caller waits for [fn] by blocking, [fn] itself runs on a soft tasklet. */
    @JvmSynthetic // Java uses the Function overload: a Java lambda would fit both.
    public fun <T> callAsyncBlocking(fn: suspend Awaiter.() -> T): Future<T> = asyncBlocking(fn)

    /**
     * [callAsyncBlocking] for Java: [fn] runs on a tasklet with a Java body ([Tasklet.of]) and awaits
     * with [awaitBlocking].
     */
    public fun <T> callAsyncBlocking(fn: Function<Awaiter, T>): Future<T> = asyncBlocking(fn)

    /**
     * Returns the value of [f]. If [f] is done, that is all: no switch happens. Otherwise the caller
     * of the async function continues first, if it has not yet, and then this waits for [f] like
     * [Future.result] with [timeout] (null, negative or infinite: no limit).
     *
     * @throws TaskletTimeoutException "timed out after <timeout>" when [f] is not done in time; left
     *   uncaught, it becomes the async function's outcome.
     * @throws java.util.concurrent.CancellationException when [f] was cancelled.
     * @throws Throwable the exception [f] failed with, rethrown as it was.
     */
    public suspend fun <T> await(f: Future<T>, timeout: Duration? = null): T {
        if (f.done) return f.result()
        continueCaller()
        return f.result(timeout)
    }

    /** The blocking twin of [await] without a time limit, for Java and non-suspend code. */
    public fun <T> awaitBlocking(f: Future<T>): T = awaitBlocking(f, null as Duration?)

    /** The blocking twin of [await]. */
    public fun <T> awaitBlocking(f: Future<T>, timeout: Duration?): T {
        if (f.done) return f.resultBlocking()
        continueCallerBlocking()
        return f.resultBlocking(timeout)
    }

    /** [awaitBlocking] with a [java.time.Duration]. */
    public fun <T> awaitBlocking(f: Future<T>, timeout: java.time.Duration): T = awaitBlocking(f, timeout.toKotlin())

    override fun toString(): String = "Awaiter(caller=$caller, continued=$callerContinued)"

    // ---------------------------------------------------------------------------------------------

    /** The caller, or null once it was continued: the flag is set first, so a switch back here cannot repeat it. */
    private fun takeCaller(): Tasklet? {
        if (callerContinued) return null
        callerContinued = true
        return caller.also { caller = null }
    }

    @JvmSynthetic internal suspend fun continueCaller() {
        takeCaller()?.run()
    }

    @JvmSynthetic internal fun continueCallerBlocking() {
        takeCaller()?.runBlocking()
    }

    /**
     * Starts the call: [callee] (bound to run the function, then continue the caller) runs now and
     * the caller stays paused until it is continued. Another wake-up, before that, only sends it
     * back to wait; an exception (a kill, a timeout) ends the wait, and then nobody continues it.
     */
    @JvmSynthetic internal suspend fun start(callee: Tasklet) {
        caller = Stackless.current
        try {
            callee.setup().switch()
            while (!callerContinued && callee.alive) Stackless.scheduleRemove()
        } finally {
            callerContinued = true
            caller = null
        }
    }

    /** The blocking twin of [start]. */
    @JvmSynthetic internal fun startBlocking(callee: Tasklet) {
        caller = Stackless.current
        try {
            callee.setup().switchBlocking()
            while (!callerContinued && callee.alive) Stackless.scheduleRemoveBlocking()
        } finally {
            callerContinued = true
            caller = null
        }
    }

}

/**
 * Calls the async function [fn] (stacklesslib's `@async`): [fn] runs at once on a new tasklet of
 * this thread, with a fresh [Awaiter] as receiver, while the caller waits; the caller continues
 * when [fn] first awaits a future that is not done, or when [fn] ends, and gets [fn]'s future.
 * Called on the main tasklet (outside a tasklet body) it runs as [asyncBlocking].
 *
 * ```
 * val f = async { "foo" + await(fetch()) }   // runs until fetch() must be waited for
 * ```
 *
 * @throws IllegalStateException when called where tasklets cannot switch (a timer callback).
 */
public suspend fun <T> async(fn: suspend Awaiter.() -> T): Future<T> {
    val awaiter = Awaiter()
    val future = Future<T>()
    future.completer = Stackless.current.threadId
    val callee = asyncCallee(awaiter, future, fn)
    awaiter.start(callee)
    return future
}

/**
 * The blocking twin of [async], for non-suspend code: the caller waits by blocking, [fn] itself
 * runs on a soft tasklet.
 *
 * @throws IllegalStateException when called where tasklets cannot switch (a timer callback).
 */
@JvmSynthetic // Java uses the Function overload: a Java lambda would fit both.
public fun <T> asyncBlocking(fn: suspend Awaiter.() -> T): Future<T> {
    val awaiter = Awaiter()
    val future = Future<T>()
    future.completer = Stackless.current.threadId
    val callee = asyncCallee(awaiter, future, fn)
    awaiter.startBlocking(callee)
    return future
}

/**
 * [asyncBlocking] for Java: [fn] runs on a tasklet with a Java body ([Tasklet.of]), whose blocking
 * calls block only that tasklet, and awaits with [Awaiter.awaitBlocking].
 *
 * @throws IllegalStateException when called where tasklets cannot switch (a timer callback).
 */
public fun <T> asyncBlocking(fn: Function<Awaiter, T>): Future<T> {
    val awaiter = Awaiter()
    val future = Future<T>()
    future.completer = Stackless.current.threadId
    val callee = Tasklet.of {
        try {
            future.execute { fn.apply(awaiter) }
        } finally {
            awaiter.continueCallerBlocking()
        }
    }
    callee.name = "async"
    awaiter.startBlocking(callee)
    return future
}

/**
 * Turns [fn] into a function that runs it as a job of [executor] and returns its future
 * (stacklesslib's `@future(executor)` decorator): each call submits [fn] once.
 *
 * @throws IllegalStateException from the returned function: "cannot schedule new futures after shutdown".
 */
public fun <T> futureOf(executor: TaskletExecutor, fn: suspend () -> T): () -> Future<T> = { executor.submit(fn) }

/**
 * Turns [fn] into a function that runs it on a thread of [executor] and returns its future
 * (stacklesslib's `@future(thread_executor)`): each call submits [fn] once.
 *
 * @throws IllegalStateException from the returned function: "cannot schedule new futures after shutdown".
 */
public fun <T> futureOf(executor: ThreadPoolExecutor, fn: () -> T): () -> Future<T> = { executor.submit(fn) }

/** The tasklet that runs an async function [fn] into [future] and then lets the caller continue. */
private fun <T> asyncCallee(awaiter: Awaiter, future: Future<T>, fn: suspend Awaiter.() -> T): Tasklet {
    val callee = Tasklet {
        try {
            future.execute { awaiter.fn() }
        } finally {
            awaiter.continueCaller()
        }
    }
    callee.name = "async"
    return callee
}
