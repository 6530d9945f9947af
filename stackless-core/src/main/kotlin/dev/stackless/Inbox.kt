package dev.stackless

import java.util.concurrent.atomic.AtomicReferenceFieldUpdater

/**
 * One request from another thread to a scheduler ([Inbox]): wake a tasklet with the result of a
 * rendezvous, apply a remote operation to one of its tasklets, or hand a channel over to shared mode.
 */
internal class Mail(
    @JvmField var kind: Int,
    @JvmField var tasklet: Tasklet?,
    @JvmField var value: Any?,
) {
    @Volatile @JvmField var next: Mail? = null

    /** The thread waiting for a [SHARE] to be done. */
    @JvmField var waiter: Thread? = null

    companion object {
        /** A partner of a cross-thread rendezvous: [value] is what its operation returns. */
        const val WAKE = 0
        const val INSERT = 1
        const val RUN = 2
        const val REMOVE = 3
        const val SETUP = 4

        /** A pending throw; [value] is the exception. */
        const val THROW = 5

        /** [value] is a channel this scheduler owns that another thread wants to use: make it shared. */
        const val SHARE = 6

        /** [tasklet] was rebound away from this scheduler: drop it from the registry, then [value] adopts it. */
        const val RELEASE = 7

        /** [tasklet] was rebound to this scheduler: add it to the registry. */
        const val ADOPT = 8

        /** [value] is a timer of this scheduler that another thread cancelled. */
        const val CANCEL_TIMER = 9

        /** A kotlinx.coroutines resumption of [tasklet]; [value] is the block to run as the tasklet. */
        const val RESUME = 10

        /** [SchedulerHooks.wakeForeign]: insert [tasklet] if it still is in the wait whose [Tasklet.foreignEpoch] is [value]. */
        const val WAKE_FOREIGN = 11
    }
}

/**
 * The thread-safe inbox of a scheduler: many threads post, only the thread running the scheduler
 * takes. An intrusive multi-producer single-consumer queue (Vyukov's): a post is one atomic swap,
 * and the consumer's emptiness check, which the loop makes at every switch, one volatile read.
 */
internal class Inbox {
    /** The last mail taken (or the initial stub); its [Mail.next] is the first mail waiting. Consumer only. */
    private var head: Mail = Mail(-1, null, null)

    @Volatile @JvmField @JvmSynthetic internal var tail: Mail = head

    /** Appends [m]; safe from any thread. */
    fun post(m: Mail) {
        val prev = TAIL.getAndSet(this, m) as Mail
        prev.next = m
    }

    /** True when a mail is waiting or being posted (a post swaps the tail first). Consumer only. */
    fun hasMail(): Boolean = tail !== head

    /** The next mail, or null when none is waiting; waits out a post caught between its two steps. Consumer only. */
    fun take(): Mail? {
        val h = head
        var n = h.next
        if (n == null) {
            if (tail === h) return null
            while (true) {
                n = h.next
                if (n != null) break
                Thread.onSpinWait()
            }
        }
        head = n!!
        return n
    }

    private companion object {
        val TAIL: AtomicReferenceFieldUpdater<Inbox, Mail> =
            AtomicReferenceFieldUpdater.newUpdater(Inbox::class.java, Mail::class.java, "tail")
    }
}
