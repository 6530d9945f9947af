package dev.stackless

import java.util.concurrent.atomic.AtomicReferenceFieldUpdater
import java.util.concurrent.locks.LockSupport

// A channel used by several threads (docs/stackless.md §5.3). The first thread to use a channel
// owns it and works without a lock (Channel.biasedOwner makes that check a plain read); when a
// second thread comes, the owner hands the channel over to shared mode at its next switch point
// or idle moment (Mail.SHARE), and from then on every operation takes the channel's monitor.
// A waiter of another thread is woken through its own scheduler's inbox (wakeRemote); the rules
// that keep its value are in docs/nothing-lost.md.

/** [Channel.owner] of a channel used by several threads. */
internal val SHARED: Any = Any()

private val OWNER: AtomicReferenceFieldUpdater<Channel<*>, Any> =
    AtomicReferenceFieldUpdater.newUpdater(Channel::class.java, Any::class.java, "owner")

/**
 * [me] completes the rendezvous with [target], a waiter of another thread: [target] leaves the
 * waiters and gets its result through its own scheduler's inbox. Returns false, with nothing
 * changed, when [target]'s thread has ended (it can never take the value).
 *
 * Until its thread applies the wake-up, [target] stays blocked for that thread and keeps
 * [Tasklet.channel]: a throw from there finds it still on this channel but no longer waiting
 * ([Tasklet.wakePending]), and knows that the wake-up is already in its inbox, since it is
 * posted under the channel's lock. Called under the lock.
 */
@JvmSynthetic
internal fun Channel<*>.wakeRemote(me: Tasklet, target: Tasklet): Boolean {
    val ts = target.scheduler ?: return false
    // Read before posting: once the mail is out, target's thread may overwrite its tempval.
    val theirs = target.tempval
    val posted = ts.postWake(Mail(Mail.WAKE, target, me.tempval)) {
        unlinkWaiter(target)
        target.wakePending = true
    }
    if (!posted) return false
    me.tempval = theirs
    // The caller holds a result now, like any partner of a completed rendezvous.
    me.opDone = true
    return true
}

// ---------------------------------------------------------------------------------------------
// Sharing between threads

/**
 * True when [s] may use the channel without a lock: it owns it, or takes it now if nobody has
 * used it yet. Otherwise the channel is (made) shared: a live owner of another thread hands it
 * over at its next switch or idle moment, an ended one at once. [s] is null for a thread without
 * a scheduler (closing a channel from a plain thread), which never owns one.
 */
@JvmSynthetic
internal fun Channel<*>.ownedBy(s: Scheduler?): Boolean {
    while (true) {
        val o = owner
        when {
            o === SHARED -> return false
            o == null -> if (OWNER.compareAndSet(this, null, s ?: SHARED)) {
                biasedOwner = s
                return s != null
            }
            o === s -> if (!s.detached) {
                biasedOwner = s
                return true
            } else {
                OWNER.compareAndSet(this, o, SHARED)
            }
            else -> {
                val os = o as Scheduler
                if (os.checkLive()) awaitShared(s, this, os) else OWNER.compareAndSet(this, o, SHARED)
            }
        }
    }
}

/** Called by the owner on its own thread, between operations: from now on everyone locks. */
@JvmSynthetic
internal fun Channel<*>.share(s: Scheduler) {
    if (biasedOwner === s) biasedOwner = null
    OWNER.compareAndSet(this, s, SHARED)
}

/** Runs [block] with the channel's state safe to change for [s]: unlocked if it owns it, else under the lock. */
@JvmSynthetic
internal inline fun <R> Channel<*>.guard(s: Scheduler?, block: () -> R): R =
    if (ownedBy(s)) block() else synchronized(this) { block() }

/**
 * Takes [t] out of the waiters; false if it no longer waits here (matched by another thread
 * meanwhile). A receiver that leaves is reported to the channel's [Channel.feeder].
 */
@JvmSynthetic
@OptIn(InternalStacklessApi::class)
internal fun Channel<*>.withdraw(s: Scheduler?, t: Tasklet): Boolean {
    var receiverLeft = false
    val withdrawn = guard(s) {
        if (t.channel !== this || t.wakePending) {
            false
        } else {
            receiverLeft = t.blocked < 0
            removeWaiter(t)
            true
        }
    }
    if (receiverLeft) feeder?.receiverLeft()
    return withdrawn
}

/**
 * [action] on a channel shared by several threads: the rendezvous is decided under the lock;
 * switching, if any, happens after it, between tasklets of the caller's own thread.
 */
@JvmSynthetic
@OptIn(InternalStacklessApi::class)
internal fun Channel<*>.sharedAction(s: Scheduler, me: Tasklet, dir: Int, value: Any?): Boolean {
    val old = me.tempval
    me.tempval = if (dir > 0) value else null
    var local: Tasklet? = null
    var preferTarget = false
    var next = me.nextLink!!
    synchronized(this) {
        var target = firstLiveWaiter(s, dir)
        val cb = Scheduler.channelCallback
        if (cb != null) {
            notifyChannel(s, cb, me, dir, target != null, old)
            // The callback may have killed or thrown to the partner, which then left the channel.
            target = firstLiveWaiter(s, dir)
        }
        while (target != null && target.scheduler !== s) {
            if (wakeRemote(me, target)) return false
            // Its thread ended just now: it can never run, and leaves.
            removeWaiter(target)
            target = firstLiveWaiter(s, dir)
        }
        if (target == null) {
            checkCanBlock(s, me, dir, old)
            // A feeder may have set up a tasklet that now follows [me].
            next = me.nextLink!!
            wait(s, me, dir)
        } else {
            preferTarget = match(s, me, target, dir, old)
            local = target
        }
    }
    val target = local ?: return switchAway(s, me, next, old)
    return afterMatch(s, me, target, preferTarget)
}

/** The first waiter [s] could meet in direction [dir]; waiters whose thread has ended leave on the way. Under the lock. */
@JvmSynthetic
internal fun Channel<*>.firstLiveWaiter(s: Scheduler, dir: Int): Tasklet? {
    while (canMatch(dir)) {
        val t = head!!
        val ts = t.scheduler
        if (ts != null && (ts === s || ts.checkLive())) return t
        removeWaiter(t)
    }
    return null
}

/**
 * Waits until [owner], the thread that uses [ch] without a lock, hands it over to shared mode.
 * Meanwhile [me], the caller's scheduler if it has one, serves the requests posted to it, so
 * that two threads waiting for each other's channels both go on.
 */
private fun awaitShared(me: Scheduler?, ch: Channel<*>, owner: Scheduler) {
    val m = Mail(Mail.SHARE, null, ch)
    m.waiter = Thread.currentThread()
    owner.post(m)
    me?.parked = true
    try {
        while (ch.owner === owner) {
            if (me != null && me.inbox.hasMail()) me.drain()
            if (!owner.checkLive()) break
            LockSupport.parkNanos(ch, SHARE_RECHECK_NANOS)
        }
    } finally {
        me?.parked = false
    }
}

/** How often a thread waiting for a channel to be shared looks again whether its owner has ended. */
private const val SHARE_RECHECK_NANOS = 1_000_000L
