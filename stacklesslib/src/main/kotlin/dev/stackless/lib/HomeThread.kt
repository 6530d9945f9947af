package dev.stackless.lib

import dev.stackless.InternalStacklessApi
import dev.stackless.SchedulerHooks

/**
 * The thread whose tasklets use a lock, semaphore, condition, event or barrier: taken at its first
 * use and checked at every later one. These structures take no lock, so a use from another thread
 * would corrupt them (lost permits, waiters never woken); it fails instead, before anything changes.
 */
@OptIn(InternalStacklessApi::class)
internal class HomeThread {
    private var home: Thread? = null

    /**
     * @throws IllegalStateException "<what> belongs to the tasklets of thread 'a' and cannot be used
     *   from thread 'b'" when called from a thread other than the first user's.
     */
    fun check(what: Any) {
        val h = home
        if (h == null) {
            home = SchedulerHooks.home()
        } else if (!SchedulerHooks.isHome(h)) {
            throw IllegalStateException(
                "$what belongs to the tasklets of thread '${h.name}' " +
                    "and cannot be used from thread '${Thread.currentThread().name}'",
            )
        }
    }
}
