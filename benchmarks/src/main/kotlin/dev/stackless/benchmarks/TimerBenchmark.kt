package dev.stackless.benchmarks

import dev.stackless.Stackless
import dev.stackless.Tasklet
import dev.stackless.lib.Handle
import dev.stackless.lib.MainLoop
import dev.stackless.lib.timeout
import java.util.concurrent.TimeUnit
import kotlin.random.Random
import kotlin.time.Duration
import kotlin.time.Duration.Companion.nanoseconds
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeoutOrNull
import org.openjdk.jmh.annotations.Benchmark
import org.openjdk.jmh.annotations.BenchmarkMode
import org.openjdk.jmh.annotations.Fork
import org.openjdk.jmh.annotations.Level
import org.openjdk.jmh.annotations.Measurement
import org.openjdk.jmh.annotations.Mode
import org.openjdk.jmh.annotations.OperationsPerInvocation
import org.openjdk.jmh.annotations.OutputTimeUnit
import org.openjdk.jmh.annotations.Param
import org.openjdk.jmh.annotations.Scope
import org.openjdk.jmh.annotations.Setup
import org.openjdk.jmh.annotations.State
import org.openjdk.jmh.annotations.TearDown
import org.openjdk.jmh.annotations.Warmup

/**
 * ns per timer operation on the benchmark thread's loop, with [PendingTimers.pending] other timers
 * waiting in its heap (due 1 to 2 hours ahead, so none fires), the new ones' deadlines spread over
 * the same range (a random place in the heap).
 *
 * - [callLaterCancel]: `MainLoop.callLater(d, cb)` then `Handle.cancel()`: add and remove, O(log n) each.
 * - [callSoonPump]: `MainLoop.callSoon(cb)` then `MainLoop.pump()`, which runs it: a timer firing
 *   without any sleep (the new timer goes to the top of the heap, pump takes it off).
 * - [stacklessTimeout]: `timeout(d) { }` around a block that does not suspend, in one tasklet:
 *   a time limit set and cancelled, [TIMEOUTS] per invocation (@OperationsPerInvocation).
 * - [kotlinxWithTimeoutOrNull]: `withTimeoutOrNull(d) { }` the same way in `runBlocking`. Its event
 *   loop is built per invocation, so it has no other timers pending: compare it with
 *   `stacklessTimeout` at `pending = 0` (its only @Param).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgs = [HEAP])
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
open class TimerBenchmark {
    @JvmField var fired: Long = 0
    private val fire = Runnable { fired++ }
    private val delays = FarDelays()

    /**
     * [pending] timers waiting on the benchmark thread's loop for the whole trial. JMH makes a
     * Scope.Thread state on the thread that uses it, which is the thread whose loop holds them.
     */
    @State(Scope.Thread)
    open class PendingTimers {
        @Param("0", "1000", "100000")
        @JvmField var pending: Int = 0

        private var handles: Array<Handle> = emptyArray()

        @Setup(Level.Trial)
        fun fill() {
            val delays = FarDelays()
            val nothing = Runnable {}
            handles = Array(pending) { MainLoop.callLater(delays.next(), nothing) }
        }

        @Setup(Level.Iteration)
        fun check() {
            check(MainLoop.pendingTimers == pending) {
                "expected $pending timers pending on ${Thread.currentThread()}, found ${MainLoop.pendingTimers}"
            }
        }

        @TearDown(Level.Trial)
        fun clear() {
            for (h in handles) h.cancel()
            handles = emptyArray()
        }
    }

    @Benchmark
    fun callLaterCancel(timers: PendingTimers): Boolean = MainLoop.callLater(delays.next(), fire).cancel()

    @Benchmark
    fun callSoonPump(timers: PendingTimers): Int {
        MainLoop.callSoon(fire)
        return MainLoop.pump()
    }

    @Benchmark
    @OperationsPerInvocation(TIMEOUTS)
    fun stacklessTimeout(timers: PendingTimers): Long {
        fired = 0
        val delays = delays
        Tasklet {
            repeat(TIMEOUTS) {
                timeout(delays.next()) { fired++ }
            }
        }.setup()
        Stackless.run()
        return checked(fired, TIMEOUTS.toLong())
    }

    @Benchmark
    @OperationsPerInvocation(TIMEOUTS)
    fun kotlinxWithTimeoutOrNull(): Long {
        fired = 0
        val delays = delays
        runBlocking {
            repeat(TIMEOUTS) {
                withTimeoutOrNull(delays.next()) { fired++ }
            }
        }
        return checked(fired, TIMEOUTS.toLong())
    }

    private companion object {
        const val TIMEOUTS = 10_000
    }
}

/** Seeded random delays of 1 to 2 hours, cycled: far enough that no timer of a trial ever fires. */
internal class FarDelays {
    private val nanos = Random(SEED).let { r -> LongArray(SIZE) { r.nextLong(HOUR_NANOS, 2 * HOUR_NANOS) } }
    private var next = 0

    fun next(): Duration = nanos[next++ and (SIZE - 1)].nanoseconds

    private companion object {
        const val SIZE = 1024 // a power of two: the index wraps with a mask
        const val SEED = 42L
        const val HOUR_NANOS = 3_600_000_000_000L
    }
}
