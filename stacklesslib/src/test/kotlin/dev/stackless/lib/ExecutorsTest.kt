package dev.stackless.lib

import dev.stackless.Channel
import dev.stackless.Stackless
import dev.stackless.Tasklet
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.StringSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldStartWith
import io.kotest.matchers.types.shouldBeSameInstanceAs
import java.io.IOException
import java.lang.ref.WeakReference
import java.util.Collections
import java.util.concurrent.CancellationException
import java.util.concurrent.CountDownLatch
import kotlin.time.Duration
import kotlin.time.Duration.Companion.milliseconds

/** Opens once: jobs of both kinds wait for it (a tasklet on a future, a thread on a latch). */
private class Gate {
    private val future = Future<Unit>()
    private val latch = CountDownLatch(1)

    fun open() {
        if (!future.done) future.setResult(Unit)
        latch.countDown()
    }

    suspend fun passTasklet() = future.result()
    fun passThread() = latch.await()
}

/** A job as stacklesslib's tests write them: sleep, wait for a gate, then compute. */
private class Job<R>(val sleepMs: Long = 0, val gate: Gate? = null, val body: () -> R)

/** One executor under test, with the jobs run its way. */
private interface Exec : AutoCloseable {
    fun <R> submit(job: Job<R>): Future<R>
    fun <T, R> map(items: Iterable<T>, timeout: Duration? = null, job: (T) -> Job<R>): Channel<R>
    suspend fun shutdown(wait: Boolean = true)
    fun shutdownBlocking(wait: Boolean = true)
}

private class OnTasklets(maxWorkers: Int?) : Exec {
    val ex = TaskletExecutor(maxWorkers)
    private suspend fun <R> run(job: Job<R>): R {
        if (job.sleepMs > 0) sleep(job.sleepMs.milliseconds)
        job.gate?.passTasklet()
        return job.body()
    }
    override fun <R> submit(job: Job<R>): Future<R> = ex.submit(suspend { run(job) })
    override fun <T, R> map(items: Iterable<T>, timeout: Duration?, job: (T) -> Job<R>): Channel<R> =
        ex.map(items, timeout) { run(job(it)) }
    override suspend fun shutdown(wait: Boolean) = ex.shutdown(wait)
    override fun shutdownBlocking(wait: Boolean) = ex.shutdownBlocking(wait)
    override fun close() = ex.close()
}

private class OnThreads(maxWorkers: Int?) : Exec {
    val ex = ThreadPoolExecutor(maxWorkers)
    private fun <R> run(job: Job<R>): R {
        if (job.sleepMs > 0) Thread.sleep(job.sleepMs)
        job.gate?.passThread()
        return job.body()
    }
    override fun <R> submit(job: Job<R>): Future<R> = ex.submit { run(job) }
    override fun <T, R> map(items: Iterable<T>, timeout: Duration?, job: (T) -> Job<R>): Channel<R> =
        ex.map(items, timeout) { run(job(it)) }
    override suspend fun shutdown(wait: Boolean) = ex.shutdown(wait)
    override fun shutdownBlocking(wait: Boolean) = ex.shutdownBlocking(wait)
    override fun close() = ex.close()
}

/** A divisor the compiler does not see is zero. */
private val zero = "0".toInt()

private val kinds: List<Pair<String, () -> Exec>> = listOf(
    "TaskletExecutor" to { OnTasklets(5) },
    "ThreadPoolExecutor(5)" to { OnThreads(5) },
)

/** [block] in a tasklet of a fresh thread, with a new executor that is shut down (waiting) afterwards. */
private fun withExecutor(make: () -> Exec, block: suspend (Exec) -> Unit) {
    fresh {
        make().use { ex -> stackless { block(ex) } }
    }
}

/** Creates the object in a frame of its own, so that only the job refers to it. */
private fun submitJobOnGarbage(ex: Exec): WeakReference<Any> {
    val obj = Any()
    ex.submit(Job { obj.hashCode() })
    return WeakReference(obj)
}

