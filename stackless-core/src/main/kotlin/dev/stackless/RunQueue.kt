package dev.stackless

// The runnables queue and the registry of alive tasklets of one scheduler (docs/stackless.md §1.2).
//
// The runnables queue is an intrusive circular doubly-linked list threaded through
// Tasklet.nextLink/prevLink, with Scheduler.current as its head: append links a tasklet just before
// current, that is at the end of the round; a switch only moves current, so the tasklets between
// the old and the new current go to the end ("rotation"). The registry is a second intrusive list
// (Tasklet.allNext/allPrev) of every alive tasklet, blocked ones included, for dump() and the
// deadlock report. Both are touched only by the thread that holds the scheduler's baton.

/** Links [t] at the end of the round: just before [Scheduler.current], or alone as the current one. */
internal fun Scheduler.append(t: Tasklet) {
    val c = current
    if (c != null) {
        insertAfter(c.prevLink!!, t)
        return
    }
    t.nextLink = t
    t.prevLink = t
    current = t
    t.inRunQueue = true
    runCount++
}

/** Links [t] right after [anchor], so that it runs next. */
internal fun Scheduler.insertAfter(anchor: Tasklet, t: Tasklet) {
    val n = anchor.nextLink!!
    t.prevLink = anchor
    t.nextLink = n
    anchor.nextLink = t
    n.prevLink = t
    t.inRunQueue = true
    runCount++
}

/** Takes [t] out of the queue; if it was current, the next one becomes current. */
internal fun Scheduler.unlink(t: Tasklet) {
    val n = t.nextLink!!
    if (n === t) {
        current = null
    } else {
        val p = t.prevLink!!
        p.nextLink = n
        n.prevLink = p
        if (current === t) current = n
    }
    t.nextLink = null
    t.prevLink = null
    t.inRunQueue = false
    runCount--
}

internal fun Scheduler.register(t: Tasklet) {
    t.registry = this
    val last = lastAlive
    t.allPrev = last
    t.allNext = null
    if (last == null) firstAlive = t else last.allNext = t
    lastAlive = t
    aliveCount++
}

/** Drops [t] from the registry; a no-op unless this scheduler's registry holds it. */
internal fun Scheduler.unregister(t: Tasklet) {
    if (t.registry !== this) return
    t.registry = null
    val n = t.allNext
    val p = t.allPrev
    if (p == null) {
        firstAlive = n
    } else {
        p.allNext = n
    }
    if (n == null) {
        if (lastAlive === t) lastAlive = p
    } else {
        n.allPrev = p
    }
    t.allNext = null
    t.allPrev = null
    aliveCount--
}

internal inline fun Scheduler.forEachTasklet(action: (Tasklet) -> Unit) {
    var t = firstAlive
    while (t != null) {
        val next = t.allNext
        action(t)
        t = next
    }
}
