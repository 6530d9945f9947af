package dev.stackless.benchmarks

import dev.stackless.Stackless
import dev.stackless.Tasklet
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
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

/**
 * ns per task that does nothing: create it, start it, let it run to its end. An invocation is a batch
 * of [BATCH] such tasks, all created and started first, then run (@OperationsPerInvocation(BATCH)).
 * The bodies are preallocated, so B/op is the task itself.
 *
 * - [stackless]: `Tasklet(body).setup()` × [BATCH], then `Stackless.run()`.
 * - [kotlinxRunBlocking]: `launch(block = body)` × [BATCH] in `runBlocking` (which waits for them).
 * - [kotlinxDefault]: the same in `runBlocking(Dispatchers.Default)`.
 * - [virtualThreads] / [virtualThreadsOneCarrier]: [BATCH] virtual threads started, then each joined (JDK 21+).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgs = [HEAP])
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
open class SpawnBenchmark {
    private val taskletBody: suspend () -> Unit = {}
    private val coroutineBody: suspend CoroutineScope.() -> Unit = {}
    private val threadBody = Runnable {}
    private val threads = arrayOfNulls<Thread>(BATCH)

    @Benchmark
    @OperationsPerInvocation(BATCH)
    fun stackless(): Long {
        val body = taskletBody
        var last: Tasklet? = null
        repeat(BATCH) { last = Tasklet(body).setup() }
        Stackless.run()
        check(!last!!.alive) { "tasklets did not finish" }
        return BATCH.toLong()
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    fun kotlinxRunBlocking(): Long {
        var last: Job? = null
        runBlocking { last = launchBatch() }
        check(last!!.isCompleted) { "coroutines did not finish" }
        return BATCH.toLong()
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    fun kotlinxDefault(): Long {
        var last: Job? = null
        runBlocking(Dispatchers.Default) { last = launchBatch() }
        check(last!!.isCompleted) { "coroutines did not finish" }
        return BATCH.toLong()
    }

    private fun CoroutineScope.launchBatch(): Job {
        val body = coroutineBody
        var last: Job? = null
        repeat(BATCH) { last = launch(block = body) }
        return last!!
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    fun virtualThreads(): Long = virtualThreadBatch()

    @Benchmark
    @OperationsPerInvocation(BATCH)
    @Fork(value = 1, jvmArgs = [HEAP], jvmArgsAppend = [ONE_CARRIER, ONE_CARRIER_MAX])
    fun virtualThreadsOneCarrier(): Long = virtualThreadBatch()

    private fun virtualThreadBatch(): Long {
        val factory = VirtualThreads.factory()
        val body = threadBody
        val threads = threads
        for (i in 0 until BATCH) threads[i] = factory.newThread(body).also { it.start() }
        for (i in 0 until BATCH) {
            threads[i]!!.join()
            threads[i] = null
        }
        return BATCH.toLong()
    }

    companion object {
        /** Tasks per invocation. */
        const val BATCH = 10_000
    }
}
