package dev.stackless.lib

import dev.stackless.Channel
import dev.stackless.DeadlockException
import dev.stackless.Stackless
import dev.stackless.Tasklet
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.StringSpec
import io.kotest.matchers.ints.shouldBeLessThanOrEqual
import io.kotest.matchers.longs.shouldBeGreaterThanOrEqual
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.types.shouldBeInstanceOf
import java.io.ByteArrayOutputStream
import java.io.PrintStream
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import kotlin.time.Duration
import kotlin.time.Duration.Companion.hours
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds

/** Runs [block] with System.err captured; returns what it printed. */
private fun captureErr(block: () -> Unit): String {
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

class MainLoopTest : StringSpec({
    "callSoon runs callbacks in FIFO order" {
        fresh {
            val log = mutableListOf<String>()
            for (s in listOf("a", "b", "c", "d")) MainLoop.callSoon { log += s }
            MainLoop.pendingTimers shouldBe 4
            MainLoop.run()
            log shouldBe listOf("a", "b", "c", "d")
            MainLoop.pendingTimers shouldBe 0
        }
    }

    "callLater runs by deadline, equal delays in the order they were added" {
        fresh {
            val log = mutableListOf<String>()
            val t0 = System.nanoTime()
            MainLoop.callLater(60.milliseconds) { log += "c1" }
            MainLoop.callLater(20.milliseconds) { log += "a1" }
            MainLoop.callLater(40.milliseconds) { log += "b" }
            MainLoop.callLater(20.milliseconds) { log += "a2" }
            MainLoop.callLater(60.milliseconds) { log += "c2" }
            MainLoop.callSoon { log += "soon" }
            MainLoop.run()
            (System.nanoTime() - t0) shouldBeGreaterThanOrEqual 60_000_000L
            log shouldBe listOf("soon", "a1", "a2", "b", "c1", "c2")
        }
    }

    "callLater with a negative delay counts as zero" {
        fresh {
            val log = mutableListOf<String>()
            MainLoop.callLater(5.milliseconds) { log += "later" }
            MainLoop.callLater((-5).seconds) { log += "negative" }
            MainLoop.run()
            log shouldBe listOf("negative", "later")
        }
    }

    "callRepeatedly re-arms after each run and stops when cancelled from its callback" {
        fresh {
            var n = 0
            var h: Handle? = null
            val t0 = System.nanoTime()
            h = MainLoop.callRepeatedly(5.milliseconds) {
                n++
                if (n == 3) h!!.cancel() shouldBe true
            }
            h.isPending shouldBe true
            MainLoop.run()
            (System.nanoTime() - t0) shouldBeGreaterThanOrEqual 15_000_000L
            n shouldBe 3
            h.isPending shouldBe false
            h.cancel() shouldBe false
            MainLoop.pendingTimers shouldBe 0
        }
    }

    "callRepeatedly keeps running while the loop sleeps, until cancelled" {
        fresh {
            var n = 0
            val h = MainLoop.callRepeatedly(2.milliseconds) { n++ }
            stackless {
                sleep(30.milliseconds)
                h.cancel() shouldBe true
            }
            val seen = n
            (seen >= 1) shouldBe true
            stackless { sleep(10.milliseconds) }
            n shouldBe seen
        }
    }

    "callRepeatedly rejects an interval that is not positive" {
        fresh {
            shouldThrow<IllegalArgumentException> { MainLoop.callRepeatedly(Duration.ZERO) {} }.message shouldBe
                "interval must be positive: 0s"
            shouldThrow<IllegalArgumentException> { MainLoop.callRepeatedly((-1).milliseconds) {} }.message shouldBe
                "interval must be positive: -1ms"
        }
    }

    "Handle.cancel is true once while waiting, false after it ran or was cancelled" {
        fresh {
            val log = mutableListOf<String>()
            val a = MainLoop.callSoon { log += "a" }
            val b = MainLoop.callSoon { log += "b" }
            b.cancel() shouldBe true
            b.cancel() shouldBe false
            b.isPending shouldBe false
            MainLoop.pump() shouldBe 1
            a.isPending shouldBe false
            a.cancel() shouldBe false
            log shouldBe listOf("a")
        }
    }

    "a callback's exception is printed and the other callbacks still run" {
        fresh {
            val log = mutableListOf<String>()
            val err = captureErr {
                MainLoop.callSoon { log += "a" }
                MainLoop.callSoon(object : Runnable {
                    override fun run() = throw IllegalStateException("boom")
                    override fun toString() = "the bad callback"
                })
                MainLoop.callSoon { log += "c" }
                MainLoop.pump() shouldBe 3
            }
            log shouldBe listOf("a", "c")
            err shouldContain "Exception in timer callback the bad callback:"
            err shouldContain "java.lang.IllegalStateException: boom"
        }
    }

    "callbacks added by a callback run at the next pump, not the current one" {
        fresh {
            val log = mutableListOf<String>()
            MainLoop.callSoon {
                log += "a"
                MainLoop.callSoon { log += "c" }
            }
            MainLoop.callSoon { log += "b" }
            MainLoop.pump() shouldBe 2
            log shouldBe listOf("a", "b")
            MainLoop.pump() shouldBe 1
            log shouldBe listOf("a", "b", "c")
            MainLoop.pump() shouldBe 0
        }
    }

    "a callback that tries to switch gets IllegalStateException" {
        fresh {
            val errors = mutableListOf<Throwable>()
            val ch = Channel<Int>()
            MainLoop.callSoon {
                try {
                    ch.sendBlocking(1)
                } catch (e: IllegalStateException) {
                    errors += e
                }
            }
            MainLoop.callSoon {
                try {
                    Stackless.scheduleBlocking()
                } catch (e: IllegalStateException) {
                    errors += e
                }
            }
            MainLoop.callSoon {
                try {
                    sleepBlocking(1.milliseconds)
                } catch (e: IllegalStateException) {
                    errors += e
                }
            }
            MainLoop.run()
            errors.map { it.message } shouldBe List(3) { "A timer callback cannot switch tasklets or use a channel (current: main)" }
            ch.balance shouldBe 0
            MainLoop.pendingTimers shouldBe 0
        }
    }

    "run() and runOnce() refuse to run inside a timer callback" {
        fresh {
            val errors = mutableListOf<String?>()
            MainLoop.callSoon { errors += shouldThrow<IllegalStateException> { MainLoop.run() }.message }
            MainLoop.callSoon { errors += shouldThrow<IllegalStateException> { MainLoop.runOnce() }.message }
            MainLoop.run()
            errors shouldBe listOf(
                "MainLoop.run() cannot run inside a timer callback",
                "MainLoop.runOnce() cannot run inside a timer callback",
            )
        }
    }

    "a callback may create and insert tasklets" {
        fresh {
            val log = mutableListOf<String>()
            val paused = Tasklet { log += "inserted" }.setup()
            paused.remove()
            MainLoop.callLater(5.milliseconds) {
                Tasklet { log += "created" }.setup()
                paused.insert()
            }
            MainLoop.run()
            log shouldBe listOf("created", "inserted")
        }
    }

    // Core: Scheduler.throwTo calls attend() before looking at `pending`, so a pending throw or kill
    // from a timer callback fails with "A timer callback cannot switch tasklets", although it does
    // not switch and the MainLoop documentation allows it.
    "a callback may throw pending to a tasklet" {
        fresh {
            var caught: Throwable? = null
            stackless {
                val t = Tasklet {
                    caught = runCatching { sleep(200.milliseconds) }.exceptionOrNull()
                }.setup()
                MainLoop.callLater(5.milliseconds) { t.throwExceptionBlocking(IllegalArgumentException("from a callback"), pending = true) }
            }
            caught.shouldBeInstanceOf<IllegalArgumentException>().message shouldBe "from a callback"
        }
    }

    "stop() from a repeating callback ends run()" {
        fresh {
            var n = 0
            val h = MainLoop.callRepeatedly(2.milliseconds) {
                n++
                if (n == 3) MainLoop.stop()
            }
            MainLoop.run()
            n shouldBe 3
            h.isPending shouldBe true
            h.cancel() shouldBe true
        }
    }

    "stop() from a tasklet ends run() while another tasklet still sleeps" {
        fresh {
            val sleeper = Tasklet { sleep(1.hours) }.setup()
            Tasklet {
                sleep(5.milliseconds)
                MainLoop.stop()
            }.setup()
            MainLoop.run()
            sleeper.alive shouldBe true
            sleeper.killBlocking()
            sleeper.alive shouldBe false
            MainLoop.pendingTimers shouldBe 0
        }
    }

    "stop() from a hard tasklet ends run() of its thread's loop" {
        fresh {
            val sleeper = Tasklet { sleep(1.hours) }.setup()
            Tasklet.of { MainLoop.stop() }.setup()
            MainLoop.run()
            sleeper.alive shouldBe true
            sleeper.killBlocking()
        }
    }

    "run() returns at once when nothing is left, and after the last tasklet and timer" {
        fresh {
            MainLoop.run()
            val log = mutableListOf<String>()
            Tasklet {
                sleep(5.milliseconds)
                log += "slept"
            }.setup()
            MainLoop.callLater(10.milliseconds) { log += "timer" }
            MainLoop.run()
            log shouldBe listOf("slept", "timer")
            Stackless.runCount shouldBe 1
            MainLoop.pendingTimers shouldBe 0
        }
    }

    "runOnce waits for a timer, runs it and returns" {
        fresh {
            var n = 0
            val h = MainLoop.callRepeatedly(2.milliseconds) { n++ }
            MainLoop.runOnce()
            n shouldBe 1
            MainLoop.runOnce()
            n shouldBe 2
            h.cancel() shouldBe true
            MainLoop.runOnce()
            n shouldBe 2
        }
    }

    "runOnce returns when a one-shot callback ran although a later timer waits" {
        fresh {
            val log = mutableListOf<String>()
            MainLoop.callLater(2.milliseconds) { log += "first" }
            val far = MainLoop.callLater(1.hours) { log += "far" }
            MainLoop.runOnce()
            log shouldBe listOf("first")
            far.cancel() shouldBe true
        }
    }

    "run(), runOnce() and stackless {} refuse to run inside a tasklet; pump() works there" {
        fresh {
            val errors = mutableListOf<String?>()
            var pumped = -1
            var ran = false
            MainLoop.callSoon { ran = true }
            Tasklet {
                errors += shouldThrow<IllegalStateException> { MainLoop.run() }.message
                errors += shouldThrow<IllegalStateException> { MainLoop.runOnce() }.message
                pumped = MainLoop.pump()
            }.apply { name = "t1" }.setup()
            Stackless.run()
            errors shouldBe listOf(
                "MainLoop.run() runs the loop from the main tasklet, not from Tasklet(t1, current); use pump() in a tasklet",
                "MainLoop.runOnce() runs the loop from the main tasklet, not from Tasklet(t1, current); use pump() in a tasklet",
            )
            pumped shouldBe 1
            ran shouldBe true
        }
    }

    // StacklessBlock.kt sets the tasklet up before MainLoop.run() checks where it is called from.
    "stackless {} inside a tasklet leaves no tasklet behind" {
        fresh {
            var ran = false
            stackless {
                shouldThrow<IllegalStateException> { stackless { ran = true } }
            }
            ran shouldBe false
        }
    }

    "stackless {} reports a tasklet blocked forever as a deadlock" {
        fresh {
            val ch = Channel<Int>()
            val e = shouldThrow<DeadlockException> {
                stackless {
                    Tasklet { ch.receive() }.apply { name = "t1" }.setup()
                }
            }
            e.message shouldBe "Deadlock: every tasklet is blocked and no timer is pending.\n  t1 is blocked receiving on $ch"
        }
    }

    "a pending timer keeps the main tasklet's blocking receive from being a deadlock" {
        fresh {
            val ch = Channel<Int>()
            Tasklet {
                sleep(20.milliseconds)
                ch.send(42)
            }.setup()
            val t0 = System.nanoTime()
            ch.receiveBlocking() shouldBe 42
            (System.nanoTime() - t0) shouldBeGreaterThanOrEqual 20_000_000L
        }
    }

    "a tasklet alone in the queue sees due timers at its next schedule()" {
        fresh {
            var flag = false
            var yields = 0
            MainLoop.callSoon { flag = true }
            Tasklet {
                while (!flag) {
                    yields++
                    Stackless.schedule()
                }
            }.setup()
            Stackless.run()
            yields shouldBe 1
        }
    }

    "tasklets that only yield to each other see due timers within 64 resumes" {
        fresh {
            var flag = false
            var yields = 0
            MainLoop.callSoon { flag = true }
            repeat(2) {
                Tasklet {
                    while (!flag) {
                        yields++
                        Stackless.schedule()
                    }
                }.setup()
            }
            Stackless.run()
            yields shouldBeLessThanOrEqual 64
        }
    }

    "scenario 45: a busy tasklet yielding with sleep(0) runs to the end; run never returns a tasklet" {
        fresh {
            var sum = 0L
            val t = Tasklet {
                repeat(1000) {
                    for (i in 0 until 1000) sum += i
                    sleep(Duration.ZERO)
                }
            }.setup()
            var rounds = 0
            while (t.alive) {
                MainLoop.pump()
                Stackless.run() shouldBe null
                rounds++
            }
            sum shouldBe 1000L * 499_500L
            (rounds >= 1) shouldBe true
            Tasklet {
                repeat(100) { sleep(Duration.ZERO) }
            }.setup()
            MainLoop.runOnce()
            Stackless.runCount shouldBe 1
        }
    }

    "a Handle cancelled from another thread while the loop is parked" {
        fresh {
            var ran = false
            val h = MainLoop.callLater(1.hours) { ran = true }
            var answer: Boolean? = null
            val canceller = Thread {
                Thread.sleep(20)
                answer = h.cancel()
            }
            canceller.start()
            MainLoop.run()
            canceller.join()
            answer shouldBe true
            ran shouldBe false
            h.isPending shouldBe false
            MainLoop.pendingTimers shouldBe 0
        }
    }

    "a worker thread with its own MainLoop runs its callbacks on its own thread" {
        fresh {
            val mainThread = Thread.currentThread()
            val log = mutableListOf<String>()
            var ranOn: Thread? = null
            var workerPending = -1
            val done = CountDownLatch(1)
            val worker = Thread({
                MainLoop.callLater(10.milliseconds) {
                    ranOn = Thread.currentThread()
                    log += "worker"
                }
                workerPending = MainLoop.pendingTimers
                MainLoop.run()
                done.countDown()
            }, "loop worker")
            MainLoop.pendingTimers shouldBe 0
            MainLoop.callLater(1.milliseconds) { log += "main" }
            worker.start()
            done.await(10, TimeUnit.SECONDS) shouldBe true
            worker.join()
            workerPending shouldBe 1
            ranOn shouldBe worker
            MainLoop.pendingTimers shouldBe 1
            MainLoop.run()
            log shouldBe listOf("worker", "main")
            (ranOn !== mainThread) shouldBe true
        }
    }
})
