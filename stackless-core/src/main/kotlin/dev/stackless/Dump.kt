package dev.stackless

import kotlin.coroutines.jvm.internal.CoroutineStackFrame

/** Builds [Stackless.dump]. */
internal object Dump {
    fun of(s: Scheduler): String = buildString {
        append("Scheduler of thread '").append(s.thread.name).append("' (id ").append(s.thread.id)
            .append("): runCount=").append(s.runCount).append(", switchTrap=").append(s.switchTrap)
            .append(", watchdogs=").append(s.watchdogs.map { it.name }).append('\n')
        s.forEachTasklet { t ->
            append("  ").append(t).append('\n')
            stackOf(t).forEach { append("      at ").append(it).append('\n') }
        }
    }

    private fun stackOf(t: Tasklet): List<StackTraceElement> {
        val carrier = t.carrier
        return when {
            t.isCurrent -> Thread.currentThread().stackTrace.dropWhile { it.className != Stackless::class.java.name }.drop(1)
            carrier != null -> carrier.stackTrace.toList()
            else -> {
                val frames = ArrayList<StackTraceElement>()
                var f = t.frame as? CoroutineStackFrame
                while (f != null) {
                    f.getStackTraceElement()?.let(frames::add)
                    f = f.callerFrame
                }
                frames
            }
        }
    }
}
