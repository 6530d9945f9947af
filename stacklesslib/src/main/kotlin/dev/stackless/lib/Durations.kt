package dev.stackless.lib

import kotlin.time.Duration
import kotlin.time.toKotlinDuration

/** [d] in nanoseconds, saturated; null stays null (no time limit). */
internal fun nanosOf(d: Duration?): Long? = d?.let { if (it.isInfinite()) Long.MAX_VALUE else it.inWholeNanoseconds }

internal fun java.time.Duration?.toKotlin(): Duration? = this?.toKotlinDuration()

/** The [System.nanoTime] deadline [nanos] from now, saturated so that far deadlines do not wrap. */
internal fun deadlineIn(nanos: Long): Long {
    val now = System.nanoTime()
    return if (nanos > Long.MAX_VALUE / 2) now + Long.MAX_VALUE / 2 else now + nanos
}
