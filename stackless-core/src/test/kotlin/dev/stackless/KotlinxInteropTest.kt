package dev.stackless

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.StringSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldStartWith
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.asCoroutineDispatcher
import java.util.concurrent.Executors
import kotlinx.coroutines.TimeoutCancellationException
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.flow
import kotlinx.coroutines.flow.map
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeout
import kotlinx.coroutines.yield

/** Tasklets calling kotlinx.coroutines: the scheduler is their dispatcher and their Delay. */
class KotlinxInteropTest : StringSpec({
    "delay in tasklets uses the scheduler's timers and keeps deadline order" {
        fresh {
            val log = mutableListOf<String>()
            val self = Thread.currentThread()
            for ((name, ms) in listOf("c" to 30L, "a" to 10L, "b" to 20L)) {
                Tasklet {
                    delay(ms)
                    log += name + (Thread.currentThread() === self)
                }.setup()
            }
            Stackless.runAll()
            log shouldBe listOf("atrue", "btrue", "ctrue")
        }
    }

    "other tasklets run while one waits in delay" {
        fresh {
            val log = mutableListOf<String>()
            Tasklet { log += "d1"; delay(20); log += "d2" }.setup()
            Tasklet { repeat(3) { log += "s$it"; Stackless.schedule() } }.setup()
            Stackless.runAll()
            log shouldBe listOf("d1", "s0", "s1", "s2", "d2")
        }
    }

    "withTimeout cancels a delay" {
        fresh {
            var caught: Throwable? = null
            Tasklet {
                caught = runCatching { withTimeout(10) { delay(10_000) } }.exceptionOrNull()
            }.setup()
            Stackless.runAll()
            (caught is TimeoutCancellationException) shouldBe true
            caught!!.message shouldBe "Timed out waiting for 10 ms"
        }
    }

    "withContext(Dispatchers.IO) returns to the tasklet's thread in queue order" {
        fresh {
            val self = Thread.currentThread()
            val log = mutableListOf<String>()
            // The block waits until the other tasklet has run: if it finished before withContext
            // suspended, withContext would return at once, without leaving the run queue.
            val otherRan = java.util.concurrent.CountDownLatch(1)
            Tasklet {
                val where = withContext(Dispatchers.IO) {
                    check(otherRan.await(10, java.util.concurrent.TimeUnit.SECONDS)) { "the other tasklet never ran" }
                    Thread.currentThread().name
                }
                where shouldStartWith "DefaultDispatcher"
                log += "io back on self: ${Thread.currentThread() === self}"
            }.setup()
            Tasklet {
                log += "other"
                otherRan.countDown()
            }.setup()
            Stackless.runAll()
            log shouldBe listOf("other", "io back on self: true")
        }
    }

    "a tasklet collects a flow with delays" {
        fresh {
            var got: List<Int> = emptyList()
            Tasklet {
                got = flow { for (i in 1..3) { delay(1); emit(i) } }.map { it * 10 }.toList()
            }.setup()
            Stackless.runAll()
            got shouldBe listOf(10, 20, 30)
        }
    }

    "yield() sends the tasklet to the end of the round" {
        fresh {
            val log = mutableListOf<String>()
            Tasklet { log += "a1"; yield(); log += "a2" }.setup()
            Tasklet { log += "b1"; Stackless.schedule(); log += "b2" }.setup()
            Stackless.runAll()
            log shouldBe listOf("a1", "b1", "a2", "b2")
        }
    }

    "kill of a tasklet in delay ends it at once" {
        fresh {
            val log = mutableListOf<String>()
            val t = Tasklet {
                try {
                    delay(60_000)
                } catch (e: TaskletExit) {
                    log += "exit"
                    throw e
                }
            }.setup()
            Stackless.run()
            t.alive shouldBe true
            t.paused shouldBe false
            t.toString() shouldBe "Tasklet(${t.name}, waiting in a kotlinx.coroutines suspension)"
            shouldThrow<IllegalStateException> { t.insert() }.message shouldBe
                "You cannot run a tasklet waiting in a kotlinx.coroutines suspension"
            t.killBlocking()
            log shouldBe listOf("exit")
            t.alive shouldBe false
        }
    }

    "Stackless channels inside withContext(another dispatcher) act as from a plain thread" {
        // A thread of its own that ends with the test: a live thread that once used a channel
        // counts as able to send, which would keep later tests from seeing their deadlocks.
        var worker: Thread? = null
        val pool = Executors.newSingleThreadExecutor { r -> Thread(r, "interop worker").also { worker = it } }
        try {
            fresh {
                val ch = Channel<Int>()
                var got = 0
                Tasklet { got = ch.receive() }.setup()
                Tasklet { withContext(pool.asCoroutineDispatcher()) { ch.sendBlocking(42) } }.setup()
                Stackless.runAll()
                got shouldBe 42
            }
        } finally {
            pool.shutdown()
            worker?.join()
        }
    }

    "main blocked in receiveBlocking waits for a delayed sender instead of a deadlock" {
        fresh {
            val ch = Channel<String>()
            Tasklet { delay(20); ch.send("late") }.setup()
            ch.receiveBlocking() shouldBe "late"
        }
    }
})
