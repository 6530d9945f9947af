package dev.stackless.lib

import kotlin.time.Duration

/**
 * The results of [fs] in input order, waiting for all of them within one [timeout] for the whole
 * (stacklesslib's `futures.all_results`). The first failure met in input order is rethrown.
 *
 * @throws TaskletTimeoutException "timed out after <timeout>" when they are not all done in time.
 * @throws java.util.concurrent.CancellationException when one met is cancelled.
 */
public suspend fun <T> allResults(fs: Iterable<Future<T>>, timeout: Duration? = null): List<T> {
    val budget = Budget(timeout)
    return fs.map { f ->
        if (!f.awaitDone(budget) { park(f) }) throw budget.timeoutException()
        f.outcome()
    }
}

/** The blocking twin of [allResults]. */
public fun <T> allResultsBlocking(fs: Iterable<Future<T>>, timeout: Duration? = null): List<T> {
    val budget = Budget(timeout)
    return fs.map { f ->
        if (!f.awaitDone(budget) { parkBlocking(f) }) throw budget.timeoutException()
        f.outcome()
    }
}

/** [allResultsBlocking] without a time limit, for Java. */
public fun <T> allResultsBlocking(fs: Iterable<Future<T>>): List<T> = allResultsBlocking(fs, null as Duration?)

/** [allResultsBlocking] with a [java.time.Duration]. */
public fun <T> allResultsBlocking(fs: Iterable<Future<T>>, timeout: java.time.Duration): List<T> =
    allResultsBlocking(fs, timeout.toKotlin())

/**
 * The result of whichever of [fs] is done first (the first in input order among those already
 * done), or its exception rethrown (stacklesslib's `futures.any_result`).
 *
 * @throws TaskletTimeoutException "timed out after <timeout>" when none is done in time.
 * @throws java.util.concurrent.CancellationException when that future was cancelled.
 * @throws NoSuchElementException when [fs] is empty.
 */
public suspend fun <T> anyResult(fs: Iterable<Future<T>>, timeout: Duration? = null): T {
    val w = FutureSetWait(checkAny(fs), ReturnWhen.FIRST_COMPLETED)
    val first = w.run(Budget(timeout)) { park(w) }
    return firstOutcome(first, timeout)
}

/** The blocking twin of [anyResult]. */
public fun <T> anyResultBlocking(fs: Iterable<Future<T>>, timeout: Duration? = null): T {
    val w = FutureSetWait(checkAny(fs), ReturnWhen.FIRST_COMPLETED)
    val first = w.run(Budget(timeout)) { parkBlocking(w) }
    return firstOutcome(first, timeout)
}

/** [anyResultBlocking] without a time limit, for Java. */
public fun <T> anyResultBlocking(fs: Iterable<Future<T>>): T = anyResultBlocking(fs, null as Duration?)

/** [anyResultBlocking] with a [java.time.Duration]. */
public fun <T> anyResultBlocking(fs: Iterable<Future<T>>, timeout: java.time.Duration): T =
    anyResultBlocking(fs, timeout.toKotlin())

private fun <T> checkAny(fs: Iterable<Future<T>>): Iterable<Future<T>> {
    if (!fs.iterator().hasNext()) throw NoSuchElementException("anyResult() of no futures")
    return fs
}

private fun <T> firstOutcome(w: DoneAndNotDone<T>, timeout: Duration?): T {
    val f = w.done.firstOrNull() ?: throw TaskletTimeoutException("timed out after $timeout")
    return f.outcome()
}
