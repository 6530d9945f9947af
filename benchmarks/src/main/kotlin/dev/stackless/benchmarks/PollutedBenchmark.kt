package dev.stackless.benchmarks

import dev.stackless.Stackless
import dev.stackless.Tasklet
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.launch
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
import org.openjdk.jmh.annotations.Warmup
import dev.stackless.Channel as StacklessChannel
import kotlinx.coroutines.channels.Channel as KChannel

/**
 * The switch and the channel hop in a *polluted profile*: before measuring, every fork runs many
 * different tasklet bodies, channel element types and operations ([Pollution]), and the same in
 * kotlinx.coroutines, as a real program does. The JIT then compiles the scheduler's call sites with
 * what it saw there (several continuation classes resumed by the trampoline, several value types
 * handed over), not with the one body of a clean benchmark. [SwitchBenchmark] and
 * [PingPongBenchmark] are the clean counterparts.
 *
 * - [switchStackless] / [switchKotlinx]: [SwitchBenchmark]'s `stackless` and `kotlinxRunBlocking`.
 * - [hopStackless] / [hopKotlinx]: a boxed `Int` bounced over two rendezvous channels (a new
 *   value per round trip, boxed outside the small-integer cache), as in [PingPongBenchmark].
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgs = [HEAP])
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
open class PollutedBenchmark {
    @JvmField var received: Long = 0

    @Setup(Level.Trial)
    fun pollute() {
        Pollution.run(rounds = POLLUTION_ROUNDS)
    }

    /** The clean benchmark's own workloads, run here in the polluted profile. */
    private val switches = SwitchBenchmark()

    @Benchmark
    @OperationsPerInvocation(2 * SwitchBenchmark.N)
    fun switchStackless(): Long = switches.stackless()

    @Benchmark
    @OperationsPerInvocation(2 * SwitchBenchmark.N)
    fun switchKotlinx(): Long = switches.kotlinxRunBlocking()

    @Benchmark
    @OperationsPerInvocation(HOPS)
    fun hopStackless(): Long {
        received = 0
        val ping = StacklessChannel<Int>()
        val pong = StacklessChannel<Int>()
        Tasklet {
            repeat(HOPS / 2) {
                pong.send(ping.receive() + 1)
            }
        }.setup()
        Tasklet {
            repeat(HOPS / 2) { i ->
                ping.send(BOXED_BASE + i)
                if (pong.receive() == BOXED_BASE + i + 1) received++
            }
        }.setup()
        Stackless.run()
        return checked(received, HOPS / 2L)
    }

    @Benchmark
    @OperationsPerInvocation(HOPS)
    fun hopKotlinx(): Long {
        received = 0
        runBlocking { kotlinxIntPingPong() }
        return checked(received, HOPS / 2L)
    }

    private fun CoroutineScope.kotlinxIntPingPong() {
        val ping = KChannel<Int>(KChannel.RENDEZVOUS)
        val pong = KChannel<Int>(KChannel.RENDEZVOUS)
        launch {
            repeat(HOPS / 2) {
                pong.send(ping.receive() + 1)
            }
        }
        launch {
            repeat(HOPS / 2) { i ->
                ping.send(BOXED_BASE + i)
                if (pong.receive() == BOXED_BASE + i + 1) received++
            }
        }
    }

    companion object {
        const val HOPS = 200_000

        /** Above the `Integer` cache, so that every value sent is a fresh box, as in real traffic. */
        const val BOXED_BASE = 1_000

        /** Rounds of [Pollution.run] per fork: enough for every workload to be compiled by C2. */
        const val POLLUTION_ROUNDS = 40
    }
}
