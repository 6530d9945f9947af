package dev.stackless

import java.util.IdentityHashMap
import java.util.concurrent.locks.LockSupport

// Running out of runnable tasklets (docs/stackless.md §4.8): waiting for other threads and timers
// while idle, deciding that no thread can make progress (exactly one thread decides, under a global
// lock, and tells the other idle ones), and the bounded deadlock report.

/**
 * The text that makes a deadlock diagnosable: the blocked tasklets and what each waits on.
 *
 * The report has a bounded size whatever the number of blocked tasklets: the first [LISTED] are
 * named one per line, the rest are counted per channel (the [COUNTED] channels with the most
 * waiters named, the others summed). Building it never throws: it runs while a tasklet is half
 * way through blocking, and an error escaping from here would leave the run queue without a
 * current tasklet.
 */
internal object Deadlocks {
    /** Blocked tasklets named one per line. */
    const val LISTED = 20

    /** Channels named in the summary of the tasklets beyond [LISTED]. */
    const val COUNTED = 5

    /** Distinct channels tracked for that summary; waiters of further channels are only counted. */
    private const val TRACKED = 1024

    /**
     * The report's lines, each starting with a line break; empty when no tasklet is blocked. The
     * tasklets of [s] come first, then those of other threads (all idle when a deadlock is found),
     * each line naming its thread when there are several.
     */
    fun report(s: Scheduler): String = try {
        build(s)
    } catch (e: Throwable) {
        // Out of memory, or a toString() that threw: say so rather than lose the scheduler.
        "\n  (the list of blocked tasklets could not be made: $e)"
    }

    private fun build(s: Scheduler): String {
        val others = Scheduler.all().filter { it !== s }
        val summary = Summary()
        // Several threads: every line names its thread, since the report goes to each of them.
        val named = others.isNotEmpty()
        summary.addAll(s, named)
        for (o in others) summary.addAll(o, true)
        return summary.toString()
    }

    /** What tasklet [t], blocked on [ch], waits for: the channel, or what the channel stands in for. */
    @OptIn(InternalStacklessApi::class)
    fun waitDescription(t: Tasklet, ch: Channel<*>): String {
        val what = ch.waitingFor
        if (what != null) return "waiting for $what"
        return (if (t.blocked > 0) "blocked sending on " else "blocked receiving on ") + ch
    }

    private class Summary {
        private val sb = StringBuilder()
        private var listed = 0
        private var more = 0
        private val perChannel = IdentityHashMap<Channel<*>, IntArray>()
        private var untracked = 0

        fun addAll(s: Scheduler, named: Boolean) {
            s.forEachTasklet { t ->
                val ch = t.channel
                if (ch != null) add(t, ch, if (named) s.thread.name else null)
            }
        }

        private fun add(t: Tasklet, ch: Channel<*>, threadName: String?) {
            if (listed < LISTED) {
                listed++
                sb.append("\n  ").append(t.name)
                if (threadName != null) sb.append(" (thread '").append(threadName).append("')")
                sb.append(" is ").append(waitDescription(t, ch))
                return
            }
            more++
            val count = perChannel[ch]
            when {
                count != null -> count[0]++
                perChannel.size < TRACKED -> perChannel[ch] = intArrayOf(1)
                else -> untracked++
            }
        }

        override fun toString(): String {
            if (more == 0) return sb.toString()
            sb.append("\n  and ").append(String.format("%,d", more)).append(" more blocked tasklets: ")
            val top = perChannel.entries.sortedByDescending { it.value[0] }
            val shown = top.take(COUNTED)
            shown.forEachIndexed { i, (ch, n) ->
                if (i > 0) sb.append(", ")
                sb.append(String.format("%,d", n[0])).append(" on ")
                val what = @OptIn(InternalStacklessApi::class) ch.waitingFor
                sb.append(what ?: ch)
            }
            val rest = top.drop(COUNTED).sumOf { it.value[0] } + untracked
            if (rest > 0) {
                val channels = top.size - shown.size
                sb.append(", ").append(String.format("%,d", rest)).append(" on ")
                if (untracked > 0) sb.append("more than ")
                sb.append(String.format("%,d", channels)).append(" other channels")
            }
            return sb.toString()
        }
    }
}

/**
 * [b] has just left the run queue (blocked or paused) and nothing is runnable (docs/stackless.md §4.8):
 * revive a paused watchdog, or fail with a deadlock in [b] itself, which is restored to the queue
 * with its tempval [oldTempval].
 */
internal fun Scheduler.blockOut(b: Tasklet, oldTempval: Any?): Boolean {
    if (awaitWork { revivable(currentWatchdog()) && !waitsForThreads() }) {
        // Another thread made something runnable here (perhaps [b] itself, its operation done).
        val c = current!!
        if (c === b) return false
        switchTo(b, c)
        return true
    }
    val w = currentWatchdog()
    val report = deadlockReport ?: return revive(b, w, oldTempval)
    // No thread can make progress (docs/stackless.md §4.8 step 4).
    if (revivable(w)) return revive(b, w, oldTempval)
    restore(b, oldTempval)
    throw DeadlockException("Deadlock: the last runnable tasklet cannot be blocked.$report")
}

