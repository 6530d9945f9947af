package dev.stackless.benchmarks

import dev.stackless.Stackless
import dev.stackless.Tasklet
import java.util.concurrent.SynchronousQueue
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.cancelAndJoin
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
import org.openjdk.jmh.annotations.TearDown
import org.openjdk.jmh.annotations.Warmup
import dev.stackless.Channel as StacklessChannel
import kotlinx.coroutines.channels.Channel as KChannel

/**
 * ns per hop along a chain: [TASKS] relay tasks joined by [TASKS] + 1 rendezvous channels in a line
 * (`ch[0] -> relay 0 -> ch[1] -> … -> relay 9999 -> ch[10000]`). Per invocation a feeder task sends
 * [VALUES] preallocated balls into `ch[0]` and a collector task takes them out of `ch[10000]`; every
 * ball makes [HOPS_PER_VALUE] hops (one per channel), so one op = one hop of a value from one task
 * to the next. Several balls are in the chain at once.
 *
 * The chain is built once per trial in @Setup(Level.Trial) where the system allows it: tasklets
 * (they stay blocked in `receive()` between invocations, bound to the JMH worker thread), coroutines
 * on `Dispatchers.Default` (in a scope of their own) and virtual threads. `runBlocking` cannot keep
 * coroutines across calls (its event loop ends with the call), so [kotlinxRunBlocking] builds the
 * chain in every invocation and amortises that over [VALUES_RUN_BLOCKING] values (about 2% of its time).
 *
 * - [stackless]: tasklets and `dev.stackless.Channel`, driven by `Stackless.run()`.
 * - [kotlinxRunBlocking]: coroutines and `Channel(RENDEZVOUS)` in `runBlocking`.
 * - [kotlinxDefault]: coroutines on `Dispatchers.Default`, fed and drained in `runBlocking(Dispatchers.Default)`.
 * - [virtualThreads] / [virtualThreadsOneCarrier]: virtual threads and `SynchronousQueue` (JDK 21+).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgs = [HEAP])
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
open class ChainBenchmark {
    @JvmField val ball: Any = Any()
    @JvmField var received: Long = 0

    /** The tasklet chain, owned by the JMH worker thread that set it up. */
    @State(Scope.Thread)
    open class StacklessChain {
        lateinit var first: StacklessChannel<Any>
        lateinit var last: StacklessChannel<Any>
        private val relays = ArrayList<Tasklet>(TASKS)
        var owner: Thread? = null

        @Setup(Level.Trial)
        fun setup() {
            owner = Thread.currentThread()
            val ch = Array(TASKS + 1) { StacklessChannel<Any>() }
            first = ch[0]
            last = ch[TASKS]
            for (i in 0 until TASKS) {
                val input = ch[i]
                val output = ch[i + 1]
                relays += Tasklet {
                    while (true) output.send(input.receive())
                }.setup()
            }
            Stackless.run() // returns once every relay waits in receive()
            check(relays.all { it.blocked == -1 }) { "relays not blocked" }
        }

        @TearDown(Level.Trial)
        fun tearDown() {
            for (t in relays) t.killBlocking()
            relays.clear()
        }
    }

    @Benchmark
    @OperationsPerInvocation(VALUES * HOPS_PER_VALUE)
    fun stackless(chain: StacklessChain): Long {
        check(Thread.currentThread() === chain.owner) { "tasklets belong to the thread that set them up" }
        received = 0
        val first = chain.first
        val last = chain.last
        Tasklet { // collector first: it waits in receive() before the first ball arrives
            val ball = ball
            repeat(VALUES) { if (last.receive() === ball) received++ }
        }.setup()
        Tasklet { // feeder
            val ball = ball
            repeat(VALUES) { first.send(ball) }
        }.setup()
        Stackless.run()
        return checked(received, VALUES.toLong())
    }

    @Benchmark
    @OperationsPerInvocation(VALUES_RUN_BLOCKING * HOPS_PER_VALUE)
    fun kotlinxRunBlocking(): Long {
        received = 0
        runBlocking {
            val ch = Array(TASKS + 1) { KChannel<Any>(KChannel.RENDEZVOUS) }
            for (i in 0 until TASKS) {
                val input = ch[i]
                val output = ch[i + 1]
                launch {
                    repeat(VALUES_RUN_BLOCKING) { output.send(input.receive()) }
                }
            }
            feedAndCollect(ch[0], ch[TASKS], VALUES_RUN_BLOCKING)
        }
        return checked(received, VALUES_RUN_BLOCKING.toLong())
    }

    /** Relay coroutines on `Dispatchers.Default` in a scope of their own, living for the trial. */
    @State(Scope.Thread)
    open class DefaultChain {
        lateinit var first: KChannel<Any>
        lateinit var last: KChannel<Any>
        private val job = Job()

        @Setup(Level.Trial)
        fun setup() {
            val scope = CoroutineScope(Dispatchers.Default + job)
            val ch = Array(TASKS + 1) { KChannel<Any>(KChannel.RENDEZVOUS) }
            first = ch[0]
            last = ch[TASKS]
            for (i in 0 until TASKS) {
                val input = ch[i]
                val output = ch[i + 1]
                scope.launch {
                    while (true) output.send(input.receive())
                }
            }
        }

        @TearDown(Level.Trial)
        fun tearDown() = runBlocking { job.cancelAndJoin() }
    }

    @Benchmark
    @OperationsPerInvocation(VALUES * HOPS_PER_VALUE)
    fun kotlinxDefault(chain: DefaultChain): Long {
        received = 0
        runBlocking(Dispatchers.Default) { feedAndCollect(chain.first, chain.last, VALUES) }
        return checked(received, VALUES.toLong())
    }

    private suspend fun CoroutineScope.feedAndCollect(first: KChannel<Any>, last: KChannel<Any>, values: Int) {
        val ball = ball
        launch { // feeder
            repeat(values) { first.send(ball) }
        }
        repeat(values) { if (last.receive() === ball) received++ }
    }

    /** Relay virtual threads living for the trial; interrupted at the end. */
    @State(Scope.Thread)
    open class VirtualThreadChain {
        lateinit var first: SynchronousQueue<Any>
        lateinit var last: SynchronousQueue<Any>
        private val relays = ArrayList<Thread>(TASKS)

        @Setup(Level.Trial)
        fun setup() {
            val factory = VirtualThreads.factory()
            val ch = Array(TASKS + 1) { SynchronousQueue<Any>() }
            first = ch[0]
            last = ch[TASKS]
            for (i in 0 until TASKS) {
                val input = ch[i]
                val output = ch[i + 1]
                relays += factory.newThread {
                    try {
                        while (true) output.put(input.take())
                    } catch (_: InterruptedException) {
                        // end of the trial
                    }
                }.also { it.start() }
            }
        }

        @TearDown(Level.Trial)
        fun tearDown() {
            for (t in relays) t.interrupt()
            for (t in relays) t.join()
            relays.clear()
        }
    }

    @Benchmark
    @OperationsPerInvocation(VALUES_VT * HOPS_PER_VALUE)
    fun virtualThreads(chain: VirtualThreadChain): Long = virtualThreadChain(chain)

    @Benchmark
    @OperationsPerInvocation(VALUES_VT * HOPS_PER_VALUE)
    @Fork(value = 1, jvmArgs = [HEAP], jvmArgsAppend = [ONE_CARRIER, ONE_CARRIER_MAX])
    fun virtualThreadsOneCarrier(chain: VirtualThreadChain): Long = virtualThreadChain(chain)

    private fun virtualThreadChain(chain: VirtualThreadChain): Long {
        val factory = VirtualThreads.factory()
        val first = chain.first
        val last = chain.last
        val ball = ball
        received = 0
        val feeder = factory.newThread {
            repeat(VALUES_VT) { first.put(ball) }
        }
        val collector = factory.newThread {
            var n = 0L
            repeat(VALUES_VT) { if (last.take() === ball) n++ }
            received = n
        }
        collector.start()
        feeder.start()
        feeder.join()
        collector.join()
        return checked(received, VALUES_VT.toLong())
    }

    companion object {
        /** Relay tasks; the chain has TASKS + 1 channels. */
        const val TASKS = 10_000

        /** Hops a value makes from the feeder to the collector: one per channel. */
        const val HOPS_PER_VALUE = TASKS + 1

        /** Values per invocation when the chain is built in @Setup(Level.Trial). */
        const val VALUES = 20

        /** Values per invocation for runBlocking, which builds its chain in the invocation. */
        const val VALUES_RUN_BLOCKING = 100

        /** Values per invocation for virtual threads (microseconds per hop). */
        const val VALUES_VT = 5
    }
}
