package dev.stackless.lib

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.StringSpec
import io.kotest.matchers.shouldBe
import kotlin.time.Duration.Companion.milliseconds

class LoopSmokeTest : StringSpec({
    "sleepers wake in deadline order" {
        fresh {
            val log = mutableListOf<Int>()
            stackless {
                for (i in listOf(30, 10, 20)) dev.stackless.Tasklet { sleep(i.milliseconds); log += i }.setup()
            }
            log shouldBe listOf(10, 20, 30)
        }
    }
    "timeout interrupts a sleep" {
        fresh {
            var caught: Throwable? = null
            stackless {
                caught = runCatching { timeout(10.milliseconds) { sleep(1000.milliseconds) } }.exceptionOrNull()
            }
            (caught is TaskletTimeoutException) shouldBe true
            caught!!.message shouldBe "timed out after 10ms"
        }
    }
    "callOnThread returns from another thread" {
        fresh {
            var r = ""
            stackless { r = callOnThread { Thread.currentThread().name } }
            r.startsWith("stackless callOnThread") shouldBe true
        }
    }
    "callLater and cancel" {
        fresh {
            val log = mutableListOf<String>()
            val h = MainLoop.callLater(5.milliseconds) { log += "a" }
            MainLoop.callLater(10.milliseconds) { log += "b" }
            h.cancel() shouldBe true
            h.cancel() shouldBe false
            stackless { sleep(20.milliseconds) }
            log shouldBe listOf("b")
        }
    }
    "sleepBlocking from main" {
        fresh {
            val t0 = System.nanoTime()
            sleepBlocking(20.milliseconds)
            ((System.nanoTime() - t0) >= 20_000_000) shouldBe true
        }
    }
    "outer timeout passes inner handlers" {
        fresh {
            var inner = false
            var caught: Throwable? = null
            stackless {
                caught = shouldThrow<TaskletTimeoutException> {
                    timeout(10.milliseconds) {
                        timeout(1000.milliseconds) {
                            try { sleep(2000.milliseconds) } catch (e: TaskletTimeoutException) { inner = true }
                        }
                    }
                }
            }
            inner shouldBe false
            caught!!.message shouldBe "timed out after 10ms"
        }
    }
})
