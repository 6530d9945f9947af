package dev.stackless.lib

import dev.stackless.Channel
import dev.stackless.Stackless
import dev.stackless.Tasklet
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.StringSpec
import io.kotest.matchers.shouldBe
import java.util.concurrent.CancellationException
import kotlin.time.Duration.Companion.milliseconds

class CancellableTest : StringSpec({
    "a cancel from another tasklet ends the block at once with its args (scenario 39)" {
        fresh {
            val h = Cancellable()
            val log = mutableListOf<String>()
            var caught: TaskletCancelledException? = null
            stackless {
                Tasklet {
                    log += "cancelled before: ${h.cancelled}"
                    h.cancel("foo", "bar")
                    log += "cancelled after: ${h.cancelled}"
                }.setup()
                log += "outside: ${h.cancelled}"
                caught = shouldThrow<TaskletCancelledException> {
                    h.run { Channel<Int>().receive() }
                }
                log += "caught"
            }
            log shouldBe listOf("outside: false", "cancelled before: false", "caught", "cancelled after: true")
            val e = caught!!
            CancellationException::class.java.isInstance(e) shouldBe true
            e.args shouldBe listOf("foo", "bar")
            e.message shouldBe "cancelled: foo, bar"
            h.cancelled shouldBe true
            h.match(e) shouldBe true
            (h.exception === e) shouldBe true
        }
    }

    "cancelBlocking from another tasklet, the handle used from the main tasklet with runBlocking" {
        fresh {
            val h = Cancellable()
            Tasklet { h.cancelBlocking("x") }.setup()
            val e = shouldThrow<TaskletCancelledException> { h.runBlocking { Channel<Int>().receiveBlocking() } }
            e.message shouldBe "cancelled: x"
            h.match(e) shouldBe true
        }
    }

    "a cancel of the inner handle is converted by the inner one, of the outer by the outer (scenario 39)" {
        fresh {
            val results = mutableListOf<String>()
            stackless {
                for (which in listOf("inner", "outer")) {
                    val outer = Cancellable()
                    val inner = Cancellable()
                    var caughtInside: Throwable? = null
                    Tasklet { (if (which == "inner") inner else outer).cancel(which) }.setup()
                    val e = shouldThrow<TaskletCancelledException> {
                        outer.run {
                            try {
                                inner.run { Channel<Int>().receive() }
                            } catch (e: Exception) {
                                caughtInside = e
                                throw e
                            }
                        }
                    }
                    results += "$which: inner=${inner.match(e)} outer=${outer.match(e)} " +
                        "handler saw ${caughtInside?.let { it::class.simpleName }}"
                }
            }
            results shouldBe listOf(
                "inner: inner=true outer=false handler saw TaskletCancelledException",
                "outer: inner=false outer=true handler saw null",
            )
        }
    }

    "a timeout passes through a cancellable; a cancel passes through a timeout" {
        fresh {
            val h1 = Cancellable()
            val h2 = Cancellable()
            stackless {
                val t = shouldThrow<TaskletTimeoutException> { timeout(5.milliseconds) { h1.run { sleep(1000.milliseconds) } } }
                t.message shouldBe "timed out after 5ms"
                h1.cancelled shouldBe false
                MainLoop.callLater(1.milliseconds) { h2.cancelPending("late") }
                val c = shouldThrow<TaskletCancelledException> { h2.run { timeout(1000.milliseconds) { sleep(1000.milliseconds) } } }
                c.args shouldBe listOf("late")
            }
        }
    }

    "cancelling oneself raises at once (scenario 41)" {
        fresh {
            val log = mutableListOf<String>()
            val h = Cancellable()
            val hb = Cancellable()
            stackless {
                val e = shouldThrow<TaskletCancelledException> {
                    h.run {
                        log += "inside"
                        h.cancel()
                        log += "not reached"
                    }
                }
                e.message shouldBe "cancelled"
                e.args shouldBe emptyList()
                h.cancelled shouldBe true
                shouldThrow<TaskletCancelledException> { hb.runBlocking { hb.cancelBlocking(1); log += "not reached" } }
                    .args shouldBe listOf(1)
            }
            log shouldBe listOf("inside")
        }
    }

    "a cancel before entering or after leaving does nothing (scenario 41)" {
        fresh {
            val h = Cancellable()
            stackless {
                h.cancel()
                h.cancelled shouldBe false
                h.run { 42 } shouldBe 42
                h.cancel("after")
                h.cancelBlocking()
                h.cancelPending()
                h.cancelled shouldBe false
                h.run { "again" } shouldBe "again"
            }
        }
    }

    "match is identity (scenario 41)" {
        val h = Cancellable()
        h.match(TaskletCancelledException()) shouldBe false
        h.match(CancellationException()) shouldBe false
        h.match(TaskletCancelledException::class) shouldBe false
        h.match(1) shouldBe false
        h.match("fpp") shouldBe false
        h.match(null) shouldBe false
    }

    "one tasklet inside at a time; a cancelled handle is spent" {
        fresh {
            val h = Cancellable()
            stackless {
                val e = shouldThrow<IllegalStateException> { h.run { h.run { 1 } } }
                e.message!!.endsWith("is already inside this Cancellable") shouldBe true
                shouldThrow<TaskletCancelledException> { h.run { h.cancel() } }
                shouldThrow<IllegalStateException> { h.run { 1 } }.message shouldBe "this Cancellable was cancelled; use a new one"
            }
        }
    }

    "cancelPending from a timer callback interrupts a sleep" {
        fresh {
            val h = Cancellable()
            var waited = 0L
            stackless {
                val t0 = System.nanoTime() // before the timer is made: its deadline is then >= t0 + 2 ms
                MainLoop.callLater(2.milliseconds) { h.cancelPending("timer") }
                shouldThrow<TaskletCancelledException> { h.run { sleep(1000.milliseconds) } }.args shouldBe listOf("timer")
                waited = System.nanoTime() - t0
            }
            (waited >= 2_000_000) shouldBe true
            MainLoop.pendingTimers shouldBe 0
        }
    }

    "cancelBlocking from a timer callback cannot switch: it throws, the cancel still arrives" {
        fresh {
            val h = Cancellable()
            val log = mutableListOf<String>()
            stackless {
                MainLoop.callLater(1.milliseconds) {
                    try {
                        h.cancelBlocking("from a timer")
                        log += "switched"
                    } catch (e: RuntimeException) {
                        // IllegalStateException, or a NullPointerException from the core when the
                        // timer runs while no tasklet is current (reported separately).
                        log += "refused to switch"
                    }
                }
                val e = shouldThrow<TaskletCancelledException> { h.run { sleep(1000.milliseconds) } }
                log += e.message!!
            }
            log shouldBe listOf("refused to switch", "cancelled: from a timer")
        }
    }

    "a value received just before the cancel is kept; the cancel comes at the next switch point" {
        fresh {
            val log = mutableListOf<String>()
            val h = Cancellable()
            stackless {
                val ch = Channel<Int>().also { it.preference = 1 } // the sender goes on: the receiver has its value, not yet run
                Tasklet {
                    ch.send(7)
                    h.cancel("now")
                    log += "canceller done"
                }.setup()
                val e = shouldThrow<TaskletCancelledException> {
                    h.run {
                        log += "got ${ch.receive()}"
                        Stackless.schedule()
                        log += "not reached"
                    }
                }
                log += e.message!!
            }
            log shouldBe listOf("got 7", "cancelled: now", "canceller done")
            h.cancelled shouldBe true
        }
    }

    "a cancel that finds the block ending before its next switch point is taken back" {
        fresh {
            val log = mutableListOf<String>()
            val h = Cancellable()
            stackless {
                val ch = Channel<Int>().also { it.preference = 1 }
                Tasklet {
                    ch.send(7)
                    h.cancel("too late")
                    log += "cancelled: ${h.cancelled}"
                }.setup()
                val r = h.run { ch.receive() }
                log += "returned $r"
                Stackless.schedule() // no stray cancel afterwards
                log += "went on"
            }
            log shouldBe listOf("returned 7", "cancelled: false", "went on")
            h.cancelled shouldBe false
            h.exception shouldBe null
        }
    }

    "a cancel from another thread is refused" {
        fresh {
            val h = Cancellable()
            var refused: Throwable? = null
            h.runBlocking {
                val other = Thread { refused = runCatching { h.cancelBlocking() }.exceptionOrNull() }
                other.start()
                other.join()
            }
            (refused is IllegalStateException) shouldBe true
            refused!!.message!!.startsWith("a Cancellable is cancelled on the thread of the tasklet inside") shouldBe true
            h.cancelled shouldBe false
        }
    }
})
