package dev.stackless.lib

/**
 * Runs [block] on a new thread, so that every test starts with a fresh scheduler and loop (no
 * tasklets or timers left over), and rethrows what it threw. [block] is that thread's main tasklet.
 */
fun fresh(block: () -> Unit) {
    var failure: Throwable? = null
    val thread = Thread {
        try {
            block()
        } catch (e: Throwable) {
            failure = e
        }
    }
    thread.start()
    thread.join(60_000)
    check(!thread.isAlive) { "test thread still running after 60 s:\n" + thread.stackTrace.joinToString("\n") }
    failure?.let { throw it }
}
