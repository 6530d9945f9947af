package dev.stackless

/** The text that makes a deadlock diagnosable: every blocked tasklet and the channel it waits on. */
internal object Deadlocks {
    /** One line per blocked tasklet of [s], each starting with a line break; empty when none. */
    fun report(s: Scheduler): String {
        val sb = StringBuilder()
        s.forEachTasklet { t ->
            val ch = t.channel
            if (ch != null) {
                val what = if (t.blocked > 0) "sending on" else "receiving on"
                sb.append("\n  ").append(t.name).append(" is blocked ").append(what).append(' ').append(ch)
            }
        }
        return sb.toString()
    }
}
