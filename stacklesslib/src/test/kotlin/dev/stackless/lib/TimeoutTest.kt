package dev.stackless.lib

import dev.stackless.Channel
import dev.stackless.Stackless
import dev.stackless.Tasklet
import dev.stackless.TaskletExit
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.StringSpec
import io.kotest.matchers.longs.shouldBeGreaterThanOrEqual
import io.kotest.matchers.nulls.shouldBeNull
import io.kotest.matchers.shouldBe
import io.kotest.matchers.types.shouldBeInstanceOf
import kotlin.time.Duration
import kotlin.time.Duration.Companion.hours
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds

/** Switch points after a timeout scope ended: a stray interrupt would be thrown from one of them. */
private suspend fun switchPointsAfterScope() {
    repeat(3) { Stackless.schedule() }
    sleep(20.milliseconds)
    val ch = Channel<Int>()
    Tasklet { ch.send(1) }.setup()
    ch.receive() shouldBe 1
    sleep(Duration.ZERO)
}

/** Blocks the thread (no switch) until [nanos] have passed since [t0], so that timers are due. */
private fun busyUntil(t0: Long, nanos: Long) {
    while (System.nanoTime() - t0 < nanos) Thread.sleep(1)
}

class TimeoutTest : StringSpec({
    "scenario 25: a body that completes returns its value and nothing fires later" {
        fresh {
            var r: String? = null
            stackless {
                r = timeout(10.milliseconds) { "hullo" }
                MainLoop.pendingTimers shouldBe 0
                sleep(30.milliseconds)
                switchPointsAfterScope()
            }
            r shouldBe "hullo"
        }
    }

    "scenario 27: a timeout interrupts a sleep, no earlier than the limit" {
        fresh {
            var caught: Throwable? = null
            var waited = 0L
            stackless {
                val t0 = System.nanoTime()
                caught = shouldThrow<TaskletTimeoutException> { timeout(10.milliseconds) { sleep(1.hours) } }
                waited = System.nanoTime() - t0
                MainLoop.pendingTimers shouldBe 0
            }
            caught!!.message shouldBe "timed out after 10ms"
            waited shouldBeGreaterThanOrEqual 10_000_000L
        }
    }

    "scenario 27: a timeout interrupts a tasklet blocked in a channel receive, which leaves the channel" {
        fresh {
            val ch = Channel<Int>()
            var caught: Throwable? = null
            stackless {
                caught = shouldThrow<TaskletTimeoutException> { timeout(10.milliseconds) { ch.receive() } }
                ch.balance shouldBe 0
                switchPointsAfterScope()
            }
            caught!!.message shouldBe "timed out after 10ms"
        }
    }

    "a timeout interrupts a tasklet blocked in a channel send; the value is not delivered" {
        fresh {
            val ch = Channel<String>()
            var caught: Throwable? = null
            stackless {
                caught = shouldThrow<TaskletTimeoutException> { timeout(10.milliseconds) { ch.send("lost?") } }
                ch.balance shouldBe 0
                Tasklet { ch.send("second") }.setup()
                ch.receive() shouldBe "second"
            }
            caught!!.message shouldBe "timed out after 10ms"
        }
    }

    "a value received just before the limit is kept and the interrupt does not follow" {
        fresh {
            val ch = Channel<Int>()
            ch.preference = 1 // the sender goes on: the receiver is only made runnable
            val log = mutableListOf<String>()
            var got: Int? = null
            stackless {
                Tasklet {
                    got = timeout(10.milliseconds) { ch.receive() }
                    log += "received $got"
                    switchPointsAfterScope()
                    log += "no stray interrupt"
                }.setup()
                Tasklet {
                    val t0 = System.nanoTime()
                    busyUntil(t0, 30_000_000L)
                    ch.send(42)
                    log += "sent"
                    MainLoop.pump() shouldBe 1 // the limit expires now, after the value arrived
                }.setup()
            }
            got shouldBe 42
            log shouldBe listOf("sent", "received 42", "no stray interrupt")
        }
    }

    "when the limit expires before the sender comes, the sender's value stays available" {
        fresh {
            val ch = Channel<Int>()
            val log = mutableListOf<String>()
            stackless {
                Tasklet {
                    try {
                        timeout(10.milliseconds) { ch.receive() }
                    } catch (e: TaskletTimeoutException) {
                        log += e.message!!
                    }
                }.setup()
                Tasklet {
                    busyUntil(System.nanoTime(), 30_000_000L)
                    MainLoop.pump() shouldBe 1 // the receiver leaves the channel
                    ch.balance shouldBe 0
                    ch.send(42)
                    log += "sent"
                }.setup()
                Tasklet {
                    sleep(50.milliseconds)
                    log += "late receiver got ${ch.receive()}"
                }.setup()
            }
            log shouldBe listOf("timed out after 10ms", "late receiver got 42", "sent")
        }
    }

    "timeoutBlocking on the main tasklet interrupts its blocking receive" {
        fresh {
            val ch = Channel<Int>()
            val t0 = System.nanoTime()
            val e = shouldThrow<TaskletTimeoutException> {
                timeoutBlocking(java.time.Duration.ofMillis(10)) { ch.receiveBlocking() }
            }
            e.message shouldBe "timed out after 10ms"
            (System.nanoTime() - t0) shouldBeGreaterThanOrEqual 10_000_000L
            ch.balance shouldBe 0
            MainLoop.pendingTimers shouldBe 0
            Tasklet { ch.send(7) }.setup()
            timeoutBlocking(java.time.Duration.ofSeconds(10)) { ch.receiveBlocking() } shouldBe 7
            Stackless.scheduleBlocking()
            MainLoop.pendingTimers shouldBe 0
        }
    }

    "timeoutBlocking on the main tasklet interrupts sleepBlocking" {
        fresh {
            val e = shouldThrow<TaskletTimeoutException> {
                timeoutBlocking(java.time.Duration.ofMillis(10)) { sleepBlocking(1.hours) }
            }
            e.message shouldBe "timed out after 10ms"
            MainLoop.pendingTimers shouldBe 0
            sleepBlocking(5.milliseconds)
            Stackless.scheduleBlocking()
        }
    }

    "scenario 29: an outer timeout passes through the inner scope and the handlers inside it" {
        fresh {
            val handlers = mutableListOf<String>()
            var caught: Throwable? = null
            stackless {
                caught = shouldThrow<TaskletTimeoutException> {
                    timeout(10.milliseconds) {
                        try {
                            timeout(1.seconds) {
                                try {
                                    sleep(2.seconds)
                                } catch (e: TaskletTimeoutException) {
                                    handlers += "inner TaskletTimeoutException"
                                } catch (e: Exception) {
                                    handlers += "inner Exception"
                                }
                            }
                        } catch (e: TaskletTimeoutException) {
                            handlers += "outer body"
                        }
                    }
                }
                switchPointsAfterScope()
            }
            handlers shouldBe emptyList()
            caught!!.message shouldBe "timed out after 10ms"
        }
    }

    "scenario 31: equal nested limits raise the outer timeout, and nothing strays later" {
        fresh {
            var inner: Throwable? = null
            var caught: Throwable? = null
            stackless {
                caught = shouldThrow<TaskletTimeoutException> {
                    timeout(10.milliseconds) {
                        try {
                            timeout(10.milliseconds) { sleep(2.seconds) }
                        } catch (e: TaskletTimeoutException) {
                            inner = e
                        }
                        throw TaskletTimeoutException("raised by the body")
                    }
                }
                MainLoop.pendingTimers shouldBe 0
                switchPointsAfterScope()
            }
            inner.shouldBeNull()
            caught!!.message shouldBe "timed out after 10ms"
        }
    }

    "an outer limit that expired first wins over an inner one expiring before the tasklet runs" {
        fresh {
            var innerCaught = false
            var finished = false
            var caught: Throwable? = null
            stackless {
                Tasklet {
                    caught = runCatching {
                        timeout(10.milliseconds) {
                            try {
                                timeout(11.milliseconds) { sleep(1.hours) }
                            } catch (e: TaskletTimeoutException) {
                                innerCaught = true
                            }
                            sleep(1.hours)
                            finished = true
                        }
                    }.exceptionOrNull()
                }.setup()
                Tasklet {
                    busyUntil(System.nanoTime(), 30_000_000L)
                    MainLoop.pump() shouldBe 2 // both limits expire while the sleeper has not run
                }.setup()
            }
            innerCaught shouldBe false
            finished shouldBe false
            caught.shouldBeInstanceOf<TaskletTimeoutException>().message shouldBe "timed out after 10ms"
        }
    }

    "scenario 33: three nested scopes that all succeed return the value and nothing fires later" {
        fresh {
            var r: String? = null
            stackless {
                r = timeout(10.milliseconds) { timeout(80.milliseconds) { timeout(60.milliseconds) { "foo" } } }
                MainLoop.pendingTimers shouldBe 0
                sleep(100.milliseconds)
                switchPointsAfterScope()
            }
            r shouldBe "foo"
        }
    }

    "three levels: the middle scope converts its own interrupt, the inner handlers do not see it" {
        fresh {
            val log = mutableListOf<String>()
            var r: String? = null
            stackless {
                r = timeout(1.seconds) {
                    try {
                        timeout(15.milliseconds) {
                            timeout(1.seconds) {
                                try {
                                    sleep(1.hours)
                                } catch (e: Exception) {
                                    log += "inner handler"
                                }
                            }
                            log += "after inner"
                        }
                    } catch (e: TaskletTimeoutException) {
                        log += e.message!!
                    }
                    "outer done"
                }
                switchPointsAfterScope()
            }
            log shouldBe listOf("timed out after 15ms")
            r shouldBe "outer done"
        }
    }

    "scenario 35: only the scope's own interrupt is converted, to TaskletTimeoutException 'timed out after <d>'" {
        fresh {
            var e: Throwable? = null
            stackless {
                e = runCatching { timeout(10.milliseconds) { timeout(1.seconds) { sleep(1.hours) } } }.exceptionOrNull()
            }
            e!!::class shouldBe TaskletTimeoutException::class
            e!!.message shouldBe "timed out after 10ms"
            e!!.cause.shouldBeNull()
        }
    }

    "a body catching Exception does not swallow the interrupt" {
        fresh {
            var swallowed = false
            var caught: Throwable? = null
            stackless {
                caught = runCatching {
                    timeout(10.milliseconds) {
                        try {
                            sleep(1.hours)
                        } catch (e: Exception) {
                            swallowed = true
                        }
                        "body finished"
                    }
                }.exceptionOrNull()
            }
            swallowed shouldBe false
            caught!!.message shouldBe "timed out after 10ms"
        }
    }

    "an interrupt still waiting for a switch point when the scope ends is taken back" {
        fresh {
            val log = mutableListOf<String>()
            stackless {
                val r = timeout(10.milliseconds) {
                    busyUntil(System.nanoTime(), 30_000_000L)
                    MainLoop.pump() shouldBe 1 // the limit expires while the tasklet runs: it waits for a switch point
                    "done without a switch"
                }
                log += r
                switchPointsAfterScope()
                log += "no stray interrupt"
            }
            log shouldBe listOf("done without a switch", "no stray interrupt")
        }
    }

    "an interrupt waiting for a switch point is thrown at the next one inside the scope" {
        fresh {
            val log = mutableListOf<String>()
            stackless {
                try {
                    timeout(10.milliseconds) {
                        busyUntil(System.nanoTime(), 30_000_000L)
                        MainLoop.pump() shouldBe 1
                        log += "still running"
                        Stackless.schedule()
                        log += "not reached"
                    }
                } catch (e: TaskletTimeoutException) {
                    log += e.message!!
                }
                switchPointsAfterScope()
            }
            log shouldBe listOf("still running", "timed out after 10ms")
        }
    }

    "a busy tasklet yielding alone is interrupted at a later schedule()" {
        fresh {
            var yields = 0
            var caught: Throwable? = null
            stackless {
                caught = runCatching {
                    timeout(5.milliseconds) {
                        while (true) {
                            yields++
                            Stackless.schedule()
                        }
                    }
                }.exceptionOrNull()
            }
            caught!!.message shouldBe "timed out after 5ms"
            (yields >= 1) shouldBe true
        }
    }

    "a kill inside a timeout scope ends the tasklet with TaskletExit and cancels the timers" {
        fresh {
            val log = mutableListOf<String>()
            stackless {
                val t = Tasklet {
                    try {
                        timeout(1.hours) { sleep(1.hours) }
                    } catch (e: TaskletTimeoutException) {
                        log += "timeout"
                    } catch (e: TaskletExit) {
                        log += "exit"
                        throw e
                    }
                }.setup()
                Stackless.schedule()
                MainLoop.pendingTimers shouldBe 2
                t.kill()
                t.alive shouldBe false
                MainLoop.pendingTimers shouldBe 0
            }
            log shouldBe listOf("exit")
        }
    }

    "a kill is not replaced by a timeout that expires before the killed tasklet runs" {
        fresh {
            var caught: Throwable? = null
            stackless {
                val t = Tasklet {
                    try {
                        timeout(10.milliseconds) { sleep(1.hours) }
                    } catch (e: Throwable) {
                        caught = e
                    }
                }.setup()
                Tasklet {
                    busyUntil(System.nanoTime(), 30_000_000L)
                    t.kill(pending = true)
                    MainLoop.pump() shouldBe 1
                }.setup()
            }
            caught.shouldBeInstanceOf<TaskletExit>()
        }
    }

    "no limit for null, negative and infinite durations; zero expires at the next look at the timers" {
        fresh {
            stackless {
                timeout(null) { sleep(5.milliseconds); "a" } shouldBe "a"
                timeout((-1).seconds) { sleep(5.milliseconds); "b" } shouldBe "b"
                timeout(Duration.INFINITE) { sleep(5.milliseconds); "c" } shouldBe "c"
                MainLoop.pendingTimers shouldBe 0
                shouldThrow<TaskletTimeoutException> { timeout(Duration.ZERO) { sleep(1.hours) } }.message shouldBe
                    "timed out after 0s"
                timeout(Duration.ZERO) { "no switch point" } shouldBe "no switch point"
            }
            timeoutBlocking(null) { "java null" } shouldBe "java null"
        }
    }

    "a timeout in one tasklet does not touch another tasklet" {
        fresh {
            val log = mutableListOf<String>()
            stackless {
                Tasklet {
                    try {
                        timeout(10.milliseconds) { sleep(1.hours) }
                    } catch (e: TaskletTimeoutException) {
                        log += "a timed out"
                    }
                }.setup()
                Tasklet {
                    sleep(30.milliseconds)
                    log += "b slept"
                }.setup()
            }
            log shouldBe listOf("a timed out", "b slept")
        }
    }
})
