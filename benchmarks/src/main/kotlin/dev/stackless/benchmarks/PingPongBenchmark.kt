package dev.stackless.benchmarks

import dev.stackless.Stackless
import dev.stackless.Tasklet
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
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
import dev.stackless.Channel as StacklessChannel
import kotlinx.coroutines.channels.Channel as KChannel

/**
 * ns per hop: a preallocated ball bounces between two tasks over two rendezvous channels (`ping`
 * one way, `pong` back). One hop = one send meeting one receive, i.e. the ball handed from one task
 * to the other. An invocation is [HOPS] hops ([HOPS]/2 round trips; [HOPS_VT] for virtual threads).
 * The ball is a preallocated object, so no boxing is measured: B/op is the system's own allocation.
 *
 * - [stackless]: two tasklets over two `dev.stackless.Channel<Any>`, driven by `Stackless.run()`.
 * - [kotlinxRunBlocking]: two coroutines over two `Channel<Any>(RENDEZVOUS)` in `runBlocking`.
 * - [kotlinxDefault]: the same in `runBlocking(Dispatchers.Default)`.
 * - [virtualThreads]: two virtual threads over two `SynchronousQueue<Any>` (JDK 21+).
 * - [virtualThreadsOneCarrier]: the same with one carrier thread.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgs = [HEAP])
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
open class PingPongBenchmark {
    @JvmField val ball: Any = Any()
    @JvmField var received: Long = 0

    @Benchmark
    @OperationsPerInvocation(HOPS)
    fun stackless(): Long {
        received = 0
        val ping = StacklessChannel<Any>()
        val pong = StacklessChannel<Any>()
        Tasklet { // echo: ping -> pong
            repeat(HOPS / 2) {
                pong.send(ping.receive())
            }
        }.setup()
        Tasklet { // server: sends the ball, waits for it back
            val ball = ball
            repeat(HOPS / 2) {
                ping.send(ball)
                if (pong.receive() === ball) received++
            }
        }.setup()
        Stackless.run()
        return checked(received, HOPS / 2L)
    }

    @Benchmark
    @OperationsPerInvocation(HOPS)
    fun kotlinxRunBlocking(): Long {
        received = 0
        runBlocking { kotlinxPingPong() }
        return checked(received, HOPS / 2L)
    }

    @Benchmark
    @OperationsPerInvocation(HOPS)
    fun kotlinxDefault(): Long {
        received = 0
        runBlocking(Dispatchers.Default) { kotlinxPingPong() }
        return checked(received, HOPS / 2L)
    }

    private fun CoroutineScope.kotlinxPingPong() {
        val ping = KChannel<Any>(KChannel.RENDEZVOUS)
        val pong = KChannel<Any>(KChannel.RENDEZVOUS)
        launch { // echo: ping -> pong
            repeat(HOPS / 2) {
                pong.send(ping.receive())
            }
        }
        launch { // server: sends the ball, waits for it back
            val ball = ball
            repeat(HOPS / 2) {
                ping.send(ball)
                if (pong.receive() === ball) received++
            }
        }
    }

    @Benchmark
    @OperationsPerInvocation(HOPS_VT)
    fun virtualThreads(): Long = virtualThreadPingPong()

    @Benchmark
    @OperationsPerInvocation(HOPS_VT)
    @Fork(value = 1, jvmArgs = [HEAP], jvmArgsAppend = [ONE_CARRIER, ONE_CARRIER_MAX])
    fun virtualThreadsOneCarrier(): Long = virtualThreadPingPong()

    private fun virtualThreadPingPong(): Long =
        checked(VirtualThreads.pingPong(HOPS_VT / 2, ball), HOPS_VT / 2L)

    companion object {
        /** Hops per invocation (even: HOPS/2 round trips). */
        const val HOPS = 200_000

        /** The same for virtual threads, whose hop costs microseconds. */
        const val HOPS_VT = 20_000
    }
}
