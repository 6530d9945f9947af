package dev.stackless

// The end of a tasklet (docs/stackless.md §4.9): the error handler first, then an uncaught
// exception goes to the watchdog before any other runnable tasklet, and a tasklet that ends with
// nothing else runnable wakes the watchdog (or, blocked, gets the deadlock error).

internal fun Scheduler.taskletEnded(t: Tasklet, cause: Throwable?) {
    var error = cause
    if (error != null && error !is TaskletExit) {
        val handler = Scheduler.errorHandler
        if (handler != null) {
            error = try {
                handler.onError(t, error)
                null
            } catch (e: Throwable) {
                e
            }
        }
    }
    t.die()
    val w = currentWatchdog()
    if (error != null && error !is TaskletExit) {
        // The watchdog hears of it before any other runnable tasklet (docs/stackless.md §4.9). Matched by
        // another thread just now, it still has its wake-up in the inbox, applied before it
        // runs: then the value comes first and the exception at its next switch point.
        withdraw(w)
        w.tempval = Bomb(error)
        if (!w.inRunQueue) append(w)
        unlink(t)
        switchTo(t, w)
        return
    }
    val next = t.nextLink!!
    unlink(t)
    if (next !== t) {
        switchTo(t, next)
        return
    }
    if (awaitWork { w.blocked == 0 && !waitsForThreads() }) {
        switchTo(t, current!!)
        return
    }
    val dir = w.blocked
    if (dir != 0) {
        // Blocked, so awaitWork did not stop early: no thread can make progress.
        val what = if (dir < 0) "receiving without a sender" else "sending without a receiver"
        withdraw(w)
        w.tempval = Bomb(DeadlockException("the main tasklet is $what available.${deadlockReport!!}"))
    }
    append(w)
    switchTo(t, w)
}

/** The body returned or threw. */
@JvmSynthetic
internal fun Tasklet.die() {
    scheduler?.unregister(this)
    opDone = false
    if (pendingError != null) {
        pendingError = null
        val s = scheduler
        if (s != null && s.slowPath > 0) s.slowPath--
    }
    aliveFlag = false
    frame = null
    hardBody = null
    tempval = null
    if (!isMainFlag) carrier = null
}
