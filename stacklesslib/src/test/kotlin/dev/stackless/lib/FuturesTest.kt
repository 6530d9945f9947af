package dev.stackless.lib

import dev.stackless.DeadlockException
import dev.stackless.Stackless
import dev.stackless.Tasklet
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.StringSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldStartWith
import io.kotest.matchers.types.shouldBeSameInstanceAs
import java.io.ByteArrayOutputStream
import java.io.IOException
import java.io.PrintStream
import java.util.concurrent.CancellationException
import java.util.concurrent.CountDownLatch
import kotlin.time.Duration
import kotlin.time.Duration.Companion.milliseconds

/** The fixtures of stacklesslib's test_futures: one future in each state. */
private class Fixtures {
    val pending = Future<Int>()
    val running = Future<Int>().apply { setRunningOrNotifyCancel() }
    val cancelled = Future<Int>().apply { cancel() }
    val error = IOException("boom")
    val failed = Future<Int>().apply { setRunningOrNotifyCancel(); setException(error) }
    val successful = Future<Int>().apply { setRunningOrNotifyCancel(); setResult(42) }
    val all = listOf(pending, running, cancelled, failed, successful)
}

/** What [block] printed on System.err. */
private fun capturedStderr(block: () -> Unit): String {
    val old = System.err
    val buf = ByteArrayOutputStream()
    System.setErr(PrintStream(buf, true))
    try {
        block()
    } finally {
        System.setErr(old)
    }
    return buf.toString()
}

