package dev.stackless.benchmarks

import dev.stackless.Stackless
import dev.stackless.Tasklet
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
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
 * ns per switch: two tasks alternate, each giving the thread to the other [N] times, so one
 * invocation is 2·[N] switches (@OperationsPerInvocation). The per-invocation setup (two tasks,
 * `Stackless.run()` / `runBlocking` / start and join) is amortised over the switches.
 *
 * - [stackless]: two tasklets calling `Stackless.schedule()`, driven by `Stackless.run()`.
 * - [kotlinxRunBlocking]: two coroutines calling `yield()` in `runBlocking` (its single-thread event loop).
 * - [kotlinxDefault]: the same in `runBlocking(Dispatchers.Default)` (a pool of one thread per core:
 *   the two coroutines may yield side by side on two workers rather than to each other).
 * - [virtualThreads]: two virtual threads calling `Thread.yield()` [N_VT] times each (JDK 21+; on
 *   the default scheduler both may run at once, one per carrier).
 * - [virtualThreadsOneCarrier]: the same with one carrier thread, so each yield hands the carrier over.
 *
 * JMH subclasses @State classes, so Kotlin benchmark classes must be `open`.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgs = [HEAP])
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
open class SwitchBenchmark {
    // Counters live in the state object, so the task bodies capture nothing but `this`.
    @JvmField var a: Long = 0
    @JvmField var b: Long = 0

    @Benchmark
    @OperationsPerInvocation(2 * N)
    fun stackless(): Long {
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
        return checked(a + b, 2L * N)
    }

    @Benchmark
    @OperationsPerInvocation(2 * N)
    fun kotlinxRunBlocking(): Long {
        a = 0
        b = 0
        runBlocking { kotlinxPair() }
        return checked(a + b, 2L * N)
    }

    @Benchmark
    @OperationsPerInvocation(2 * N)
    fun kotlinxDefault(): Long {
        a = 0
        b = 0
        runBlocking(Dispatchers.Default) { kotlinxPair() }
        return checked(a + b, 2L * N)
    }

    private fun CoroutineScope.kotlinxPair() {
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

    @Benchmark
    @OperationsPerInvocation(2 * N_VT)
    fun virtualThreads(): Long = virtualThreadPair()

    @Benchmark
    @OperationsPerInvocation(2 * N_VT)
    @Fork(value = 1, jvmArgs = [HEAP], jvmArgsAppend = [ONE_CARRIER, ONE_CARRIER_MAX])
    fun virtualThreadsOneCarrier(): Long = virtualThreadPair()

    private fun virtualThreadPair(): Long {
        val factory = VirtualThreads.factory()
        a = 0
        b = 0
        val ta = factory.newThread {
            repeat(N_VT) {
                a++
                Thread.yield()
            }
        }
        val tb = factory.newThread {
            repeat(N_VT) {
                b++
                Thread.yield()
            }
        }
        ta.start()
        tb.start()
        ta.join()
        tb.join()
        return checked(a + b, 2L * N_VT)
    }

    companion object {
        /** Switches per task per invocation; an invocation is 2·N switches. */
        const val N = 100_000

        /** The same for virtual threads, whose yield costs about a microsecond. */
        const val N_VT = 20_000
    }
}
