package dev.stackless

import kotlin.coroutines.Continuation
import kotlin.coroutines.EmptyCoroutineContext
import kotlin.coroutines.startCoroutine

/**
 * Runs [block] as the main tasklet of a new thread, so that every test starts with a fresh
 * scheduler (runCount 1, no callbacks left over), and rethrows what it threw. Suspend operations
 * called by [block] itself run as their blocking twins: it is the thread's main tasklet, not a
 * tasklet body.
 */
fun fresh(block: suspend () -> Unit) {
    var failure: Throwable? = null
    val thread = Thread {
        block.startCoroutine(Continuation(EmptyCoroutineContext) { r -> failure = r.exceptionOrNull() })
    }
    thread.start()
    thread.join(60_000)
    check(!thread.isAlive) { "test thread still running after 60 s:\n" + thread.stackTrace.joinToString("\n") }
    failure?.let { throw it }
}
