package dev.stackless.benchmarks

import dev.stackless.Stackless
import dev.stackless.Tasklet
import java.util.concurrent.SynchronousQueue
import java.util.concurrent.ThreadFactory
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.channels.SendChannel
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import org.openjdk.jmh.annotations.Benchmark
import org.openjdk.jmh.annotations.BenchmarkMode
import org.openjdk.jmh.annotations.Fork
import org.openjdk.jmh.annotations.Measurement
import org.openjdk.jmh.annotations.Mode
import org.openjdk.jmh.annotations.OutputTimeUnit
import org.openjdk.jmh.annotations.Scope
import org.openjdk.jmh.annotations.State
import org.openjdk.jmh.annotations.Warmup
import dev.stackless.Channel as StacklessChannel
import kotlinx.coroutines.channels.Channel as KChannel

/**
 * ns per skynet (atemerev/skynet): a root task creates 10 children, each creates 10, … down to
 * [LEAVES] leaves (1,111,111 tasks in all); leaf `i` sends `i` to its parent over the parent's
 * rendezvous channel, every inner task sums the 10 values it receives and sends the sum up. One op
 * is the whole tree, and the root's sum must be 0 + 1 + … + 999,999 = [SUM] (checked). Values are
 * `Long`s, boxed by every JVM channel alike.
 *
 * - [stackless]: tasklets and `dev.stackless.Channel<Long>`, driven by `Stackless.run()`.
 * - [kotlinxRunBlocking]: coroutines (children launched in their parent's scope) and
 *   `Channel<Long>(RENDEZVOUS)` in `runBlocking`.
 * - [kotlinxDefault]: the same in `runBlocking(Dispatchers.Default)`.
 * - [virtualThreads] / [virtualThreadsOneCarrier]: virtual threads and `SynchronousQueue<Long>`;
 *   each parent joins its 10 children after their sums, so the invocation ends with every thread
 *   terminated (JDK 21+).
 *
 * Forked with a fixed 2 GB heap and a 1 GB young generation ([HEAP_FIXED], [YOUNG_1G]): see there.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgs = [HEAP, HEAP_FIXED, YOUNG_1G])
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
open class SkynetBenchmark {
    @JvmField var result: Long = 0

    @Benchmark
    fun stackless(): Long {
        result = 0
        val root = StacklessChannel<Long>()
        Tasklet { stacklessSkynet(root, 0, LEAVES) }.setup()
        Tasklet { result = root.receive() }.setup()
        Stackless.run()
        return checked(result, SUM)
    }

    private suspend fun stacklessSkynet(out: StacklessChannel<Long>, num: Long, size: Int) {
        if (size == 1) {
            out.send(num)
            return
        }
        val ch = StacklessChannel<Long>()
        val sub = size / FANOUT
        for (i in 0 until FANOUT) {
            val n = num + i.toLong() * sub
            Tasklet { stacklessSkynet(ch, n, sub) }.setup()
        }
        var sum = 0L
        repeat(FANOUT) { sum += ch.receive() }
        out.send(sum)
    }

    @Benchmark
    fun kotlinxRunBlocking(): Long {
        result = 0
        runBlocking { kotlinxRoot() }
        return checked(result, SUM)
    }

    @Benchmark
    fun kotlinxDefault(): Long {
        result = 0
        runBlocking(Dispatchers.Default) { kotlinxRoot() }
        return checked(result, SUM)
    }

    private suspend fun CoroutineScope.kotlinxRoot() {
        val root = KChannel<Long>(KChannel.RENDEZVOUS)
        launch { kotlinxSkynet(root, 0, LEAVES) }
        result = root.receive()
    }

    private suspend fun CoroutineScope.kotlinxSkynet(out: SendChannel<Long>, num: Long, size: Int) {
        if (size == 1) {
            out.send(num)
            return
        }
        val ch = KChannel<Long>(KChannel.RENDEZVOUS)
        val sub = size / FANOUT
        for (i in 0 until FANOUT) {
            val n = num + i.toLong() * sub
            launch { kotlinxSkynet(ch, n, sub) }
        }
        var sum = 0L
        repeat(FANOUT) { sum += ch.receive() }
        out.send(sum)
    }

    @Benchmark
    fun virtualThreads(): Long = virtualThreadRoot()

    @Benchmark
    @Fork(value = 1, jvmArgs = [HEAP, HEAP_FIXED, YOUNG_1G], jvmArgsAppend = [ONE_CARRIER, ONE_CARRIER_MAX])
    fun virtualThreadsOneCarrier(): Long = virtualThreadRoot()

    private fun virtualThreadRoot(): Long {
        val factory = VirtualThreads.factory()
        result = 0
        val root = SynchronousQueue<Long>()
        val top = factory.newThread { virtualThreadSkynet(factory, root, 0, LEAVES) }
        val collector = factory.newThread { result = root.take() }
        collector.start()
        top.start()
        top.join()
        collector.join()
        return checked(result, SUM)
    }

    private fun virtualThreadSkynet(factory: ThreadFactory, out: SynchronousQueue<Long>, num: Long, size: Int) {
        if (size == 1) {
            out.put(num)
            return
        }
        val ch = SynchronousQueue<Long>()
        val sub = size / FANOUT
        val children = arrayOfNulls<Thread>(FANOUT)
        for (i in 0 until FANOUT) {
            val n = num + i.toLong() * sub
            children[i] = factory.newThread { virtualThreadSkynet(factory, ch, n, sub) }.also { it.start() }
        }
        var sum = 0L
        repeat(FANOUT) { sum += ch.take() }
        for (c in children) c!!.join()
        out.put(sum)
    }

    companion object {
        const val LEAVES = 1_000_000
        const val FANOUT = 10

        /** 0 + 1 + … + 999,999. */
        const val SUM = 499_999_500_000L
    }
}
