package dev.stackless.benchmarks

import dev.stackless.Stackless
import dev.stackless.Tasklet
import java.util.concurrent.SynchronousQueue
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.channels.ReceiveChannel
import kotlinx.coroutines.channels.SendChannel
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
 * ns per pass of the Benchmarks Game thread-ring: [RING] tasks in a ring, task `i` (1-based)
 * receiving on its own rendezvous channel and sending to task `i + 1`'s. A token with a counter
 * `n` is handed to task 1; each holder passes it on with `n - 1`, and the task that receives 0 is
 * the winner (it must be `n mod 503 + 1`, checked). The token is one preallocated mutable object,
 * so no boxing is measured.
 *
 * Every invocation builds the ring, injects the token and then ends the ring: the winner sends a stop
 * mark round once more and every task passes it on and ends. Each of those sends is a pass too: an
 * invocation is 1 + n + [RING] passes (@OperationsPerInvocation), and creating 503 tasks is amortised
 * over them (n = [N], or [N_VT] for virtual threads).
 *
 * - [stackless]: tasklets and `dev.stackless.Channel`, driven by `Stackless.run()`.
 * - [kotlinxRunBlocking]: coroutines and `Channel(RENDEZVOUS)` in `runBlocking`.
 * - [kotlinxDefault]: the same in `runBlocking(Dispatchers.Default)`.
 * - [virtualThreads] / [virtualThreadsOneCarrier]: virtual threads and `SynchronousQueue` (JDK 21+).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgs = [HEAP])
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
open class ThreadRingBenchmark {
    /** The token: passes left; [STOP] once the winner is known. */
    class Token {
        @JvmField var n: Int = 0
    }

    @JvmField val token = Token()

    /** The winner's id, written by the winner only. */
    @Volatile @JvmField var winner: Int = 0

    @Benchmark
    @OperationsPerInvocation(OPS)
    fun stackless(): Long {
        winner = 0
        val ch = Array(RING) { StacklessChannel<Token>() }
        for (i in 0 until RING) {
            val input = ch[i]
            val output = ch[(i + 1) % RING]
            val id = i + 1
            Tasklet {
                while (true) {
                    val t = input.receive()
                    val n = t.n
                    if (n > 0) {
                        t.n = n - 1
                        output.send(t)
                    } else if (n == 0) {
                        winner = id
                        t.n = STOP
                        output.send(t)
                        input.receive() // the stop mark, back from the last task
                        break
                    } else {
                        output.send(t)
                        break
                    }
                }
            }.setup()
        }
        token.n = N
        Tasklet { ch[0].send(token) }.setup()
        Stackless.run()
        return checkedWinner(N)
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    fun kotlinxRunBlocking(): Long {
        winner = 0
        runBlocking { kotlinxRing() }
        return checkedWinner(N)
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    fun kotlinxDefault(): Long {
        winner = 0
        runBlocking(Dispatchers.Default) { kotlinxRing() }
        return checkedWinner(N)
    }

    private suspend fun CoroutineScope.kotlinxRing() {
        val ch = Array(RING) { KChannel<Token>(KChannel.RENDEZVOUS) }
        for (i in 0 until RING) {
            val input = ch[i]
            val output = ch[(i + 1) % RING]
            val id = i + 1
            launch { kotlinxMember(id, input, output) }
        }
        token.n = N
        ch[0].send(token)
    }

    private suspend fun kotlinxMember(id: Int, input: ReceiveChannel<Token>, output: SendChannel<Token>) {
        while (true) {
            val t = input.receive()
            val n = t.n
            if (n > 0) {
                t.n = n - 1
                output.send(t)
            } else if (n == 0) {
                winner = id
                t.n = STOP
                output.send(t)
                input.receive()
                return
            } else {
                output.send(t)
                return
            }
        }
    }

    @Benchmark
    @OperationsPerInvocation(OPS_VT)
    fun virtualThreads(): Long = virtualThreadRing()

    @Benchmark
    @OperationsPerInvocation(OPS_VT)
    @Fork(value = 1, jvmArgs = [HEAP], jvmArgsAppend = [ONE_CARRIER, ONE_CARRIER_MAX])
    fun virtualThreadsOneCarrier(): Long = virtualThreadRing()

    private fun virtualThreadRing(): Long {
        val factory = VirtualThreads.factory()
        winner = 0
        val ch = Array(RING) { SynchronousQueue<Token>() }
        val members = Array(RING) { i ->
            val input = ch[i]
            val output = ch[(i + 1) % RING]
            val id = i + 1
            factory.newThread {
                while (true) {
                    val t = input.take()
                    val n = t.n
                    if (n > 0) {
                        t.n = n - 1
                        output.put(t)
                    } else if (n == 0) {
                        winner = id
                        t.n = STOP
                        output.put(t)
                        input.take()
                        break
                    } else {
                        output.put(t)
                        break
                    }
                }
            }
        }
        for (t in members) t.start()
        token.n = N_VT
        val injector = factory.newThread { ch[0].put(token) }
        injector.start()
        injector.join()
        for (t in members) t.join()
        return checkedWinner(N_VT)
    }

    private fun checkedWinner(n: Int): Long = checked(winner.toLong(), (n % RING + 1).toLong())

    companion object {
        const val RING = 503

        /** Token passes (decrements) per invocation. */
        const val N = 1_000_000

        /** The same for virtual threads (microseconds per pass). */
        const val N_VT = 50_000

        /** Passes per invocation: the injection, N decrements and the stop round. */
        const val OPS = 1 + N + RING
        const val OPS_VT = 1 + N_VT + RING

        const val STOP = -1
    }
}
