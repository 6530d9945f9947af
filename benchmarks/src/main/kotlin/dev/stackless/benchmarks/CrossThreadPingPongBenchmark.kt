package dev.stackless.benchmarks

import dev.stackless.Stackless
import dev.stackless.Tasklet
import java.util.concurrent.CountDownLatch
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.SynchronousQueue
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.DelicateCoroutinesApi
import kotlinx.coroutines.ExecutorCoroutineDispatcher
import kotlinx.coroutines.ExperimentalCoroutinesApi
import kotlinx.coroutines.launch
import kotlinx.coroutines.newSingleThreadContext
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
import dev.stackless.Channel as StacklessChannel
import kotlinx.coroutines.channels.Channel as KChannel

/**
 * ns per hop between two threads: PingPongBenchmark's ball, but the two tasks live on two different
 * threads. One hop = one send meeting one receive whose partner runs on the other thread, i.e. the
 * ball handed from one thread to the other; a round trip is two hops. An invocation is [HOPS] hops
 * ([HOPS]/2 round trips). Each hop wakes the other thread (unless it is still spinning/running), so
 * the figure is dominated by the JVM's thread hand-off (park/unpark), not by the library's switch.
 *
 * - [stackless]: one tasklet on each of two long-lived platform threads (started once per trial,
 *   [StacklessThreads]), over two `dev.stackless.Channel<Any>` shared by the threads. The echo
 *   thread's tasklet lives for the whole trial (its thread parked in `Stackless.runAll()` between
 *   invocations); per invocation the server thread gets a command, creates one tasklet that plays
 *   [HOPS]/2 round trips and runs it with `Stackless.runAll()`.
 * - [kotlinxTwoThreads]: two coroutines over two `Channel<Any>(RENDEZVOUS)`, one on each of two
 *   `newSingleThreadContext` dispatchers (created once per trial, closed in @TearDown).
 * - [platformThreads]: two platform threads over two `SynchronousQueue<Any>` (started once per
 *   trial): the JDK's own cross-thread hand-off, the floor of a parking implementation.
 * - [virtualThreads]: two virtual threads over two `SynchronousQueue<Any>` (JDK 21+), started per
 *   invocation as in PingPongBenchmark.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgs = [HEAP])
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
open class CrossThreadPingPongBenchmark {
    @JvmField val ball: Any = Any()

    @Benchmark
    @OperationsPerInvocation(HOPS)
    fun stackless(threads: StacklessThreads): Long = checked(threads.play(HOPS / 2), HOPS / 2L)

    @Benchmark
    @OperationsPerInvocation(HOPS)
    fun kotlinxTwoThreads(threads: KotlinxThreads): Long {
        var received = 0L
        val ping = KChannel<Any>(KChannel.RENDEZVOUS)
        val pong = KChannel<Any>(KChannel.RENDEZVOUS)
        runBlocking {
            launch(threads.echo) { // echo: ping -> pong
                repeat(HOPS / 2) {
                    pong.send(ping.receive())
                }
            }
            launch(threads.server) { // server: sends the ball, waits for it back
                val ball = ball
                var n = 0L
                repeat(HOPS / 2) {
                    ping.send(ball)
                    if (pong.receive() === ball) n++
                }
                received = n
            }
        }
        return checked(received, HOPS / 2L)
    }

    @Benchmark
    @OperationsPerInvocation(HOPS)
    fun platformThreads(threads: PlatformThreads): Long = checked(threads.play(HOPS / 2), HOPS / 2L)

    @Benchmark
    @OperationsPerInvocation(HOPS)
    fun virtualThreads(): Long = checked(VirtualThreads.pingPong(HOPS / 2, ball), HOPS / 2L)

    /**
     * Two long-lived Stackless threads for a trial. "stackless-echo" runs one tasklet for the whole
     * trial: `pong.send(ping.receive())` until it receives [STOP]. "stackless-server" waits for
     * commands on a plain queue (outside Stackless); for each it runs one tasklet of `rounds` round
     * trips with `Stackless.runAll()` and answers the number of balls that came back (or the
     * Throwable that ended it).
     *
     * The deadlock detection counts only threads that have a scheduler, and a thread alone finds a
     * deadlock at once: the echo thread must not block in `runAll()` before the server thread has its
     * scheduler, or `runAll()` returns at once with the echo tasklet still blocked. So both create
     * their scheduler, then wait for each other ([ready]); setup returns after that too.
     */
    @State(Scope.Thread)
    open class StacklessThreads {
        private val commands = LinkedBlockingQueue<Int>()
        private val results = LinkedBlockingQueue<Any>()
        private lateinit var echo: Thread
        private lateinit var server: Thread

        @Setup(Level.Trial)
        fun start() {
            val ping = StacklessChannel<Any>()
            val pong = StacklessChannel<Any>()
            val ready = CountDownLatch(2)
            echo = Thread({
                try {
                    val t = Tasklet {
                        while (true) {
                            val b = ping.receive()
                            if (b === STOP) break
                            pong.send(b)
                        }
                    }.apply { name = "echo" }.setup()
                    ready.countDown()
                    ready.await()
                    Stackless.runAll()
                    if (t.alive) results.put(IllegalStateException("echo: runAll() returned, its tasklet still blocked"))
                } catch (e: Throwable) {
                    results.put(e)
                    ready.countDown()
                }
            }, "stackless-echo").apply { isDaemon = true; start() }
            server = Thread({
                try {
                    Stackless.main // creates this thread's scheduler
                    ready.countDown()
                    val ball = Any()
                    while (true) {
                        val rounds = commands.take()
                        if (rounds < 0) {
                            ping.sendBlocking(STOP)
                            break
                        }
                        var n = 0L
                        val t = Tasklet {
                            repeat(rounds) {
                                ping.send(ball)
                                if (pong.receive() === ball) n++
                            }
                        }.apply { name = "server" }.setup()
                        Stackless.runAll()
                        if (t.alive) throw IllegalStateException("server: runAll() returned after $n rounds, its tasklet still blocked")
                        results.put(n)
                    }
                } catch (e: Throwable) {
                    results.put(e)
                    ready.countDown()
                }
            }, "stackless-server").apply { isDaemon = true; start() }
            if (!ready.await(TIMEOUT_S, TimeUnit.SECONDS)) {
                results.poll()?.let { if (it is Throwable) throw IllegalStateException("a Stackless thread failed", it) }
                throw IllegalStateException("the Stackless threads did not start")
            }
        }

        /** Plays [rounds] round trips on the two threads; returns the balls that came back. */
        fun play(rounds: Int): Long {
            commands.put(rounds)
            return when (val r = results.poll(TIMEOUT_S, TimeUnit.SECONDS)) {
                is Long -> r
                is Throwable -> throw IllegalStateException("a Stackless thread failed", r)
                else -> throw IllegalStateException("no answer from the Stackless threads after $TIMEOUT_S s " +
                    "(echo ${echo.state}, server ${server.state})")
            }
        }

        @TearDown(Level.Trial)
        fun stop() {
            commands.put(-1)
            server.join(TimeUnit.SECONDS.toMillis(TIMEOUT_S))
            echo.join(TimeUnit.SECONDS.toMillis(TIMEOUT_S))
            results.poll()?.let { if (it is Throwable) throw IllegalStateException("a Stackless thread failed", it) }
            check(!server.isAlive && !echo.isAlive) {
                "the Stackless threads did not end (echo ${echo.state}, server ${server.state})"
            }
        }
    }

    /** The two `newSingleThreadContext` dispatchers of a trial. */
    @State(Scope.Thread)
    @OptIn(DelicateCoroutinesApi::class, ExperimentalCoroutinesApi::class)
    open class KotlinxThreads {
        lateinit var echo: ExecutorCoroutineDispatcher
        lateinit var server: ExecutorCoroutineDispatcher

        @Setup(Level.Trial)
        fun start() {
            echo = newSingleThreadContext("kotlinx-echo")
            server = newSingleThreadContext("kotlinx-server")
        }

        @TearDown(Level.Trial)
        fun stop() {
            echo.close()
            server.close()
        }
    }

    /** Two long-lived platform threads over two SynchronousQueues, as [StacklessThreads] is driven. */
    @State(Scope.Thread)
    open class PlatformThreads {
        private val commands = LinkedBlockingQueue<Int>()
        private val results = LinkedBlockingQueue<Long>()
        private lateinit var echo: Thread
        private lateinit var server: Thread

        @Setup(Level.Trial)
        fun start() {
            val ping = SynchronousQueue<Any>()
            val pong = SynchronousQueue<Any>()
            echo = Thread({
                while (true) {
                    val b = ping.take()
                    if (b === STOP) break
                    pong.put(b)
                }
            }, "platform-echo").apply { isDaemon = true; start() }
            server = Thread({
                val ball = Any()
                while (true) {
                    val rounds = commands.take()
                    if (rounds < 0) {
                        ping.put(STOP)
                        break
                    }
                    var n = 0L
                    repeat(rounds) {
                        ping.put(ball)
                        if (pong.take() === ball) n++
                    }
                    results.put(n)
                }
            }, "platform-server").apply { isDaemon = true; start() }
        }

        fun play(rounds: Int): Long {
            commands.put(rounds)
            return results.poll(TIMEOUT_S, TimeUnit.SECONDS)
                ?: throw IllegalStateException("no answer from the platform threads after $TIMEOUT_S s")
        }

        @TearDown(Level.Trial)
        fun stop() {
            commands.put(-1)
            server.join(TimeUnit.SECONDS.toMillis(TIMEOUT_S))
            echo.join(TimeUnit.SECONDS.toMillis(TIMEOUT_S))
        }
    }

    companion object {
        /** Hops per invocation (even: HOPS/2 round trips); a cross-thread hop costs microseconds. */
        const val HOPS = 20_000

        /** How long an invocation may take before the benchmark fails instead of hanging. */
        const val TIMEOUT_S = 60L

        /** Ends the echo loops. */
        @JvmField val STOP: Any = Any()
    }
}
