package dev.stackless.benchmarks

import dev.stackless.lib.MainLoop
import dev.stackless.lib.sleep
import java.util.concurrent.TimeUnit
import java.util.concurrent.locks.LockSupport
import kotlin.time.Duration.Companion.nanoseconds
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import org.openjdk.jmh.annotations.Benchmark
import org.openjdk.jmh.annotations.BenchmarkMode
import org.openjdk.jmh.annotations.Fork
import org.openjdk.jmh.annotations.Level
import org.openjdk.jmh.annotations.Measurement
import org.openjdk.jmh.annotations.Mode
import org.openjdk.jmh.annotations.OperationsPerInvocation
import org.openjdk.jmh.annotations.OutputTimeUnit
import org.openjdk.jmh.annotations.Scope
import org.openjdk.jmh.annotations.Setup
import org.openjdk.jmh.annotations.State
import org.openjdk.jmh.annotations.TearDown
import org.openjdk.jmh.annotations.Warmup
import org.openjdk.jmh.infra.BenchmarkParams
import org.openjdk.jmh.infra.IterationParams

/**
 * How late a timer fires on an idle thread: nothing runnable, one timer due in [DELAY_MS] ms, the
 * thread parked until then. An invocation (SingleShotTime) is [ROUNDS] such waits one after the
 * other; the score is ms per wait (@OperationsPerInvocation), so [DELAY_MS] plus lateness plus the
 * loop's own overhead. The secondary results ([Lateness]) are the median, p99 and max lateness
 * (fire time minus deadline) of the invocation's waits.
 *
 * - [stackless]: `MainLoop.callLater(5 ms, cb)`, then `MainLoop.run()` on the main tasklet until it
 *   returns; `cb` records the time. Lateness counts from just before `callLater`.
 * - [stacklessSleep]: one tasklet in `dev.stackless.lib.stackless { }` sleeping 5 ms in a loop; the
 *   timer puts it back in the run queue, so lateness includes the switch to it.
 * - [kotlinxRunBlocking]: `delay(5)` in a loop in `runBlocking`.
 * - [parkNanos]: `LockSupport.parkNanos` until the deadline on the benchmark thread, the floor
 *   (the idle Stackless thread parks the same way).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgs = [HEAP])
@Warmup(iterations = 1)
@Measurement(iterations = 5)
open class IdleWakeBenchmark {
    // The method's Lateness, kept for publish(): JMH rejects an @AuxCounters state injected twice.
    private var lateness = Lateness()
    private val log = LatenessLog(ROUNDS)

    @Setup(Level.Iteration)
    fun reset() {
        log.reset()
    }

    @TearDown(Level.Iteration)
    fun publish(benchmark: BenchmarkParams, iteration: IterationParams) {
        log.publish(lateness, benchmark, iteration)
    }

    @Benchmark
    @OperationsPerInvocation(ROUNDS)
    fun stackless(lateness: Lateness): Long {
        this.lateness = lateness
        val log = log
        log.started = System.nanoTime()
        for (i in 0 until ROUNDS) {
            val deadline = System.nanoTime() + DELAY_NANOS
            MainLoop.callLater(DELAY) { log.record(i, deadline, System.nanoTime()) }
            MainLoop.run()
        }
        log.ended = System.nanoTime()
        return checked(log.count(), ROUNDS.toLong())
    }

    @Benchmark
    @OperationsPerInvocation(ROUNDS)
    fun stacklessSleep(lateness: Lateness): Long {
        this.lateness = lateness
        val log = log
        log.started = System.nanoTime()
        dev.stackless.lib.stackless {
            for (i in 0 until ROUNDS) {
                val deadline = System.nanoTime() + DELAY_NANOS
                sleep(DELAY)
                log.record(i, deadline, System.nanoTime())
            }
        }
        log.ended = System.nanoTime()
        return checked(log.count(), ROUNDS.toLong())
    }

    @Benchmark
    @OperationsPerInvocation(ROUNDS)
    fun kotlinxRunBlocking(lateness: Lateness): Long {
        this.lateness = lateness
        val log = log
        log.started = System.nanoTime()
        runBlocking {
            for (i in 0 until ROUNDS) {
                val deadline = System.nanoTime() + DELAY_NANOS
                delay(DELAY_MS)
                log.record(i, deadline, System.nanoTime())
            }
        }
        log.ended = System.nanoTime()
        return checked(log.count(), ROUNDS.toLong())
    }

    @Benchmark
    @OperationsPerInvocation(ROUNDS)
    fun parkNanos(lateness: Lateness): Long {
        this.lateness = lateness
        val log = log
        log.started = System.nanoTime()
        for (i in 0 until ROUNDS) {
            val deadline = System.nanoTime() + DELAY_NANOS
            var left = DELAY_NANOS
            while (left > 0) { // parkNanos may return early
                LockSupport.parkNanos(left)
                left = deadline - System.nanoTime()
            }
            log.record(i, deadline, System.nanoTime())
        }
        log.ended = System.nanoTime()
        return checked(log.count(), ROUNDS.toLong())
    }

    private companion object {
        const val ROUNDS = 200
        const val DELAY_MS = 5L
        const val DELAY_NANOS = DELAY_MS * 1_000_000L
        val DELAY = DELAY_NANOS.nanoseconds
    }
}