class ExecutorsTest : StringSpec({
    for ((name, make) in kinds) {
        "$name: submit returns the value; map gives the results in input order" {
            withExecutor(make) { ex ->
                ex.submit(Job { 2 * 128 }).result() shouldBe 256
                val out = mutableListOf<Int>()
                for (r in ex.map((0 until 10).toList()) { i -> Job(sleepMs = (10 - i).toLong()) { i * i } }) out += r
                out shouldBe (0 until 10).map { it * it }
            }
        }

        "$name: a job's exception is raised when map reaches its item" {
            withExecutor(make) { ex ->
                val it = ex.map(listOf(2, 3, 0, 5)) { d -> Job { 1 / d } }.iterator()
                it.hasNext() shouldBe true
                it.next() shouldBe 0
                it.hasNext() shouldBe true
                it.next() shouldBe 0
                shouldThrow<ArithmeticException> { it.hasNext() }.message shouldBe "/ by zero"
                it.hasNext() shouldBe false
            }
        }

        "$name: scenario 47, map's timeout is a budget for the whole iteration" {
            withExecutor(make) { ex ->
                val gate = Gate()
                val results = mutableListOf<Unit>()
                val t0 = System.nanoTime()
                val e = shouldThrow<TaskletTimeoutException> {
                    for (r in ex.map(listOf(0, 0, 1), 100.milliseconds) { i -> Job(gate = gate.takeIf { i == 1 }) {} }) {
                        results += r
                    }
                }
                (System.nanoTime() - t0 >= 100_000_000) shouldBe true
                e.message shouldBe "timed out after 100ms"
                results shouldBe listOf(Unit, Unit)
                gate.open()
            }
        }

        "$name: scenario 49, no reference is kept to a finished job" {
            withExecutor(make) { ex ->
                val ref = submitJobOnGarbage(ex)
                sleep(10.milliseconds)
                val deadline = System.nanoTime() + 5_000_000_000
                while (ref.get() != null && System.nanoTime() < deadline) {
                    System.gc()
                    sleep(10.milliseconds)
                }
                ref.get() shouldBe null
            }
        }

        "$name: scenario 51, wait(FIRST_EXCEPTION)" {
            withExecutor(make) { ex ->
                val gate = Gate()
                // The raiser fails after mul has finished, whatever the threads' speed.
                val mulDone = Gate()
                val mul = ex.submit(Job<Any> { 2 * 21 })
                mul.addDoneCallback { mulDone.open() }
                val raiser = ex.submit(Job<Any>(sleepMs = 15, gate = mulDone) { throw Exception("this is an exception") })
                val sleeper = ex.submit(Job<Any>(gate = gate) { Unit })
                wait(listOf(mul, raiser, sleeper), returnWhen = ReturnWhen.FIRST_EXCEPTION) shouldBe
                    DoneAndNotDone(setOf(mul, raiser), setOf(sleeper))
                raiser.exception()!!.message shouldBe "this is an exception"
                gate.open()
            }
        }

        "$name: scenario 51, some already complete, a cancelled one is no exception" {
            withExecutor(make) { ex ->
                val gate = Gate()
                val successful = Future<Any>().apply { setResult(42) }
                val cancelled = Future<Any>().apply { cancel() }
                val divmod = ex.submit(Job<Any> { 21 / zero })
                val sleeper = ex.submit(Job<Any>(gate = gate) { Unit })
                wait(listOf(successful, cancelled, divmod, sleeper), returnWhen = ReturnWhen.FIRST_EXCEPTION) shouldBe
                    DoneAndNotDone(setOf(successful, cancelled, divmod), setOf(sleeper))
                gate.open()
            }
        }

        "$name: scenario 51, one already failed returns at once" {
            withExecutor(make) { ex ->
                val gate = Gate()
                val failed = Future<Any>().apply { setException(IOException()) }
                val sleeper = ex.submit(Job<Any>(gate = gate) { Unit })
                wait(listOf(failed, sleeper), returnWhen = ReturnWhen.FIRST_EXCEPTION) shouldBe
                    DoneAndNotDone(setOf(failed), setOf(sleeper))
                gate.open()
            }
        }

        "$name: wait(FIRST_COMPLETED), a cancelled future counts at once" {
            withExecutor(make) { ex ->
                val gate = Gate()
                val cancelled = Future<Any>().apply { cancel() }
                val f1 = ex.submit(Job<Any>(gate = gate) { Unit })
                val f2 = ex.submit(Job<Any>(gate = gate) { Unit })
                wait(listOf(cancelled, f1, f2), returnWhen = ReturnWhen.FIRST_COMPLETED) shouldBe
                    DoneAndNotDone(setOf(cancelled), setOf(f1, f2))
                val mul = ex.submit(Job<Any> { 21 * 2 })
                wait(listOf(mul, f2), returnWhen = ReturnWhen.FIRST_COMPLETED) shouldBe
                    DoneAndNotDone(setOf(mul), setOf(f2))
                gate.open()
            }
        }

        "$name: wait(ALL_COMPLETED) and a timeout that gives a partial answer" {
            withExecutor(make) { ex ->
                val gate = Gate()
                val successful = Future<Any>().apply { setResult(42) }
                val cancelled = Future<Any>().apply { cancel() }
                val failed = Future<Any>().apply { setException(IOException()) }
                val divmod = ex.submit(Job<Any> { 2 / zero })
                val mul = ex.submit(Job<Any> { 2 * 21 })
                val all = listOf(successful, cancelled, failed, divmod, mul)
                wait(all) shouldBe DoneAndNotDone(all.toSet(), emptySet())
                val sleeper = ex.submit(Job<Any>(gate = gate) { Unit })
                val t0 = System.nanoTime()
                wait(all + sleeper, 50.milliseconds) shouldBe DoneAndNotDone(all.toSet(), setOf(sleeper))
                (System.nanoTime() - t0 >= 50_000_000) shouldBe true
                gate.open()
            }
        }

        "$name: asCompleted without and with a zero timeout" {
            withExecutor(make) { ex ->
                val gate = Gate()
                val successful = Future<Any>().apply { setResult(42) }
                val cancelled = Future<Any>().apply { cancel() }
                val failed = Future<Any>().apply { setException(IOException()) }
                val f1 = ex.submit(Job<Any> { 2 * 21 })
                val f2 = ex.submit(Job<Any> { 7 * 6 })
                val got = mutableSetOf<Future<Any>>()
                for (f in asCompleted(listOf(cancelled, failed, successful, f1, f2))) got += f
                got shouldBe setOf(cancelled, failed, successful, f1, f2)
                val sleeper = ex.submit(Job<Any>(gate = gate) { Unit })
                val zero = mutableListOf<Future<Any>>()
                shouldThrow<TaskletTimeoutException> {
                    for (f in asCompleted(listOf(cancelled, failed, successful, sleeper), Duration.ZERO)) zero += f
                }.message shouldBe "timed out after 0s"
                zero shouldBe listOf(cancelled, failed, successful)
                gate.open()
            }
        }

        "$name: scenario 59, allResults and anyResult" {
            withExecutor(make) { ex ->
                val fs = listOf(ex.submit(Job(sleepMs = 10) { 0 }), ex.submit(Job(sleepMs = 20) { 1 }))
                allResults(fs) shouldBe listOf(0, 1)
                val gate = Gate()
                val gs = listOf(ex.submit(Job(gate = gate) { 0 }), ex.submit(Job(sleepMs = 5) { 1 }))
                anyResult(gs) shouldBe 1
                gate.open()
            }
        }

        "$name: shutdown waits for the jobs, even those of an unread map; then submit is refused" {
            val finished = Collections.synchronizedList(mutableListOf<Int>())
            fresh {
                val ex = make()
                // The channel is never read: nothing runs for it.
                ex.map((0 until 10).toList()) { i -> Job(sleepMs = 1) { finished += i } }
                ex.shutdownBlocking(wait = true)
                finished.sorted() shouldBe (0 until 10).toList()
                shouldThrow<IllegalStateException> { ex.submit(Job { 1 }) }.message shouldBe
                    "cannot schedule new futures after shutdown"
                ex.shutdownBlocking()
            }
        }

        "$name: a map that is never read leaves nothing blocked: shutdown and the loop return" {
            val finished = Collections.synchronizedList(mutableListOf<Int>())
            fresh {
                val ex = make()
                stackless {
                    ex.map((0 until 5).toList()) { i -> Job { finished += i } }
                    ex.shutdown(wait = true)
                }
                finished.sorted() shouldBe (0 until 5).toList()
            }
        }

        "$name: a reader that stops early leaves nothing blocked; a later reader gets the rest in order" {
            fresh {
                val ex = make()
                var results: Channel<Int>? = null
                val first = mutableListOf<Int>()
                stackless {
                    val ch = ex.map((0 until 5).toList()) { i -> Job { i * 10 } }
                    results = ch
                    for (r in ch) {
                        first += r
                        if (first.size == 2) break
                    }
                    ex.shutdown(wait = true)
                }
                first shouldBe listOf(0, 10)
                val rest = mutableListOf<Int>()
                stackless { for (r in results!!) rest += r }
                rest shouldBe listOf(20, 30, 40)
                results!!.closing shouldBe true
            }
        }

        "$name: shutdown in a tasklet waits for the jobs" {
            withExecutor(make) { ex ->
                val fs = (0 until 5).map { i -> ex.submit(Job(sleepMs = 2L * i) { i }) }
                ex.shutdown()
                fs.all { it.done } shouldBe true
                shouldThrow<IllegalStateException> { ex.submit(Job { 1 }) }
            }
        }

        "$name: shutdownBlocking from the main tasklet; close() waits" {
            fresh {
                val ex = make()
                val f = ex.submit(Job(sleepMs = 5) { "x" })
                ex.shutdownBlocking()
                f.done shouldBe true
                ex.shutdownBlocking(wait = false)
                val g = make().use { ex2 -> ex2.submit(Job(sleepMs = 5) { "y" }) }
                g.resultBlocking(Duration.ZERO) shouldBe "y"
            }
        }

        "$name: cancel a job that has not started; a waiter of a killed job sees the cancellation" {
            withExecutor(make) { ex ->
                val gate = Gate()
                val busy = (1..5).map { ex.submit(Job(gate = gate) { it }) }
                var ran = false
                val queued = ex.submit(Job { ran = true })
                queued.cancel() shouldBe true
                gate.open()
                busy.map { it.result() } shouldBe listOf(1, 2, 3, 4, 5)
                shouldThrow<CancellationException> { queued.result() }
                ran shouldBe false
            }
        }
    }

    "TaskletExecutor: a new job is scheduled, not run" {
        fresh {
            TaskletExecutor().use { ex ->
                stackless {
                    val f = ex.submit { 1 }
                    f.running shouldBe false
                    f.done shouldBe false
                    Stackless.schedule()
                    f.done shouldBe true
                }
            }
        }
    }

    "TaskletExecutor: at most maxWorkers jobs run; the others start FIFO, with the same future (docs/stacklesslib.md §24.7)" {
        fresh {
            val log = mutableListOf<String>()
            val gates = (0 until 5).map { Future<Unit>() }
            TaskletExecutor(2).use { ex ->
                stackless {
                    val fs = (0 until 5).map { i ->
                        ex.submit {
                            log += "start $i"
                            gates[i].result()
                            log += "end $i"
                            i * 10
                        }
                    }
                    Stackless.schedule()
                    fs.map { it.running } shouldBe listOf(true, true, false, false, false)
                    gates[1].setResult(Unit)
                    Stackless.schedule()
                    Stackless.schedule()
                    fs.map { it.running } shouldBe listOf(true, false, true, false, false)
                    for (i in listOf(4, 3, 2, 0)) gates[i].setResult(Unit)
                    fs.map { it.result() } shouldBe listOf(0, 10, 20, 30, 40)
                }
            }
            log shouldBe listOf(
                "start 0", "start 1", "end 1", "start 2", "end 2", "end 0", "start 3", "end 3", "start 4", "end 4",
            )
        }
    }

    "TaskletExecutor: maxWorkers must be positive" {
        shouldThrow<IllegalArgumentException> { TaskletExecutor(0) }.message shouldBe "maxWorkers must be positive: 0"
        shouldThrow<IllegalArgumentException> { ThreadPoolExecutor(-1) }.message shouldBe "maxWorkers must be positive: -1"
    }

    "ThreadPoolExecutor: default size, jobs on its daemon threads" {
        val ex = ThreadPoolExecutor()
        ex.maxWorkers shouldBe minOf(32, Runtime.getRuntime().availableProcessors() + 4)
        fresh {
            val f = ex.submit { Thread.currentThread().let { it.name to it.isDaemon } }
            val (threadName, daemon) = f.resultBlocking()
            threadName shouldStartWith "stackless ThreadPoolExecutor "
            daemon shouldBe true
        }
        ex.close()
    }

    "ThreadPoolExecutor: scenario 53, no lost wake-ups from 100 threads" {
        fresh {
            ThreadPoolExecutor(5).use { ex ->
                val event = CountDownLatch(1)
                val fs = (0 until 100).map { ex.submit { event.await() } }
                stackless {
                    Tasklet { event.countDown() }.setup()
                    wait(fs, returnWhen = ReturnWhen.ALL_COMPLETED).notDone shouldBe emptySet()
                }
            }
        }
    }

    "ThreadPoolExecutor: a running job cannot be stopped, its result is dropped" {
        fresh {
            ThreadPoolExecutor(1).use { ex ->
                val started = CountDownLatch(1)
                val go = CountDownLatch(1)
                val f = ex.submit { started.countDown(); go.await(); 1 }
                started.await()
                f.running shouldBe true
                f.cancel() shouldBe true
                go.countDown()
                ex.shutdownBlocking()
                f.cancelled shouldBe true
                shouldThrow<CancellationException> { f.resultBlocking() }
            }
        }
    }

    "ThreadPoolExecutor: tasklets wait for thread jobs while the others run" {
        fresh {
            val log = mutableListOf<String>()
            val doubled = mutableListOf<Int>()
            ThreadPoolExecutor(4).use { ex ->
                stackless {
                    val gate = CountDownLatch(1)
                    val fs = (0 until 8).map { i -> ex.submit { gate.await(); i } }
                    for (i in 0 until 8) Tasklet { doubled += fs[i].result() * 2 }.setup()
                    Tasklet {
                        log += "others run: ${doubled.size}"
                        gate.countDown()
                    }.setup()
                }
            }
            log shouldBe listOf("others run: 0")
            doubled.sorted() shouldBe (0 until 8).map { it * 2 }
        }
    }

    "the job's exception object is the one the future gives" {
        fresh {
            val boom = IOException("boom")
            TaskletExecutor().use { ex ->
                stackless {
                    shouldThrow<IOException> { ex.submit { throw boom }.result() } shouldBeSameInstanceAs boom
                }
            }
            ThreadPoolExecutor(1).use { ex ->
                ex.submit { throw boom }.exceptionBlocking() shouldBeSameInstanceAs boom
            }
        }
    }
})
