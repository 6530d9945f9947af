package dev.stackless

import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.locks.LockSupport

// The end of a thread (docs/stackless.md §5.4): its tasklets are detached; hard tasklets, and
// tasklets another thread handed a value to, are reaped on a reaper thread so that no frame is
// left parked and no value is lost.

/**
 * Watches the threads whose end must be acted on ([Scheduler.detach]): threads with hard tasklets,
 * which must be killed, and threads that other threads handed values to, which must not be lost
 * if the thread ends before it takes them.
 *
 * Each watched thread gets a watcher that joins it: no polling, no CPU while it waits (a virtual
 * thread on JDK 21+). Watchers are started by one daemon thread of ours, not by the thread that
 * asks: the request comes from inside a channel operation or a tasklet's start, under locks, on a
 * thread that may be managed by someone else (a pool, or a test harness such as Lincheck, which
 * follows every thread its threads start and every shared structure they touch). A request is
 * therefore only a flag on the scheduler ([Scheduler.watchThreadEnd]) and an unpark of the daemon,
 * which looks for new requests among all schedulers.
 */
internal object ThreadEnds {
    /** Schedulers with a watcher; only the daemon adds, a watcher removes its own when it is done. */
    private val watched = ConcurrentHashMap.newKeySet<Scheduler>()

    private val daemon: Thread = Thread(::serve, "stackless thread-end watcher").apply {
        isDaemon = true
        start()
    }

    /** Has the daemon look for schedulers that asked to be watched. */
    fun poke() {
        LockSupport.unpark(daemon)
    }

    private fun serve() {
        while (true) {
            for (s in Scheduler.watchRequests()) {
                if (watched.add(s)) Carriers.newThread("stackless watcher of '${s.thread.name}'") { detachAtEnd(s) }.start()
            }
            LockSupport.park(this)
        }
    }

    private fun detachAtEnd(s: Scheduler) {
        while (true) {
            try {
                s.thread.join()
                break
            } catch (_: InterruptedException) {
                // Keep watching.
            }
        }
        s.detach()
        watched.remove(s)
    }
}

/**
 * The thread has ended: its soft tasklets are detached (not alive, no thread, out of the queue;
 * one blocked on a channel stays there) and never run again; hard tasklets still suspended get
 * [TaskletExit] on a reaper thread that stands in as a temporary main tasklet.
 */
internal fun Scheduler.detach() {
    val reaped = ArrayList<Tasklet>()
    synchronized(this) {
        if (detached) return
        detached = true
        takeMailOfEndedThread()
        var t = firstAlive
        while (t != null) {
            val next = t.allNext
            t.allNext = null
            t.allPrev = null
            t.registry = null
            when {
                t.scheduler !== this -> t.scheduler?.post(Mail(Mail.ADOPT, t, null))
                t.carrier != null && !t.isMainFlag -> reaped.add(t)
                // A value was handed to it (a rendezvous completed): it must not be lost.
                t.opDone && !t.isMainFlag -> reaped.add(t)
                else -> t.detachFromThread()
            }
            t = next
        }
        firstAlive = null
        lastAlive = null
        aliveCount = 0
        current = null
        runCount = 0
        Scheduler.byThreadId.remove(thread.id, this)
    }
    if (reaped.isNotEmpty()) Carriers.newThread("stackless reaper of '${thread.name}'") { reap(reaped) }.start()
}

/**
 * The mail of a thread that has ended, taken by [detach] (nobody else takes it any more): a
 * wake-up gives its tasklet the value (it is reaped with it), mail about tasklets rebound to
 * other threads follows them, a channel waiting to be shared is shared; the rest concerned
 * tasklets that will never run.
 */
internal fun Scheduler.takeMailOfEndedThread() {
    takeEachMail { kind, t, v, waiter ->
        when {
            kind == Mail.SHARE -> {
                (v as Channel<*>).share(this)
                LockSupport.unpark(waiter)
            }
            t == null || kind == Mail.ADOPT -> Unit
            kind == Mail.RELEASE -> {
                unregister(t)
                (v as Scheduler).post(Mail(Mail.ADOPT, t, null))
            }
            t.scheduler !== this -> t.scheduler?.post(Mail(kind, t, v))
            kind == Mail.WAKE -> wake(t, v)
        }
    }
}

/**
 * Runs on a reaper thread, which stands in as a temporary main tasklet: raises [TaskletExit] in
 * each tasklet of [reaped], one after the other. A hard tasklet gets it where it waits; a tasklet
 * that was handed a value first returns it from its operation and gets the exit at its next
 * switch point, so that its `finally` blocks run with the value received.
 */
internal fun Scheduler.reap(reaped: List<Tasklet>) {
    Scheduler.local.set(this)
    val temp = Tasklet.newMain(this, Thread.currentThread())
    main = temp
    watchdogs.clear()
    budget = null
    threadblockOwner = null
    switchTrap = 0
    for (t in reaped) {
        t.nextLink = null
        t.prevLink = null
        t.inRunQueue = false
    }
    append(temp)
    baton = Thread.currentThread()
    for (t in reaped) {
        t.registry = null
        register(t)
        try {
            if (throwTo(temp, t, TaskletExit(), pending = false)) parkUntilResumed(temp)
            temp.claim()
        } catch (_: Throwable) {
            // What a dying tasklet throws has nobody left to go to.
        }
    }
    forEachTasklet { it.detachFromThread() }
}

/**
 * Watches the thread once it has hard tasklets or got a value from another thread, so that when
 * it ends hard tasklets are killed and values in hand are taken ([detach]).
 */
internal fun Scheduler.watchThreadEnd() {
    if (endWatched) return
    endWatched = true
    ThreadEnds.poke()
}

/** Drops the frame of a tasklet whose thread has ended: it is dead, and out of its channel. */
@JvmSynthetic
internal fun Tasklet.drop() {
    channel?.withdraw(Scheduler.forCurrentThreadOrNull(), this)
    blocked = 0
    aliveFlag = false
    frame = null
    hardBody = null
    tempval = null
}

/** Its thread ended (docs/stackless.md §5.4): it stops where it is; one blocked on a channel stays linked there. */
@JvmSynthetic
internal fun Tasklet.detachFromThread() {
    if (blocked == 0) {
        nextLink = null
        prevLink = null
    }
    inRunQueue = false
    aliveFlag = false
    registry = null
    scheduler = null
    if (!isMainFlag) carrier = null
}