internal fun Scheduler.revivable(w: Tasklet): Boolean = w.aliveFlag && !w.inRunQueue && w.blocked == 0

/** A `run()` with threadblock waits for other threads while some other tasklet of this thread is alive. */
internal fun Scheduler.waitsForThreads(): Boolean = threadblockOwner != null && aliveCount > 1

internal fun Scheduler.revive(b: Tasklet, w: Tasklet, oldTempval: Any?): Boolean {
    if (w === b) {
        append(b)
        return false
    }
    if (switchTrap != 0) {
        restore(b, oldTempval)
        throw SwitchTrapException()
    }
    append(w)
    switchTo(b, w)
    return true
}

internal fun Scheduler.restore(b: Tasklet, oldTempval: Any?) {
    withdraw(b)
    if (!b.inRunQueue) append(b)
    current = b
    b.tempval = oldTempval
}

/**
 * Nothing is runnable here: applies what other threads posted and waits for them until
 * something is runnable (returns true, [current] set). Returns false instead when [stop] says
 * this thread should not wait (then [deadlockReport] is null), or when no thread can make
 * progress ([deadlockReport] says why).
 */
internal inline fun Scheduler.awaitWork(stop: () -> Boolean): Boolean {
    deadlockReport = null
    while (true) {
        if (inbox.hasMail()) drain()
        runDueTimers()
        if (current != null) return true
        if (stop()) return false
        deadlockReport = idleWait() ?: continue
        return false
    }
}

/**
 * Nothing is runnable here: parks until another thread posts (returns null), or, when no thread
 * can make progress any more, returns the deadlock report (every idle thread gets it).
 * A thread alone never parks: it has a deadlock at once, as in single-threaded Stackless.
 */
internal fun Scheduler.idleWait(): String? {
    // Due timers or another thread's answer will end the wait: this thread is not stuck.
    val expecting = timers.size != 0 || foreignWaits != 0
    synchronized(Scheduler.idleLock) {
        if (inbox.hasMail()) return null
        deadlocked?.let {
            deadlocked = null
            return it
        }
        // Twice around the mail check: a thread that ended after posting here is skipped by the
        // scan, and seeing it ended makes its post visible to the second check.
        if (!expecting && noOtherThreadCanProgress() && !inbox.hasMail() && noOtherThreadCanProgress()) {
            val report = Deadlocks.report(this)
            for (o in Scheduler.byThreadId.values) {
                if (o !== this && o.idle) {
                    o.deadlocked = report
                    LockSupport.unpark(o.baton)
                }
            }
            return report
        }
        idle = !expecting
    }
    parked = true
    val timed = timers.size != 0
    val deadline = if (timed) timers.firstDeadline() else 0L
    var spins = IDLE_SPINS
    while (!inbox.hasMail() && deadlocked == null) {
        val left = if (timed) deadline - System.nanoTime() else 0L
        if (timed && left <= 0) break
        if (spins > 0) {
            spins--
            Thread.onSpinWait()
        } else {
            if (timed) LockSupport.parkNanos(this, left) else LockSupport.park(this)
            Thread.interrupted()
        }
    }
    parked = false
    synchronized(Scheduler.idleLock) {
        idle = false
        // Mail that came with (or after) a deadlock signal means some thread did go on.
        if (inbox.hasMail()) deadlocked = null
    }
    return null
}

internal fun Scheduler.noOtherThreadCanProgress(): Boolean {
    for (o in Scheduler.byThreadId.values) {
        if (o === this || o.detached || !o.thread.isAlive) continue
        if (!o.idle || o.inbox.hasMail()) return false
    }
    return true
}

/**
 * The main tasklet [me], alone in the run queue, waits until something happens: mail from
 * another thread applied, timers run, a tasklet runnable, or [deadline] ([System.nanoTime]) passed
 * when [hasDeadline] (true). It parks meanwhile. Returns false at once when nothing can ever
 * happen here: no other tasklet alive, no timer, no wait for another thread.
 *
 * @throws DeadlockException when tasklets are alive but no thread can make progress.
 */
@OptIn(InternalStacklessApi::class)
internal fun Scheduler.waitForWork(me: Tasklet, deadline: Long, hasDeadline: Boolean): Boolean {
    // The deadline as a timer: the idle wait ends by then, and no deadlock is declared before it.
    val alarm = if (hasDeadline) callAt(deadline, 0, NO_OP) else null
    try {
        while (true) {
            val mail = inbox.hasMail()
            if (mail) drain()
            if (runDueTimers() > 0 || mail || me.nextLink !== me || current !== me) return true
            if (!me.isMainFlag) return false
            if (aliveCount <= 1 && timers.size == 0 && foreignWaits == 0) return false
            val report = idleWait() ?: continue
            throw DeadlockException("Deadlock: every tasklet is blocked and no timer is pending.$report")
        }
    } finally {
        if (alarm != null) timers.remove(alarm)
    }
}

/** Spins before an idle thread parks: a reply from another thread often comes within microseconds. */
private const val IDLE_SPINS = 200

private val NO_OP = Runnable {}
