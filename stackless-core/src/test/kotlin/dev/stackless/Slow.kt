package dev.stackless

import io.kotest.core.Tag

/** The tag of the long runs, skipped unless the JVM runs with `-Dstackless.slow=true` (the README says how). */
internal object Slow : Tag() {
    override val name: String = "slow"
}

/** True when the long runs are enabled. */
internal fun slowEnabled(): Boolean = System.getProperty("stackless.slow") == "true"
