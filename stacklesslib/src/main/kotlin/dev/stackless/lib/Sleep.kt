package dev.stackless.lib

import dev.stackless.InternalStacklessApi
import dev.stackless.SchedulerHooks
import dev.stackless.Stackless
import dev.stackless.Tasklet
import kotlin.time.Duration

/**
 * Suspends the calling tasklet for [d]; the other tasklets run meanwhile. It leaves the run queue
 * (paused) until a timer of its thread's loop puts it back, so a million sleepers cost a million
 * heap entries and nothing else. A zero or negative [d] yields once ([Stackless.schedule]).
 * It returns early only by an exception: a kill, an enclosing [timeout].
 */
@OptIn(InternalStacklessApi::class)
public suspend fun sleep(d: Duration) {
    val nanos = nanosOf(d)!!
    if (nanos <= 0) {
        Stackless.schedule()
        return
    }
    val me = Stackless.current
    if (me.isMain) return sleepBlocking(d) // called outside a tasklet body
    val deadline = deadlineIn(nanos)
    // Someone may insert the sleeper early: it goes back to sleep for the rest.
    do {
        val timer = SchedulerHooks.callAt(deadline, 0, WakeUp(me))
        try {
            Stackless.scheduleRemove()
        } finally {
            timer.cancel()
        }
    } while (deadline - System.nanoTime() > 0)
}

/** [sleep] for Java, for the main tasklet and for non-suspend code in a tasklet. */
@OptIn(InternalStacklessApi::class)
public fun sleepBlocking(d: Duration) {
    val nanos = nanosOf(d)!!
    if (nanos <= 0) {
        Stackless.scheduleBlocking()
        return
    }
    val me = Stackless.current
    val deadline = deadlineIn(nanos)
    do {
        val timer = SchedulerHooks.callAt(deadline, 0, WakeUp(me))
        try {
            // Always a switch point first: it throws what is pending (a timeout's interrupt) and
            // refuses to run in a timer callback, neither of which the loop's wait does.
            Stackless.scheduleRemoveBlocking()
            // The main tasklet alone comes straight back from scheduleRemove: it parks instead.
            if (me.isMain && SchedulerHooks.runCount() <= 1 && deadline - System.nanoTime() > 0) {
                SchedulerHooks.waitForWork(deadline)
            }
        } finally {
            timer.cancel()
        }
    } while (deadline - System.nanoTime() > 0)
}

/** [sleepBlocking] with a [java.time.Duration]. */
public fun sleepBlocking(d: java.time.Duration): Unit = sleepBlocking(d.toKotlin()!!)

/** The timer callback of a sleeper: back into the run queue, if it is still paused. */
internal class WakeUp(private val sleeper: Tasklet) : Runnable {
    override fun run() {
        if (sleeper.paused) sleeper.insert()
    }
}
