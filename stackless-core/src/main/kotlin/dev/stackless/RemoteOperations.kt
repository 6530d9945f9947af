package dev.stackless

import java.util.concurrent.locks.LockSupport

// Other threads (docs/stackless.md §5): what another thread asks of this scheduler is posted to its
// Inbox and applied by the scheduler's own thread at its next switch point or while it is idle.
// A wake-up from a cross-thread rendezvous, remote run/insert/remove/setup/throw, the hand-over of
// a channel to shared mode, rebinding, cancelled timers and kotlinx resumptions all travel as Mail.

/** True when the calling thread runs this scheduler: its own thread, or one of its carrier or loop threads. */
internal fun Scheduler.isHere(): Boolean = Thread.currentThread() === thread || Scheduler.local.get() === this

/**
 * False once the thread has ended; the first caller to notice detaches its tasklets (docs/stackless.md §5.4).
 * Only asked on the way of a cross-thread operation: the hot path never calls [Thread.isAlive].
 */
internal fun Scheduler.checkLive(): Boolean {
    if (detached) return false
    if (thread.isAlive) return true
    detach()
    return false
}

/** Hands [m] to this scheduler from another thread, waking it if it is parked. */
internal fun Scheduler.post(m: Mail) {
    inbox.post(m)
    if (parked) LockSupport.unpark(baton)
}

/**
 * Posts the wake-up [m] of a tasklet of this scheduler that another thread matched on a channel,
 * after [unlink] took it out of the channel. Returns false, with nothing done, once the thread
 * has ended and its tasklets are detached. Done under this scheduler's lock, which [detach] also
 * takes: a wake-up is either refused or seen by [detach], which then hands the value to its
 * tasklet; and the thread's end is watched from now on, so that [detach] does happen.
 */
internal inline fun Scheduler.postWake(m: Mail, unlink: () -> Unit): Boolean = synchronized(this) {
    if (detached) return false
    unlink()
    post(m)
    watchThreadEnd()
    true
}

/** [post] for a remote operation on [t]; [deadMessage] is the error when the thread has ended. */
internal fun Scheduler.postFor(t: Tasklet, kind: Int, value: Any?, deadMessage: String) {
    if (!checkLive()) throw TaskletStateException(deadMessage, t)
    post(Mail(kind, t, value))
}

/** `t.run()`/`t.switch()` on a tasklet of another thread: it runs next there; the caller goes on. */
internal fun Scheduler.runRemote(t: Tasklet, removeCaller: Boolean) {
    val owner = t.scheduler
    if (owner == null || !owner.checkLive()) throw TaskletStateException("tasklet has no thread", t)
    if (removeCaller) throw TaskletStateException("can't switch to a different thread.", t)
    owner.checkRunnable(t)
    owner.post(Mail(Mail.RUN, t, null))
}

/** A throw to a tasklet of another thread acts as pending (docs/stackless.md §2.9): it is made runnable there. */
internal fun Scheduler.throwRemote(t: Tasklet, e: Throwable) {
    val owner = t.scheduler
    if (owner == null || !owner.checkLive()) {
        // kill() drops it (its thread may have ended after kill() looked); a dead one needs nothing.
        if (e is TaskletExit && (e.fromKill || (t.frame == null && t.hardBody == null))) {
            t.drop()
            return
        }
        throw TaskletStateException("tasklet has no thread", t)
    }
    if (!t.aliveFlag && e !is TaskletExit) throw TaskletStateException("You cannot throw to a dead tasklet", t)
    owner.post(Mail(Mail.THROW, t, e))
}

internal fun Scheduler.drainBetweenTasklets() {
    betweenTasklets = true
    try {
        drain()
    } finally {
        betweenTasklets = false
    }
}

/** Applies what other threads posted. Called only where the queue and the channels are consistent. */
internal fun Scheduler.drain() {
    if (draining) return
    draining = true
    try {
        drainAll()
    } finally {
        draining = false
    }
}

internal fun Scheduler.drainAll() {
    takeEachMail { kind, t, v, waiter -> apply(kind, t, v, waiter) }
}

/** Takes every mail waiting, in order, and hands what it says to [action]. Consumer only. */
internal inline fun Scheduler.takeEachMail(action: (kind: Int, t: Tasklet?, v: Any?, waiter: Thread?) -> Unit) {
    while (true) {
        val m = inbox.take() ?: return
        val t = m.tasklet
        val v = m.value
        val waiter = m.waiter
        // The mail is now the inbox's stub: let go of what it holds.
        m.tasklet = null
        m.value = null
        m.waiter = null
        action(m.kind, t, v, waiter)
    }
}

@OptIn(InternalStacklessApi::class)
internal fun Scheduler.apply(kind: Int, t: Tasklet?, v: Any?, waiter: Thread?) {
    if (kind == Mail.CANCEL_TIMER) {
        timers.remove(v as Timer)
        return
    }
    if (kind == Mail.SHARE) {
        (v as Channel<*>).share(this)
        LockSupport.unpark(waiter)
        return
    }
    t!!
    if (kind == Mail.ADOPT) {
        if (t.aliveFlag && t.scheduler === this && t.registry == null) register(t)
        return
    }
    if (kind == Mail.RELEASE) {
        unregister(t)
        (v as Scheduler).post(Mail(Mail.ADOPT, t, null))
        return
    }
    val owner = t.scheduler
    if (owner !== this) {
        // Rebound to another thread after the mail was posted: it follows the tasklet.
        if (owner != null) owner.post(Mail(kind, t, v))
        return
    }
    when (kind) {
        Mail.WAKE -> wake(t, v)
        Mail.RESUME -> resumeForeign(t, v as Runnable)
        Mail.INSERT -> if (t.aliveFlag && t.blocked == 0 && !t.inRunQueue) append(t)
        Mail.WAKE_FOREIGN -> if (t.foreignEpoch == v as Int && t.aliveFlag && t.blocked == 0 && !t.inRunQueue && !t.foreignWaiting) append(t)
        Mail.RUN -> if (t.aliveFlag && t.blocked == 0 && t !== current) {
            if (t.inRunQueue) unlink(t)
            val c = current
            if (c == null) append(t) else insertAfter(c, t)
        }
        Mail.REMOVE -> if (t.inRunQueue && t.blocked == 0 && t !== current) unlink(t)
        Mail.SETUP -> if (!t.aliveFlag) {
            try {
                t.setup()
            } catch (_: IllegalStateException) {
                // Set up meanwhile, or unbound: the caller was answered when it posted.
            }
        }
        Mail.THROW -> {
            val e = v as Throwable
            if (!t.aliveFlag) {
                if (e is TaskletExit) dropDead(t)
            } else {
                deliverThrow(t, e)
            }
        }
    }
}

/** [t], which waited on a channel, was matched by another thread: [v] is what its operation returns. */
internal fun Scheduler.wake(t: Tasklet, v: Any?) {
    t.blocked = 0
    t.channel = null
    t.wakePending = false
    if (t.inRunQueue) {
        // Thrown to after the match but before this mail: the value comes first, the exception after.
        val bomb = t.tempval
        if (bomb is Bomb) deferError(t, bomb.error)
    }
    t.tempval = v
    t.opDone = true
    if (!t.inRunQueue && t.aliveFlag) append(t)
}