class FuturesTest : StringSpec({
    "scenario 57: state predicates" {
        fresh {
            val f = Fixtures()
            f.all.map { it.cancelled } shouldBe listOf(false, false, true, false, false)
            f.all.map { it.done } shouldBe listOf(false, false, true, true, true)
            f.all.map { it.running } shouldBe listOf(false, true, false, false, false)
        }
    }

    "scenario 57: result(0) and exception(0)" {
        fresh {
            val f = Fixtures()
            for (x in listOf(f.pending, f.running)) {
                shouldThrow<TaskletTimeoutException> { x.resultBlocking(Duration.ZERO) }.message shouldBe "timed out after 0s"
                shouldThrow<TaskletTimeoutException> { x.exceptionBlocking(Duration.ZERO) }.message shouldBe "timed out after 0s"
            }
            shouldThrow<CancellationException> { f.cancelled.resultBlocking(Duration.ZERO) }.message shouldBe "the future was cancelled"
            shouldThrow<CancellationException> { f.cancelled.exceptionBlocking(Duration.ZERO) }.message shouldBe "the future was cancelled"
            shouldThrow<IOException> { f.failed.resultBlocking(Duration.ZERO) } shouldBeSameInstanceAs f.error
            f.failed.exceptionBlocking(Duration.ZERO) shouldBeSameInstanceAs f.error
            f.successful.resultBlocking(Duration.ZERO) shouldBe 42
            f.successful.exceptionBlocking(Duration.ZERO) shouldBe null
        }
    }

    "scenario 55: done callbacks registered before completion" {
        fresh {
            val seen = mutableListOf<Any?>()
            val r = Future<Int>().apply { setRunningOrNotifyCancel() }
            r.addDoneCallback { seen += it.resultBlocking() }
            r.setResult(5)
            val e = Future<Int>().apply { setRunningOrNotifyCancel() }
            e.addDoneCallback { seen += it.exceptionBlocking()!!.message }
            e.setException(Exception("test"))
            val c = Future<Int>()
            c.addDoneCallback { seen += it.cancelled }
            c.cancel() shouldBe true
            seen shouldBe listOf(5, "test", true)
        }
    }

    "scenario 55: done callbacks registered after completion run at once, once" {
        fresh {
            val seen = mutableListOf<Any?>()
            val r = Future<Int>().apply { setRunningOrNotifyCancel(); setResult(5) }
            r.addDoneCallback { seen += it.resultBlocking() }
            val e = Future<Int>().apply { setRunningOrNotifyCancel(); setException(Exception("test")) }
            e.addDoneCallback { seen += it.exceptionBlocking()!!.message }
            val c = Future<Int>()
            c.cancel() shouldBe true
            c.addDoneCallback { seen += it.cancelled }
            // Not kept (docs/stacklesslib.md §24.10): a later completion attempt calls nobody again.
            c.setResult(1)
            shouldThrow<IllegalStateException> { r.setResult(6) }
            seen shouldBe listOf(5, "test", true)
        }
    }

    "done callbacks run in registration order; removed ones do not run; failures are printed" {
        fresh {
            val log = mutableListOf<String>()
            val f = Future<String>()
            val a: (Future<String>) -> Unit = { log += "a:" + it.resultBlocking() }
            val b: (Future<String>) -> Unit = { log += "b"; throw IllegalArgumentException("doh!") }
            val c: (Future<String>) -> Unit = { log += "c" }
            f.addDoneCallback(a)
            f.addDoneCallback(b)
            f.addDoneCallback(c)
            f.addDoneCallback(a)
            f.removeDoneCallback(a)
            val err = capturedStderr { f.setResult("x") }
            log shouldBe listOf("b", "c", "a:x")
            err shouldStartWith "Exception in done callback of Future@"
            err.lines()[1] shouldBe "java.lang.IllegalArgumentException: doh!"
        }
    }

    "cancel() is false on a done future and changes nothing (docs/stacklesslib.md §24.9)" {
        fresh {
            val f = Fixtures()
            f.successful.cancel() shouldBe false
            f.successful.resultBlocking() shouldBe 42
            f.failed.cancel() shouldBe false
            f.failed.exceptionBlocking() shouldBeSameInstanceAs f.error
            f.cancelled.cancel() shouldBe false
            f.pending.cancel() shouldBe true
            f.running.cancel() shouldBe true
            f.running.cancelled shouldBe true
        }
    }

    "first completion wins: ignored after cancel, refused after finish" {
        fresh {
            val f = Fixtures()
            f.cancelled.setResult(1)
            f.cancelled.setException(IOException())
            f.cancelled.cancelled shouldBe true
            shouldThrow<IllegalStateException> { f.successful.setResult(1) }.message!! shouldStartWith
                "the future is already done: Future@"
            shouldThrow<IllegalStateException> { f.failed.setException(IOException()) }.message!! shouldStartWith
                "the future is already done: Future@"
            f.successful.resultBlocking() shouldBe 42
            f.cancelled.setRunningOrNotifyCancel() shouldBe false
            shouldThrow<IllegalStateException> { f.running.setRunningOrNotifyCancel() }.message!! shouldStartWith
                "the future has already started: Future@"
            f.pending.setResult(3)
            f.pending.resultBlocking() shouldBe 3
        }
    }

    "toString names the state" {
        fresh {
            val f = Fixtures()
            f.all.map { it.toString().substringAfter("(") } shouldBe listOf(
                "pending)", "running)", "cancelled)", "finished raised IOException)", "finished returned Integer)",
            )
        }
    }

    "a waiting tasklet leaves the run queue and wakes with the result" {
        fresh {
            val log = mutableListOf<String>()
            val f = Future<String>()
            stackless {
                val waiter = Tasklet { log += "wait"; log += "got " + f.result() }.setup()
                Tasklet {
                    log += "other"
                    waiter.paused shouldBe true
                    f.setResult("x")
                    log += "set"
                }.setup()
            }
            log shouldBe listOf("wait", "other", "set", "got x")
        }
    }

    "waiters get the original exception and the cancellation" {
        fresh {
            val boom = IOException("boom")
            val f1 = Future<Int>()
            val f2 = Future<Int>()
            val got = mutableListOf<Throwable>()
            stackless {
                Tasklet { got += shouldThrow<IOException> { f1.result() } }.setup()
                Tasklet { got += shouldThrow<CancellationException> { f2.result() } }.setup()
                Tasklet { f1.setException(boom); f2.cancel() }.setup()
            }
            got[0] shouldBeSameInstanceAs boom
            got[1].message shouldBe "the future was cancelled"
        }
    }

    "result(timeout) times out, and the result is not lost for later" {
        fresh {
            val f = Future<Int>()
            val log = mutableListOf<String>()
            stackless {
                val t0 = System.nanoTime()
                val e = shouldThrow<TaskletTimeoutException> { f.result(20.milliseconds) }
                (System.nanoTime() - t0 >= 20_000_000) shouldBe true
                log += e.message!!
                Tasklet { log += "second " + f.result(1000.milliseconds) }.setup()
                Tasklet { f.setResult(7) }.setup()
            }
            log shouldBe listOf("timed out after 20ms", "second 7")
            f.resultBlocking() shouldBe 7
        }
    }

    "an enclosing timeout and a kill end a wait; the others still get the result" {
        fresh {
            val f = Future<Int>()
            val log = mutableListOf<String>()
            stackless {
                Tasklet {
                    try {
                        timeout(10.milliseconds) { f.result() }
                    } catch (e: TaskletTimeoutException) {
                        log += "timeout: " + e.message
                    }
                }.setup()
                val victim = Tasklet {
                    try {
                        f.result()
                    } finally {
                        log += "killed"
                    }
                }.setup()
                Tasklet { log += "third " + f.result() }.setup()
                Tasklet {
                    sleep(30.milliseconds)
                    victim.kill()
                    f.setResult(9)
                    log += "set"
                }.setup()
            }
            log shouldBe listOf("timeout: timed out after 10ms", "killed", "set", "third 9")
        }
    }

    "the main tasklet waits with resultBlocking while tasklets run" {
        fresh {
            val f = Future<String>()
            Tasklet { sleep(5.milliseconds); f.setResult("done") }.setup()
            f.resultBlocking() shouldBe "done"
        }
    }

    "the main tasklet waiting for a thread parks its thread, it does not poll" {
        fresh {
            val main = Thread.currentThread()
            ThreadPoolExecutor(1).use { ex ->
                // The job ends once it has seen the waiting thread parked (or after a generous while).
                val sawParked = ex.submit {
                    val deadline = System.nanoTime() + 10_000_000_000
                    while (main.state != Thread.State.WAITING && System.nanoTime() < deadline) Thread.sleep(1)
                    main.state == Thread.State.WAITING
                }
                sawParked.resultBlocking() shouldBe true
                val f = ex.submit { 5 }
                waitBlocking(listOf(f)).done shouldBe setOf(f)
            }
        }
    }

    "the main tasklet alone waiting for a future nothing can complete gets a deadlock" {
        fresh {
            val f = Future<Int>()
            shouldThrow<DeadlockException> { f.resultBlocking() }.message shouldBe
                "Deadlock: the main tasklet waits for $f, which nothing can complete " +
                "(a future completed by another thread must be marked with setRunningOrNotifyCancel() there)."
            shouldThrow<DeadlockException> { waitBlocking(listOf(f, Future())) }.message!! shouldStartWith
                "Deadlock: the main tasklet waits for 2 futures (Future@"
            // With a time limit, the timer is what it waits for.
            shouldThrow<TaskletTimeoutException> { f.resultBlocking(5.milliseconds) }.message shouldBe "timed out after 5ms"
        }
    }

    "a future completed by a plain thread wakes a waiting tasklet" {
        fresh {
            val f = Future<String>()
            val started = CountDownLatch(1)
            val go = CountDownLatch(1)
            val thread = Thread {
                f.setRunningOrNotifyCancel()
                started.countDown()
                go.await()
                f.setResult(Thread.currentThread().name)
            }
            thread.name = "completer"
            thread.start()
            started.await()
            var got = ""
            stackless {
                Tasklet { got = f.result() }.setup()
                Tasklet { go.countDown() }.setup()
            }
            got shouldBe "completer"
            thread.join()
        }
    }

    "tasklets of two threads wait for one future" {
        val f = Future<Int>()
        // A plain thread completes it: it says so, or the waiting threads would report a deadlock.
        f.setRunningOrNotifyCancel()
        val results = java.util.Collections.synchronizedList(mutableListOf<Int>())
        val threads = (1..2).map { i ->
            Thread {
                stackless { results += f.result() * i }
            }.apply { start() }
        }
        Thread.sleep(20)
        f.setResult(21)
        threads.forEach { it.join(10_000) }
        results.sorted() shouldBe listOf(21, 42)
    }

    "cancelling a running tasklet future kills its runner" {
        fresh {
            val log = mutableListOf<String>()
            TaskletExecutor().use { ex ->
                stackless {
                    val f = ex.submit {
                        log += "start"
                        try {
                            sleep(10_000.milliseconds)
                            log += "not reached"
                        } finally {
                            log += "runner finally"
                        }
                    }
                    Stackless.schedule()
                    f.running shouldBe true
                    f.cancel() shouldBe true
                    log += "cancelled"
                    f.cancelled shouldBe true
                    shouldThrow<CancellationException> { f.result() }
                    log += "waiter done"
                    f.cancel() shouldBe false
                }
            }
            // result() of a done future does not switch: the runner unwinds after the canceller went on.
            log shouldBe listOf("start", "cancelled", "waiter done", "runner finally")
        }
    }

    "a cancelled pending tasklet future never runs" {
        fresh {
            var ran = false
            TaskletExecutor().use { ex ->
                stackless {
                    val f = ex.submit { ran = true }
                    f.cancel() shouldBe true
                }
            }
            ran shouldBe false
        }
    }
})
