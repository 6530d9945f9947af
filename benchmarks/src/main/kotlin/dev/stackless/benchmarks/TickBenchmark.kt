package dev.stackless.benchmarks

import dev.stackless.Stackless
import dev.stackless.Tasklet
import java.util.concurrent.TimeUnit
import org.openjdk.jmh.annotations.Benchmark
import org.openjdk.jmh.annotations.BenchmarkMode
import org.openjdk.jmh.annotations.Fork
import org.openjdk.jmh.annotations.Measurement
import org.openjdk.jmh.annotations.Mode
import org.openjdk.jmh.annotations.OperationsPerInvocation
import org.openjdk.jmh.annotations.OutputTimeUnit
import org.openjdk.jmh.annotations.Scope
import org.openjdk.jmh.annotations.State
import org.openjdk.jmh.annotations.Warmup

/**
 * ns per watchdog tick when no budget is set: what `Stackless.tick()`, the preemption point of a
 * busy loop, costs a tasklet that is not under a timed `run()`.
 *
 * - [stackless]: one tasklet calls `Stackless.tick()` [N] times (suspend form: the call finds its
 *   tasklet in the continuation's context, then checks the scheduler's timer field).
 * - [stacklessBlocking]: the main tasklet calls `Stackless.tickBlocking()` [N] times (a thread-local
 *   lookup, then the same check).
 * - [baseline]: the same loop as [stackless] without the tick, so that the difference is the tick.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgs = [HEAP])
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
open class TickBenchmark {
    @JvmField var count: Long = 0

    @Benchmark
    @OperationsPerInvocation(N)
    fun stackless(): Long {
        count = 0
        Tasklet {
            repeat(N) {
                count++
                Stackless.tick()
            }
        }.setup()
        Stackless.run()
        return checked(count, N.toLong())
    }

    @Benchmark
    @OperationsPerInvocation(N)
    fun stacklessBlocking(): Long {
        count = 0
        repeat(N) {
            count++
            Stackless.tickBlocking()
        }
        return checked(count, N.toLong())
    }

    @Benchmark
    @OperationsPerInvocation(N)
    fun baseline(): Long {
        count = 0
        Tasklet {
            repeat(N) {
                count++
                notInlined()
            }
        }.setup()
        Stackless.run()
        return checked(count, N.toLong())
    }

    /** A suspend call that never suspends, standing for the call to `tick()` itself. */
    private suspend fun notInlined() {
        if (count < 0) Stackless.schedule()
    }

    private companion object {
        const val N = 100_000
    }
}
