package dev.stackless

// Tasklets inside a kotlinx.coroutines suspension (delay, withContext, a Deferred's await): the
// tasklet leaves the run queue until its resumption is dispatched to the scheduler, which runs it
// at its turn, in queue order (docs/ARCHITECTURE.md, "kotlinx interop").

/**
 * [t], the current tasklet, returned from a kotlinx.coroutines suspension: it leaves the run
 * queue until its resumption is dispatched (at once to the end of the round if it already was,
 * as by `yield()`), and the next tasklet runs, or, with nothing runnable, the watchdog wakes or
 * the thread waits for the resumption.
 */
internal fun Scheduler.suspendedForeign(t: Tasklet) {
    val next = t.nextLink!!
    if (t.foreignResumes?.isEmpty() == false) {
        if (next !== t) {
            unlink(t)
            append(t)
            switchTo(t, next)
        }
        return
    }
    t.foreignWaiting = true
    foreignWaits++
    unlink(t)
    if (next !== t) {
        switchTo(t, next)
        return
    }
    if (awaitWork { val w = currentWatchdog(); w !== t && revivable(w) && !waitsForThreads() }) {
        val c = current!!
        if (c !== t) switchTo(t, c)
        return
    }
    val w = currentWatchdog()
    append(w)
    switchTo(t, w)
}

/** A kotlinx.coroutines resumption of [t] (dispatched on this thread): it runs at its turn, in queue order. */
internal fun Scheduler.resumeForeign(t: Tasklet, block: Runnable) {
    if (!t.aliveFlag) return
    val resumes = t.foreignResumes ?: ArrayDeque<Runnable>(2).also { t.foreignResumes = it }
    resumes.addLast(block)
    if (t.foreignWaiting) {
        t.foreignWaiting = false
        foreignWaits--
        if (!t.inRunQueue) append(t)
    }
}

/**
 * A throw to [t] while it waits in a kotlinx.coroutines suspension: a `delay` is cancelled with
 * [e] at once (the tasklet becomes runnable and `delay` throws it); any other suspension cannot
 * be interrupted from here, so [e] waits for the tasklet's next switch point after it resumes.
 */
internal fun Scheduler.throwForeign(t: Tasklet, e: Throwable) {
    val c = t.foreignCancel
    if (c != null) {
        t.foreignCancel = null
        c.cancel(e)
    } else {
        deferError(t, e)
    }
}
