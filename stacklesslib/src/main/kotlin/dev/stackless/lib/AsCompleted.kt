package dev.stackless.lib

import dev.stackless.Channel
import kotlin.time.Duration

/**
 * The futures [fs] as they complete (stacklesslib's `as_completed`/`iwait`): a channel that
 * delivers each future once it is done, the ones already done first in input order, then the
 * others in the order they complete, and is closed after the last one. Iterate it with
 * `for (f in asCompleted(fs))` in a tasklet, or `blockingIterable()` from Java and the main tasklet.
 *
 * [timeout] is a budget for the whole iteration, starting now: once it is spent, the iteration
 * delivers the futures that are done and then throws [TaskletTimeoutException] ("timed out after
 * <timeout>") instead of waiting for the others. Zero thus delivers the futures already done, then
 * throws if any is left; null, negative or infinite means no limit. Duplicates count once.
 *
 * Like a Python generator, the channel is fed on demand: a tasklet named `asCompleted` runs only
 * while a reader waits on it, so a reader that stops early leaves nothing blocked behind (the
 * futures keep a listener until they are done).
 */
public fun <T> asCompleted(fs: Iterable<Future<T>>, timeout: Duration? = null): Channel<Future<T>> =
    CompletionFeed(fs, Budget(timeout)).start()

/** [asCompleted] without a time limit, for Java. */
public fun <T> asCompleted(fs: Iterable<Future<T>>): Channel<Future<T>> = asCompleted(fs, null as Duration?)

/** [asCompleted] with a [java.time.Duration]. */
public fun <T> asCompleted(fs: Iterable<Future<T>>, timeout: java.time.Duration): Channel<Future<T>> =
    asCompleted(fs, timeout.toKotlin())
