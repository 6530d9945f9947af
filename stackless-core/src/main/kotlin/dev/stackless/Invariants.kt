package dev.stackless

import java.util.IdentityHashMap

// Structural invariants of a scheduler and its channels, checked by the property and stress tests
// after every step, and by pump() between tasklets when the JVM runs with
// -Dstackless.checkInvariants=true (a debug run). A check walks every alive tasklet, so pump() makes
// one every max(1, aliveCount / 64) resumes: every time in small programs, amortized O(64) in big ones.
//
// The legal combinations of a tasklet's flags are listed in Tasklet's KDoc ("State table"); these
// checks are that table, plus the links of the run queue, the registry and the waiter lists.

/** Read once: off, the JIT folds the check in pump() away. */
internal val CHECK_INVARIANTS: Boolean = java.lang.Boolean.getBoolean("stackless.checkInvariants")

/** pump()'s check: [checkInvariants] now and then, so that a million tasklets stay affordable. */
internal fun Scheduler.checkInvariantsNowAndThen() {
    if (--invariantCountdown > 0) return
    invariantCountdown = maxOf(1, aliveCount / 64)
    checkInvariants()
}

/**
 * Checks the run queue, the registry of alive tasklets, every tasklet's flags and the channels its
 * blocked tasklets wait on; throws [IllegalStateException] naming the first broken rule. Called by
 * the thread that holds the baton, at a point where no operation is half done.
 */
@OptIn(InternalStacklessApi::class)
internal fun Scheduler.checkInvariants() {
    fun bad(msg: String): Nothing = throw IllegalStateException("Invariant broken in $this: $msg")
    val inQueue = IdentityHashMap<Tasklet, Unit>()
    val c = current
    if (c == null) {
        if (runCount != 0) bad("no current tasklet but runCount $runCount")
    } else {
        var t: Tasklet = c
        do {
            if (!t.inRunQueue) bad("$t is in the run queue without inRunQueue")
            if (t.scheduler !== this) bad("$t is in the run queue of another scheduler")
            if ((t.blocked != 0 || t.channel != null) && !t.wakePending) bad("$t is in the run queue but blocked")
            if (t.foreignWaiting) bad("$t is in the run queue but waits in a kotlinx suspension")
            if (!t.aliveFlag && t !== c) bad("$t is in the run queue but dead")
            if (inQueue.put(t, Unit) != null) bad("$t is twice in the run queue")
            if (inQueue.size > runCount) bad("the run queue holds more than runCount $runCount")
            val n = t.nextLink ?: bad("$t in the run queue has no next")
            if (n.prevLink !== t) bad("$n.prev is not $t")
            t = n
        } while (t !== c)
        if (inQueue.size != runCount) bad("the run queue holds ${inQueue.size}, runCount is $runCount")
    }
    var count = 0
    var prev: Tasklet? = null
    var foreign = 0
    var pending = 0
    val channels = IdentityHashMap<Channel<*>, Unit>()
    var t = firstAlive
    while (t != null) {
        if (t.registry !== this) bad("$t is in the registry of another scheduler")
        if (t.allPrev !== prev) bad("$t.allPrev is not $prev")
        if (++count > aliveCount) bad("the registry holds more than aliveCount $aliveCount")
        if (t.scheduler === this) {
            checkTaskletState(t, inQueue.containsKey(t), ::bad)
            if (t.foreignWaiting) foreign++
            if (t.pendingError != null) pending++
            t.channel?.let { channels[it] = Unit }
        }
        prev = t
        t = t.allNext
    }
    if (lastAlive !== prev) bad("lastAlive is ${lastAlive}, the registry ends with $prev")
    if (count != aliveCount) bad("the registry holds $count, aliveCount is $aliveCount")
    if (foreign != foreignWaits) bad("$foreign tasklets wait in kotlinx suspensions, foreignWaits is $foreignWaits")
    if (slowPath % IN_CHANNEL_CALLBACK != pending) {
        bad("$pending tasklets have a pending exception, the slow-path count is ${slowPath % IN_CHANNEL_CALLBACK}")
    }
    for (w in watchdogs) if (!w.inWatchdogStack) bad("$w is on the watchdog stack without inWatchdogStack")
    budget?.let { if (it.owner !in watchdogs) bad("the budget's owner ${it.owner} is not on the watchdog stack") }
    for (ch in channels.keys) ch.guard(this) { ch.checkInvariants() }
}

private inline fun checkTaskletState(t: Tasklet, queued: Boolean, bad: (String) -> Nothing) {
    if (t.inRunQueue != queued) bad("$t has inRunQueue=${t.inRunQueue} but is ${if (queued) "" else "not "}in the run queue")
    if ((t.blocked != 0) != (t.channel != null)) bad("$t has blocked=${t.blocked} but channel ${t.channel}")
    if (t.wakePending && t.blocked == 0) bad("$t has a wake-up pending but is not blocked")
    if (t.foreignWaiting && (t.blocked != 0 || !t.aliveFlag)) bad("$t waits in a kotlinx suspension but is blocked or dead")
    if (t.inWatchdogStack && t.scheduler?.watchdogs?.contains(t) != true) bad("$t has inWatchdogStack but is not on the stack")
    if (t.blocked != 0 && !t.aliveFlag) bad("$t is blocked but dead")
    if (t.hardBody != null && t.carrier != null) bad("$t has both a body to start and a carrier")
}

/**
 * Checks this channel's waiter list against its balance and its waiters' flags; throws
 * [IllegalStateException] naming the first broken rule. Called under the channel's guard.
 */
internal fun Channel<*>.checkInvariants() {
    fun bad(msg: String): Nothing = throw IllegalStateException("Invariant broken in $this: $msg")
    val sign = Integer.signum(balance)
    var w = head
    var prev: Tasklet? = null
    var len = 0
    while (w != null) {
        if (w.prevLink !== prev) bad("$w.prev is not $prev")
        if (w.blocked != sign || sign == 0) bad("$w waits with blocked=${w.blocked}, balance is $balance")
        if (w.channel !== this) bad("$w waits here but its channel is ${w.channel}")
        if (w.inRunQueue) bad("$w waits here but is in the run queue")
        if (w.wakePending) bad("$w waits here but has a wake-up pending")
        if (++len > Math.abs(balance)) bad("more waiters than the balance $balance")
        prev = w
        w = w.nextLink
    }
    if (tail !== prev) bad("tail is $tail, the last waiter is $prev")
    if (len != Math.abs(balance)) bad("$len waiters, balance is $balance")
}
