package dev.stackless

// The watchdog (docs/stackless.md §4.4): Stackless.run() makes the calling tasklet a watchdog,
// pushed on Scheduler.watchdogs; the innermost one is woken when the run queue empties, and the
// outermost timed one (the interrupt watchdog) owns the RunBudget that interrupts tasklets.
//
// The hot path only reads Scheduler.budget: null means no timed run, and a switch costs nothing more.

/**
 * The budget of the outermost timed [Stackless.run] (the *interrupt watchdog*, docs/stackless.md §4.4): ticks
 * or nanoseconds per timeslice (reset at every switch) or in total, and how to interrupt when it is
 * spent.
 *
 * A tick is one switch point (any operation that may switch, and [Stackless.tick]); the JVM cannot
 * count bytecodes, so a tasklet that never reaches a switch point cannot be interrupted. A hard
 * interrupt happens where the running tasklet would otherwise continue: it is taken out of the
 * runnables queue, keeps the result of the operation it was in, and is returned by `run()`. A soft
 * interrupt makes `run()` return null at the next switch instead.
 */
internal class RunBudget(
    @JvmField val owner: Tasklet,
    private val sliceTicks: Long,
    private val sliceNanos: Long,
    @JvmField val soft: Boolean,
    @JvmField val total: Boolean,
) {
    private var ticksLeft: Long = sliceTicks
    private var deadline: Long = if (sliceNanos > 0) System.nanoTime() + sliceNanos else 0L

    /** A soft interrupt is due at the next switch. */
    @JvmField var softPending: Boolean = false

    fun tick() {
        if (sliceTicks > 0) ticksLeft--
    }

    fun spent(): Boolean = if (sliceTicks > 0) ticksLeft <= 0 else System.nanoTime() - deadline >= 0

    /** A switch starts a new timeslice unless the budget is for the whole run. */
    fun newSlice() {
        if (total) return
        if (sliceTicks > 0) ticksLeft = sliceTicks else deadline = System.nanoTime() + sliceNanos
    }
}

internal fun Scheduler.currentWatchdog(): Tasklet = if (watchdogs.isEmpty()) main else watchdogs[watchdogs.size - 1]

/**
 * Counts the tick of a switch point of [me], which [switched] away or not, and interrupts [me]
 * if the budget is spent and nothing defers it. Returns whether [me] is switched away now.
 */
internal fun Scheduler.afterSwitchPoint(me: Tasklet, switched: Boolean, yieldPoint: Boolean = false): Boolean {
    val w = budget ?: return switched
    if (me === w.owner) return switched
    if (switched) {
        // The switch started a new timeslice; only a budget for the whole run counts it.
        if (w.total) w.tick()
        return true
    }
    w.tick()
    // Deferred while atomic or trapped: the budget stays spent, so the next switch point fires.
    if (!w.spent() || me.atomicFlag || switchTrap != 0) return false
    val owner = w.owner
    if (w.soft) {
        if (!yieldPoint) {
            w.softPending = true
            return false
        }
        // A yield point is a switch: run() returns null and [me] stays runnable, right after it.
        w.softPending = false
        owner.tempval = null
        if (!owner.inRunQueue) append(owner)
        moveTo(me, owner)
    } else {
        moveTo(me, interrupt(me))
    }
    return true
}

internal fun Scheduler.timedSwitch(next: Tasklet, softInterruptible: Boolean): Tasklet {
    val w = budget!!
    val owner = w.owner
    if (next === owner || switchTrap != 0) {
        w.newSlice()
        return next
    }
    if (w.total && !w.soft && !next.atomicFlag && w.spent()) {
        // A budget for the whole run can run out on tasklets that only ever switch: the one about
        // to run is interrupted before it goes on.
        return interrupt(next)
    }
    if (w.total && w.soft && w.spent()) w.softPending = true
    w.newSlice()
    if (!softInterruptible || !w.softPending) return next
    // Soft interrupt: the watchdog goes just before the tasklet that was about to run; run() returns null.
    w.softPending = false
    owner.tempval = null
    if (!owner.inRunQueue) insertAfter(next.prevLink!!, owner)
    return owner
}

/**
 * A hard interrupt: [victim] leaves the runnables queue (paused), keeping its operation's result
 * in its tempval, and the interrupt watchdog, which becomes runnable, will return it from `run()`.
 */
internal fun Scheduler.interrupt(victim: Tasklet): Tasklet {
    val owner = budget!!.owner
    unlink(victim)
    owner.tempval = victim
    if (!owner.inRunQueue) append(owner)
    return owner
}

/**
 * `stackless.run()` (docs/stackless.md §4.4): [me] becomes the innermost watchdog. With a budget
 * ([ticks] or [nanos] > 0) and no timed run around it, it also becomes the interrupt watchdog;
 * otherwise the budget and the flags are ignored ("the first timed run wins").
 */
internal fun Scheduler.runWatchdog(me: Tasklet, ticks: Long, nanos: Long, soft: Boolean, total: Boolean, threadblock: Boolean): Boolean {
    if (slowPath != 0) takeSlowPath(me, false)
    if (inbox.hasMail()) drain()
    val timed = ticks > 0 || nanos > 0
    // threadblock belongs to the interrupt watchdog: ignored without a budget, except for runAll().
    val waits = threadblock && (timed || ticks < 0) && (threadblockOwner ?: me) === me
    val next = me.nextLink!!
    if (next === me && !(waits && aliveCount > 1)) return false
    if (next !== me) checkTrap()
    watchdogs.add(me)
    me.inWatchdogStack = true
    if (budget == null && timed) budget = RunBudget(me, ticks, nanos, soft, total)
    if (waits) threadblockOwner = me
    unlink(me)
    if (next !== me) {
        switchTo(me, next)
        return true
    }
    if (awaitWork { false }) {
        switchTo(me, current!!)
        return true
    }
    // No thread can make progress: run() returns (docs/stackless.md §4.8 step 4).
    append(me)
    return false
}

/**
 * [c] resumes inside `run()`: pop it and every watchdog pushed after it; inner callers that are
 * paused become runnable, so that their own `run()` returns when their turn comes (§4.4 step 4).
 */
internal fun Scheduler.popWatchdogs(c: Tasklet) {
    val i = watchdogs.lastIndexOf(c)
    for (j in watchdogs.size - 1 downTo i + 1) {
        val w = watchdogs.removeAt(j)
        w.inWatchdogStack = false
        if (budget?.owner === w) budget = null
        if (threadblockOwner === w) threadblockOwner = null
        if (w.aliveFlag && !w.inRunQueue && w.blocked == 0) append(w)
    }
    if (i >= 0) watchdogs.removeAt(i)
    c.inWatchdogStack = false
    if (budget?.owner === c) budget = null
    if (threadblockOwner === c) threadblockOwner = null
}
