package dev.stackless.lib

import dev.stackless.Stackless
import dev.stackless.Tasklet
import kotlin.time.Duration

/** When [wait] returns. */
public enum class ReturnWhen {
    /** As soon as any future is done. */
    FIRST_COMPLETED,

    /** As soon as any future finished with an exception (a cancelled one does not count), or all are done. */
    FIRST_EXCEPTION,

    /** When every future is done. */
    ALL_COMPLETED,
}

/** What [wait] returns: the futures that are [done], in the order they were seen done, and the others, in input order. */
public data class DoneAndNotDone<T>(val done: Set<Future<T>>, val notDone: Set<Future<T>>)

/**
 * Waits until the futures [fs] are done as [returnWhen] asks, or until [timeout] has passed, and
 * returns which are done and which are not (stacklesslib's `futures.wait`). Futures already done
 * count first, all of them, even when the first one suffices. Running out of time is not an error:
 * the answer is then partial. A null, negative or infinite [timeout] waits as long as it takes;
 * zero does not wait at all. Duplicates in [fs] count once.
 */
public suspend fun <T> wait(
    fs: Iterable<Future<T>>,
    timeout: Duration? = null,
    returnWhen: ReturnWhen = ReturnWhen.ALL_COMPLETED,
): DoneAndNotDone<T> {
    val w = FutureSetWait(fs, returnWhen)
    return w.run(Budget(timeout)) { park(w) }
}

/** The blocking twin of [wait]. */
public fun <T> waitBlocking(
    fs: Iterable<Future<T>>,
    timeout: Duration? = null,
    returnWhen: ReturnWhen = ReturnWhen.ALL_COMPLETED,
): DoneAndNotDone<T> {
    val w = FutureSetWait(fs, returnWhen)
    return w.run(Budget(timeout)) { parkBlocking(w) }
}

/** [waitBlocking] until all of [fs] are done, for Java. */
public fun <T> waitBlocking(fs: Iterable<Future<T>>): DoneAndNotDone<T> =
    waitBlocking(fs, null as Duration?, ReturnWhen.ALL_COMPLETED)

/** [waitBlocking] without a time limit, for Java. */
public fun <T> waitBlocking(fs: Iterable<Future<T>>, returnWhen: ReturnWhen): DoneAndNotDone<T> =
    waitBlocking(fs, null as Duration?, returnWhen)

/** [waitBlocking] with a [java.time.Duration]. */
@JvmOverloads
public fun <T> waitBlocking(
    fs: Iterable<Future<T>>,
    timeout: java.time.Duration,
    returnWhen: ReturnWhen = ReturnWhen.ALL_COMPLETED,
): DoneAndNotDone<T> = waitBlocking(fs, timeout.toKotlin(), returnWhen)

/** One [wait]: the futures, those seen done in order, and the tasklet to wake when another one is. */
internal class FutureSetWait<T>(fs: Iterable<Future<T>>, private val returnWhen: ReturnWhen) : DoneListener {
    private val all = LinkedHashSet<Future<T>>().apply { addAll(fs) }
    private val done = LinkedHashSet<Future<T>>()

    /** Completions reported by the listeners, possibly from other threads, not yet moved to [done]. */
    private val reported = ArrayList<Future<*>>()

    @Volatile private var waiter: Tasklet? = null

    override fun onDone(f: Future<*>) {
        synchronized(reported) { reported.add(f) }
        waiter?.let { ForeignWake.wake(it) }
    }

    inline fun run(budget: Budget, park: () -> Unit): DoneAndNotDone<T> {
        for (f in all) if (f.done) done.add(f)
        if (satisfied() || budget.expired()) return answer()
        val me = Stackless.current
        waiter = me
        val listening = ArrayList<Future<T>>()
        for (f in all) {
            if (f in done) continue
            // Done meanwhile: no report will come for it.
            if (f.listen(this)) listening.add(f) else done.add(f)
        }
        try {
            budget.await(listening.any { it.foreignTo(me.threadId) }, { collect(); satisfied() }, park)
        } finally {
            for (f in listening) f.unlisten(this)
            waiter = null
        }
        return answer()
    }

    private fun satisfied(): Boolean = done.size == all.size || when (returnWhen) {
        ReturnWhen.FIRST_COMPLETED -> done.isNotEmpty()
        ReturnWhen.FIRST_EXCEPTION -> done.any { it.failed }
        ReturnWhen.ALL_COMPLETED -> false
    }

    /** For a deadlock report: what the wait is for. */
    override fun toString(): String {
        val pending = all.filter { !it.done }
        return "${pending.size} futures (${pending.take(3).joinToString()}${if (pending.size > 3) ", …" else ""})"
    }

    /** Moves the reported completions to [done], in the order they came. */
    @Suppress("UNCHECKED_CAST")
    private fun collect() {
        synchronized(reported) {
            for (f in reported) done.add(f as Future<T>)
            reported.clear()
        }
    }

    /** The answer: also the futures done since the wait ended, whose reports may not have come. */
    private fun answer(): DoneAndNotDone<T> {
        collect()
        for (f in all) if (f.done) done.add(f)
        val notDone = LinkedHashSet<Future<T>>()
        for (f in all) if (f !in done) notDone.add(f)
        return DoneAndNotDone(done, notDone)
    }
}
