package dev.stackless.lib

import dev.stackless.Tasklet
import java.util.concurrent.Callable
import java.util.function.Consumer

/**
 * Gives a synchronous function a callback interface (stacklesslib's `fittings.AsyncToSync`): each
 * [initiateCall] runs a function on a new tasklet, started as [dispatcher] says, and reports its
 * result to [onSuccess] or what it throws (errors and [dev.stackless.TaskletExit] included) to
 * [onFailure], on that tasklet. A null callback ignores its outcome. An exception thrown by a
 * callback ends the tasklet with it, as any exception escaping a tasklet.
 *
 * With [SyncToAsync] it closes the circle: a tasklet that calls `SyncToAsync.of { s -> … }` whose
 * `initiateCall` starts an [AsyncToSync] reporting to `s::onSuccess`, `s::onFailure` waits for the
 * function's result on the other tasklet.
 */
public class AsyncToSync<T> private constructor(
    /** Makes the (not yet set up) tasklet that runs the function and reports its outcome. */
    private val newTasklet: AsyncToSync<T>.() -> Tasklet,
    private val onSuccess: Consumer<in T>?,
    private val onFailure: Consumer<in Throwable>?,
    private val dispatcher: TaskletDispatch,
) {
    /** Runs the suspend [function] on soft tasklets. */
    public constructor(
        onSuccess: Consumer<in T>? = null,
        onFailure: Consumer<in Throwable>? = null,
        dispatcher: TaskletDispatch = TaskletDispatch.RUN,
        function: suspend () -> T,
    ) : this({ Tasklet { report { function() } } }, onSuccess, onFailure, dispatcher)

    /**
     * Starts the function on a new tasklet and returns that tasklet: with [TaskletDispatch.RUN] it has
     * run until its first switch (or its end) when this returns.
     */
    public suspend fun initiateCall(): Tasklet {
        val t = newTasklet().setup()
        if (dispatcher == TaskletDispatch.RUN) t.run()
        return t
    }

    /**
     * The blocking twin of [initiateCall], for Java and for non-suspend code such as
     * [SyncToAsync.initiateCall]. (With [TaskletDispatch.RUN], called from non-suspend code of a
     * soft tasklet, the switch pins that tasklet's thread until it runs again; [TaskletDispatch.NEW]
     * does not switch.)
     */
    public fun initiateCallBlocking(): Tasklet {
        val t = newTasklet().setup()
        if (dispatcher == TaskletDispatch.RUN) t.runBlocking()
        return t
    }

    /** Runs the function on its tasklet and hands the outcome to the matching callback. */
    private inline fun report(fn: () -> T) {
        val result = try {
            fn()
        } catch (e: Throwable) {
            onFailure?.accept(e)
            return
        }
        onSuccess?.accept(result)
    }

    public companion object {
        /** An [AsyncToSync] of a Java [function], run on Java-bodied tasklets ([Tasklet.of], hard-switched when it blocks). */
        @JvmStatic
        @JvmOverloads
        public fun <T> of(
            function: Callable<T>,
            onSuccess: Consumer<in T>? = null,
            onFailure: Consumer<in Throwable>? = null,
            dispatcher: TaskletDispatch = TaskletDispatch.RUN,
        ): AsyncToSync<T> = AsyncToSync({ Tasklet.of { report { function.call() } } }, onSuccess, onFailure, dispatcher)
    }
}
