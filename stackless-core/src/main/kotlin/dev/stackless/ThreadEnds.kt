package dev.stackless

import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.locks.LockSupport

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
