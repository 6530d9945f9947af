package dev.stackless

import java.util.IdentityHashMap

/**
 * The text that makes a deadlock diagnosable: the blocked tasklets and what each waits on.
 *
 * The report has a bounded size whatever the number of blocked tasklets: the first [LISTED] are
 * named one per line, the rest are counted per channel (the [COUNTED] channels with the most
 * waiters named, the others summed). Building it never throws: it runs while a tasklet is half
 * way through blocking, and an error escaping from here would leave the run queue without a
 * current tasklet.
 */
internal object Deadlocks {
    /** Blocked tasklets named one per line. */
    const val LISTED = 20

    /** Channels named in the summary of the tasklets beyond [LISTED]. */
    const val COUNTED = 5

    /** Distinct channels tracked for that summary; waiters of further channels are only counted. */
    private const val TRACKED = 1024

    /**
     * The report's lines, each starting with a line break; empty when no tasklet is blocked. The
     * tasklets of [s] come first, then those of other threads (all idle when a deadlock is found),
     * each line naming its thread when there are several.
     */
    fun report(s: Scheduler): String = try {
        build(s)
    } catch (e: Throwable) {
        // Out of memory, or a toString() that threw: say so rather than lose the scheduler.
        "\n  (the list of blocked tasklets could not be made: $e)"
    }

    private fun build(s: Scheduler): String {
        val others = Scheduler.all().filter { it !== s }
        val summary = Summary()
        // Several threads: every line names its thread, since the report goes to each of them.
        val named = others.isNotEmpty()
        summary.addAll(s, named)
        for (o in others) summary.addAll(o, true)
        return summary.toString()
    }

    /** What tasklet [t], blocked on [ch], waits for: the channel, or what the channel stands in for. */
    @OptIn(InternalStacklessApi::class)
    fun waitDescription(t: Tasklet, ch: Channel<*>): String {
        val what = ch.waitingFor
        if (what != null) return "waiting for $what"
        return (if (t.blocked > 0) "blocked sending on " else "blocked receiving on ") + ch
    }

    private class Summary {
        private val sb = StringBuilder()
        private var listed = 0
        private var more = 0
        private val perChannel = IdentityHashMap<Channel<*>, IntArray>()
        private var untracked = 0

        fun addAll(s: Scheduler, named: Boolean) {
            s.forEachTasklet { t ->
                val ch = t.channel
                if (ch != null) add(t, ch, if (named) s.thread.name else null)
            }
        }

        private fun add(t: Tasklet, ch: Channel<*>, threadName: String?) {
            if (listed < LISTED) {
                listed++
                sb.append("\n  ").append(t.name)
                if (threadName != null) sb.append(" (thread '").append(threadName).append("')")
                sb.append(" is ").append(waitDescription(t, ch))
                return
            }
            more++
            val count = perChannel[ch]
            when {
                count != null -> count[0]++
                perChannel.size < TRACKED -> perChannel[ch] = intArrayOf(1)
                else -> untracked++
            }
        }

        override fun toString(): String {
            if (more == 0) return sb.toString()
            sb.append("\n  and ").append(String.format("%,d", more)).append(" more blocked tasklets: ")
            val top = perChannel.entries.sortedByDescending { it.value[0] }
            val shown = top.take(COUNTED)
            shown.forEachIndexed { i, (ch, n) ->
                if (i > 0) sb.append(", ")
                sb.append(String.format("%,d", n[0])).append(" on ")
                val what = @OptIn(InternalStacklessApi::class) ch.waitingFor
                sb.append(what ?: ch)
            }
            val rest = top.drop(COUNTED).sumOf { it.value[0] } + untracked
            if (rest > 0) {
                val channels = top.size - shown.size
                sb.append(", ").append(String.format("%,d", rest)).append(" on ")
                if (untracked > 0) sb.append("more than ")
                sb.append(String.format("%,d", channels)).append(" other channels")
            }
            return sb.toString()
        }
    }
}
