package dev.stackless.samples

import dev.stackless.lib.Semaphore
import dev.stackless.lib.TaskletExecutor
import dev.stackless.lib.asCompleted
import dev.stackless.lib.callOnThread
import dev.stackless.lib.stackless
import kotlin.time.Duration.Companion.seconds

/**
 * A crawler-style fan-out: 40 "pages" are fetched by tasklets, at most 4 at a time (a [Semaphore]
 * is the rate limit), each fetch being blocking code run on a real thread with [callOnThread] (here
 * a simulated slow HTTP call). The results are collected as they complete with [asCompleted], and
 * the links they hold are fetched in a second round. One scheduler thread coordinates everything.
 */
fun main() {
    val inFlight = Semaphore(4)
    var maxInFlight = 0
    var current = 0
    val fetched = mutableListOf<String>()

    suspend fun fetch(url: String): List<String> = inFlight.withLock {
        current++
        maxInFlight = maxOf(maxInFlight, current)
        try {
            callOnThread(timeout = 5.seconds) { slowHttpGet(url) }
        } finally {
            current--
        }
    }

    stackless {
        val executor = TaskletExecutor()
        try {
            val roots = (1..20).map { "https://example.test/page/$it" }
            val firstRound = roots.map { url -> executor.submit { fetch(url) } }
            val links = mutableListOf<String>()
            for (done in asCompleted(firstRound, timeout = 30.seconds)) {
                val found = done.result()
                fetched += found.first()
                links += found.drop(1)
            }
            val secondRound = links.map { url -> executor.submit { fetch(url) } }
            for (done in asCompleted(secondRound, timeout = 30.seconds)) fetched += done.result().first()
        } finally {
            executor.shutdown()
        }
    }

    println("fetched ${fetched.size} pages, at most $maxInFlight at a time; first: ${fetched.first()}")
    check(fetched.size == 40 && fetched.toSet().size == 40) { "lost or duplicated pages: ${fetched.size}" }
    check(maxInFlight == 4) { "the rate limit was not used as expected: $maxInFlight" }
}

/** A blocking "HTTP GET": sleeps the thread like a slow server, returns the page and the links it holds. */
private fun slowHttpGet(url: String): List<String> {
    Thread.sleep(5L + url.hashCode().mod(10))
    val links = if ("/page/" in url) listOf(url.replace("/page/", "/child/")) else emptyList()
    return listOf("<$url>") + links
}
