package dev.stackless.benchmarks

import dev.stackless.Stackless
import dev.stackless.Tasklet
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.yield
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
 * ns per switch on one thread: two tasks alternate, each giving the thread to the other [N] times,
 * so one invocation is 2·[N] switches (@OperationsPerInvocation). The per-invocation setup (two
 * tasklets or coroutines, `Stackless.run()` / `runBlocking`) is amortised over 2·[N] switches.
 *
 * - [stacklessSchedule]: two tasklets calling `Stackless.schedule()`, driven by `Stackless.run()`.
 * - [kotlinxYield]: two coroutines calling `yield()` in `runBlocking` (its single-thread event loop).
 *
 * JMH subclasses @State classes, so Kotlin benchmark classes must be `open`.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgs = ["-Xmx1g"])
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
open class SwitchBenchmark {
    // Counters live in the state object, so the task bodies capture nothing but `this`.
    @JvmField var a: Long = 0
    @JvmField var b: Long = 0

    @Benchmark
    @OperationsPerInvocation(2 * N)
    fun stacklessSchedule(): Long {
        a = 0
        b = 0
        Tasklet {
            repeat(N) {
                a++
                Stackless.schedule()
            }
        }.setup()
        Tasklet {
            repeat(N) {
                b++
                Stackless.schedule()
            }
        }.setup()
        Stackless.run()
        return a + b
    }

    @Benchmark
    @OperationsPerInvocation(2 * N)
    fun kotlinxYield(): Long {
        a = 0
        b = 0
        runBlocking {
            launch {
                repeat(N) {
                    a++
                    yield()
                }
            }
            launch {
                repeat(N) {
                    b++
                    yield()
                }
            }
        }
        return a + b
    }

    companion object {
        /** Switches per task per invocation; an invocation is 2·N switches. */
        const val N = 100_000
    }
}
