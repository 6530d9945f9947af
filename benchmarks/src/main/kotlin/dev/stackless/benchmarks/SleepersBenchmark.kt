package dev.stackless.benchmarks

import dev.stackless.Tasklet
import dev.stackless.lib.sleep
import java.util.concurrent.TimeUnit
import kotlin.random.Random
import kotlin.time.Duration.Companion.milliseconds
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import org.openjdk.jmh.annotations.Benchmark
import org.openjdk.jmh.annotations.BenchmarkMode
import org.openjdk.jmh.annotations.Fork
import org.openjdk.jmh.annotations.Level
import org.openjdk.jmh.annotations.Measurement
import org.openjdk.jmh.annotations.Mode
import org.openjdk.jmh.annotations.OutputTimeUnit
import org.openjdk.jmh.annotations.Scope
import org.openjdk.jmh.annotations.Setup
import org.openjdk.jmh.annotations.State
import org.openjdk.jmh.annotations.TearDown
import org.openjdk.jmh.annotations.Warmup
import org.openjdk.jmh.infra.BenchmarkParams
import org.openjdk.jmh.infra.IterationParams

/**
 * [SLEEPERS] tasks on one thread, each sleeping a random 0..[MAX_DELAY_MS] ms (whole milliseconds,
 * the same seeded delays for every system), all at once. One invocation per iteration
 * (SingleShotTime): the score is its wall time in ms, from the first task created to the last one
 * woken and finished. The secondary results ([Lateness]) are the median, p99 and max lateness of
 * the sleepers, lateness being the time a sleeper resumed minus its deadline (its own
 * `System.nanoTime()` just before it started to sleep, plus its delay). A summary line per iteration
 * is printed as well.
 *
 * - [stackless]: `dev.stackless.lib.stackless { }` whose block creates the sleepers, each a tasklet
 *   calling `dev.stackless.lib.sleep`; one thread, the loop parks between deadlines.
 * - [kotlinxRunBlocking]: `runBlocking { }` whose block launches the sleepers, each calling `delay`.
 * - [virtualThreads]: virtual threads calling `Thread.sleep`, started from the benchmark thread, then
 *   joined (JDK 21+; on JDK 17 the method throws `UnsupportedOperationException`, exclude it with
 *   `-e virtualThreads`). They use every core, the others one thread.
 *
 * In the first two the tasks start only once their creator is done (queued behind it), so every
 * sleeper's deadline counts from its own start, not from the invocation's. A sleeper whose deadline
 * passes while the others are still starting waits behind them (the woken go to the back of the
 * queue): that start-up phase is what the p99 and max show (a 0 ms sleeper is late by all of it);
 * the median is the timers' precision under load.
 *
 * An invocation allocates some 30 to 60 MB (tasks, timers, closures). A young collection landing in
 * it stops every sleeper for 10 to 25 ms and would decide the median by where it falls, so all the
 * systems get a fixed 2 GB heap with a 1 GB young generation ([HEAP_FIXED], [YOUNG_1G]) and a
 * `System.gc()` before every iteration (untimed): an invocation runs without a collection.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgs = [HEAP, HEAP_FIXED, YOUNG_1G])
@Warmup(iterations = 5)
@Measurement(iterations = 10)
open class SleepersBenchmark {
    private val delayMillis = Random(SEED).let { r -> LongArray(SLEEPERS) { r.nextLong(MAX_DELAY_MS + 1) } }
    // The method's Lateness, kept for publish(): JMH rejects an @AuxCounters state injected twice.
    private var lateness = Lateness()
    private val log = LatenessLog(SLEEPERS)
    private val threads = arrayOfNulls<Thread>(SLEEPERS)

    @Setup(Level.Iteration)
    fun reset() {
        log.reset()
        // Start every invocation with an empty young generation (1 GB, see the class comment).
        System.gc()
    }

    @TearDown(Level.Iteration)
    fun publish(benchmark: BenchmarkParams, iteration: IterationParams) {
        log.publish(lateness, benchmark, iteration)
    }

    @Benchmark
    fun stackless(lateness: Lateness): Long {
        val delays = delayMillis
        this.lateness = lateness
        val log = log
        log.started = System.nanoTime()
        dev.stackless.lib.stackless {
            for (i in 0 until SLEEPERS) {
                Tasklet {
                    val d = delays[i]
                    val deadline = System.nanoTime() + d * NANOS_PER_MS
                    sleep(d.milliseconds)
                    log.record(i, deadline, System.nanoTime())
                }.setup()
            }
        }
        log.ended = System.nanoTime()
        return checked(log.count(), SLEEPERS.toLong())
    }

    @Benchmark
    fun kotlinxRunBlocking(lateness: Lateness): Long {
        val delays = delayMillis
        this.lateness = lateness
        val log = log
        log.started = System.nanoTime()
        runBlocking {
            for (i in 0 until SLEEPERS) {
                launch {
                    val d = delays[i]
                    val deadline = System.nanoTime() + d * NANOS_PER_MS
                    delay(d)
                    log.record(i, deadline, System.nanoTime())
                }
            }
        }
        log.ended = System.nanoTime()
        return checked(log.count(), SLEEPERS.toLong())
    }

    @Benchmark
    fun virtualThreads(lateness: Lateness): Long {
        val factory = VirtualThreads.factory()
        this.lateness = lateness
        val delays = delayMillis
        val log = log
        val threads = threads
        log.started = System.nanoTime()
        for (i in 0 until SLEEPERS) {
            threads[i] = factory.newThread {
                val d = delays[i]
                val deadline = System.nanoTime() + d * NANOS_PER_MS
                Thread.sleep(d)
                log.record(i, deadline, System.nanoTime())
            }.also { it.start() }
        }
        for (i in 0 until SLEEPERS) {
            threads[i]!!.join()
            threads[i] = null
        }
        log.ended = System.nanoTime()
        return checked(log.count(), SLEEPERS.toLong())
    }

    private companion object {
        const val SLEEPERS = 100_000
        const val MAX_DELAY_MS = 100L
        const val SEED = 20_240_601L
        const val NANOS_PER_MS = 1_000_000L
    }
}
