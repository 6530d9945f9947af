package dev.stackless.benchmarks

import dev.stackless.Stackless
import dev.stackless.Tasklet
import java.util.concurrent.TimeUnit
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
 * ns per hop on one thread: a preallocated ball bounces between two tasks over two channels
 * (`ping` one way, `pong` back). One hop = one send meeting one receive, i.e. the ball handed from
 * one task to the other. An invocation is [HOPS] hops ([HOPS]/2 round trips). The ball is a
 * preallocated object, so no boxing is measured: B/op is the library's own allocation.
 *
 * - [stacklessHop]: two tasklets over two `dev.stackless.Channel<Any>`, driven by `Stackless.run()`.
 * - [kotlinxRendezvousHop]: two coroutines over two `Channel<Any>(RENDEZVOUS)` in `runBlocking`.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgs = ["-Xmx1g"])
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
open class PingPongBenchmark {
    @JvmField val ball: Any = Any()
    @JvmField var received: Long = 0

    @Benchmark
    @OperationsPerInvocation(HOPS)
    fun stacklessHop(): Long {
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
        return received
    }

    @Benchmark
    @OperationsPerInvocation(HOPS)
    fun kotlinxRendezvousHop(): Long {
        received = 0
        runBlocking {
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
        return received
    }

    companion object {
        /** Hops per invocation (even: HOPS/2 round trips). */
        const val HOPS = 200_000
    }
}
