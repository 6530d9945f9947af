package dev.stackless.benchmarks

import org.openjdk.jmh.annotations.AuxCounters
import org.openjdk.jmh.annotations.Scope
import org.openjdk.jmh.annotations.State
import org.openjdk.jmh.infra.BenchmarkParams
import org.openjdk.jmh.infra.IterationParams
import org.openjdk.jmh.runner.IterationType

/**
 * How late the sleepers woke, as JMH secondary results: median, p99 and max over the samples of
 * all measurement iterations pooled (e.g. 10 iterations of 100,000 sleepers: the median of
 * 1,000,000 samples). Lateness is the wake time minus the deadline ([System.nanoTime]); the figures
 * are in milliseconds although JMH labels them `#`. JMH prints them under the primary score, e.g.
 * `SleepersBenchmark.stackless:latenessMedianMs`.
 *
 * JMH adds `EVENTS` counters up over the measurement iterations (and forks), so every measurement
 * iteration but the last stores 0 and the last one stores the pooled figures (divided by the number
 * of forks: with several forks the row is the mean of the forks' figures). The per-iteration
 * figures are in the line [LatenessLog.publish] prints after every iteration (warm-up ones too).
 *
 * Filled by [LatenessLog.publish] in the benchmark's `@TearDown(Level.Iteration)`, which JMH runs
 * before it reads the counters, so sorting the samples is never timed.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.EVENTS)
open class Lateness {
    /** Median lateness, ms. */
    @JvmField var latenessMedianMs: Double = 0.0

    /** 99th percentile lateness, ms. */
    @JvmField var latenessP99Ms: Double = 0.0

    /** Largest lateness, ms. */
    @JvmField var latenessMaxMs: Double = 0.0
}

/**
 * The lateness samples of a benchmark's invocations, one invocation per iteration (SingleShotTime):
 * [record] writes sample `i` of the current invocation (any thread, each index once; the benchmark
 * publishes them after joining its threads), [publish] summarizes it and pools the measured ones.
 */
internal class LatenessLog(private val size: Int) {
    private val nanos = LongArray(size)
    private var pooled = LongArray(0)
    private var measured = 0

    /** Start of the last invocation and its end, [System.nanoTime]; set by the benchmark method. */
    @JvmField var started: Long = 0

    @JvmField var ended: Long = 0

    /** Forgets the previous invocation: every sample unset. */
    fun reset() {
        nanos.fill(UNSET)
        started = 0
        ended = 0
    }

    /** Sample [i]: woke at [wokeNanos] for a deadline at [deadlineNanos]. */
    fun record(i: Int, deadlineNanos: Long, wokeNanos: Long) {
        nanos[i] = wokeNanos - deadlineNanos
    }

    /** Number of samples recorded since [reset]. */
    fun count(): Long = nanos.count { it != UNSET }.toLong()

    /**
     * Prints the invocation's median, p99, max and wall time in one line; adds a measured
     * invocation's samples to the pool, and after the last measurement iteration prints the pooled
     * figures and stores them in [into] (see [Lateness]).
     *
     * @throws IllegalStateException if a sample was never recorded (a sleeper did not wake).
     */
    fun publish(into: Lateness, benchmark: BenchmarkParams, iteration: IterationParams) {
        val label = benchmark.benchmark.substringAfter("benchmarks.")
        val missing = nanos.count { it == UNSET }
        check(missing == 0) { "$label: $missing of $size waits never ended" }
        nanos.sort()
        println("%s: %s; wall %.1f ms".format(label, figures(nanos, size), ms(ended - started)))
        into.latenessMedianMs = 0.0
        into.latenessP99Ms = 0.0
        into.latenessMaxMs = 0.0
        if (iteration.type != IterationType.MEASUREMENT) return
        if (pooled.size != size * iteration.count) pooled = LongArray(size * iteration.count)
        nanos.copyInto(pooled, measured * size)
        measured++
        if (measured < iteration.count) return
        pooled.sort()
        println("%s: all %d measurement iterations: %s".format(label, measured, figures(pooled, pooled.size)))
        val forks = maxOf(1, benchmark.forks).toDouble()
        into.latenessMedianMs = ms(median(pooled)) / forks
        into.latenessP99Ms = ms(p99(pooled)) / forks
        into.latenessMaxMs = ms(pooled[pooled.size - 1]) / forks
    }

    private fun figures(sorted: LongArray, n: Int): String =
        "lateness median %.3f ms, p99 %.3f ms, max %.3f ms, min %.3f ms (%,d samples)".format(
            ms(median(sorted)), ms(p99(sorted)), ms(sorted[n - 1]), ms(sorted[0]), n,
        )

    private fun median(sorted: LongArray): Long = sorted[(sorted.size - 1) / 2]

    private fun p99(sorted: LongArray): Long = sorted[((sorted.size - 1) * 99L / 100).toInt()]

    private fun ms(nanos: Long): Double = nanos / 1e6

    private companion object {
        const val UNSET = Long.MIN_VALUE
    }
}
