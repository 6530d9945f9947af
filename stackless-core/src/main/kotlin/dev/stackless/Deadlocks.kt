package dev.stackless

/** The text that makes a deadlock diagnosable: every blocked tasklet and the channel it waits on. */
internal object Deadlocks {
    /**
     * One line per blocked tasklet, each starting with a line break; empty when none. The tasklets
     * of [s] come first, then those of other threads (all idle when a deadlock is found), each line
     * naming its thread when there are several.
     */
    fun report(s: Scheduler): String {
        val others = StringBuilder()
        for (other in Scheduler.all()) {
            if (other !== s) appendBlocked(others, other, other.thread.name)
        }
        val sb = StringBuilder()
        // Several threads: every line names its thread, since the report goes to each of them.
        appendBlocked(sb, s, if (others.isEmpty()) null else s.thread.name)
        return sb.append(others).toString()
    }

    private fun appendBlocked(sb: StringBuilder, s: Scheduler, threadName: String?) {
        s.forEachTasklet { t ->
            val ch = t.channel
            if (ch != null) {
                val what = if (t.blocked > 0) "sending on" else "receiving on"
                sb.append("\n  ").append(t.name)
                if (threadName != null) sb.append(" (thread '").append(threadName).append("')")
                sb.append(" is blocked ").append(what).append(' ').append(ch)
            }
        }
    }
}
