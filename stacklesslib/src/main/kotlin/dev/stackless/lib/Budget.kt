package dev.stackless.lib

import dev.stackless.DeadlockException
import dev.stackless.InternalStacklessApi
import dev.stackless.SchedulerHooks
import dev.stackless.Stackless
import dev.stackless.Timer
import kotlin.time.Duration

/**
 * A time limit shared by several waits (stacklesslib's `Timeouts`): it starts when made, and each
 * wait gets what is left. A null, negative or infinite [limit] means none; zero is already spent.
 */
internal class Budget(private val limit: Duration?) {
    /** False when there is no limit. */
    val timed: Boolean = limit != null && limit.isFinite() && !limit.isNegative()

    /** The [System.nanoTime] the budget runs out at (meaningless when not [timed]). */
    val deadline: Long = if (timed) deadlineIn(nanosOf(limit)!!) else 0L

    /** True once the limit has passed. */
    fun expired(): Boolean = timed && deadline - System.nanoTime() <= 0

    /** What a wait that ran out of this budget throws: "timed out after <limit>", as [timeout] says it. */
    fun timeoutException(): TaskletTimeoutException = TaskletTimeoutException("timed out after $limit")

    /**
     * Keeps the calling tasklet out of the run queue (paused, by [park]) until [ready] holds, true,
     * or the budget runs out, false. Whoever makes [ready] hold must then put the tasklet back with
     * [ForeignWake.wake] (a timer does it at the deadline); a wake-up for another reason only costs
     * one more look. With [foreign] the thread knows the wake-up will come from another thread, so
     * that an idle loop parks instead of reporting a deadlock. A kill or a timeout ends the wait by
     * its exception.
     */
    @OptIn(InternalStacklessApi::class)
    inline fun await(foreign: Boolean, ready: () -> Boolean, park: () -> Unit): Boolean {
        // The wait begins before [ready] is first asked: a wake-up sent by another thread after that
        // look carries this wait's epoch and is applied, not dropped as a stale one.
        if (foreign) SchedulerHooks.beginForeignWait()
        var timer: Timer? = null
        try {
            if (ready()) return true
            if (expired()) return false
            if (timed) timer = SchedulerHooks.callAt(deadline, 0, WakeUp(Stackless.current))
            while (true) {
                park()
                if (ready()) return true
                if (expired()) return false
            }
        } finally {
            timer?.cancel()
            if (foreign) SchedulerHooks.endForeignWait()
        }
    }
}

/**
 * One wait of the calling tasklet for a [ForeignWake.wake] (or a timer), the suspend way: it leaves
 * the run queue until put back. On the main tasklet (called outside a tasklet body) it is
 * [parkBlocking].
 *
 * @throws dev.stackless.DeadlockException as [parkBlocking].
 */
internal suspend fun park(awaited: Any) {
    if (Stackless.current.isMain) parkBlocking(awaited) else Stackless.scheduleRemove()
}

/**
 * [park], the blocking way. The main tasklet alone, which would come straight back from
 * [Stackless.scheduleRemoveBlocking], parks its thread instead until something happens.
 *
 * @throws DeadlockException when the main tasklet waits alone for [awaited] and nothing (no
 *   tasklet, timer or other thread) could ever wake it.
 */
@OptIn(InternalStacklessApi::class)
internal fun parkBlocking(awaited: Any) {
    if (!Stackless.current.isMain || SchedulerHooks.runCount() > 1) {
        Stackless.scheduleRemoveBlocking()
    } else if (!SchedulerHooks.waitForWork()) {
        throw DeadlockException(
            "Deadlock: the main tasklet waits for $awaited, which nothing can complete " +
                "(a future completed by another thread must be marked with setRunningOrNotifyCancel() there).",
        )
    }
}
