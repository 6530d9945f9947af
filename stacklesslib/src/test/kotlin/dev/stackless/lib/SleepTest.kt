package dev.stackless.lib

import dev.stackless.Stackless
import dev.stackless.Tasklet
import dev.stackless.TaskletExit
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.StringSpec
import io.kotest.matchers.collections.shouldContain
import io.kotest.matchers.longs.shouldBeGreaterThanOrEqual
import io.kotest.matchers.shouldBe
import java.util.concurrent.atomic.AtomicBoolean
import kotlin.time.Duration
import kotlin.time.Duration.Companion.hours
import kotlin.time.Duration.Companion.milliseconds

/** Thread states of a thread parked (not spinning) in the loop's wait. */
private val PARKED = setOf(Thread.State.WAITING, Thread.State.TIMED_WAITING)

/** Polls [thread] until it is parked; false if it was not within 10 s. */
private fun seenParked(thread: Thread): Boolean {
    val end = System.nanoTime() + 10_000_000_000L
    while (System.nanoTime() - end < 0) {
        if (thread.state in PARKED) return true
        Thread.sleep(1)
    }
    return false
}

private class StopSleeping : RuntimeException("stop sleeping")

class SleepTest : StringSpec({
    "sleepers wake in deadline order, equal durations in the order they fell asleep" {
        fresh {
            val log = mutableListOf<String>()
            stackless {
                for ((name, ms) in listOf("c" to 60, "a1" to 20, "b" to 40, "a2" to 20)) {
                    Tasklet {
                        sleep(ms.milliseconds)
                        log += name
                    }.setup()
                }
            }
            log shouldBe listOf("a1", "a2", "b", "c")
        }
    }

    "sleep lasts at least its duration and lets the other tasklets run" {
        fresh {
            val log = mutableListOf<String>()
            var slept = 0L
            stackless {
                Tasklet {
                    val t0 = System.nanoTime()
                    log += "sleeping"
                    sleep(20.milliseconds)
                    slept = System.nanoTime() - t0
                    log += "awake"
                }.setup()
                Tasklet { log += "other" }.setup()
            }
            log shouldBe listOf("sleeping", "other", "awake")
            slept shouldBeGreaterThanOrEqual 20_000_000L
        }
    }

    "sleep(0) and a negative sleep yield once" {
        fresh {
            val log = mutableListOf<String>()
            stackless {
                Tasklet {
                    log += "a1"
                    sleep(Duration.ZERO)
                    log += "a2"
                    sleep((-5).milliseconds)
                    log += "a3"
                }.setup()
                Tasklet {
                    log += "b1"
                    Stackless.schedule()
                    log += "b2"
                    Stackless.schedule()
                    log += "b3"
                }.setup()
            }
            log shouldBe listOf("a1", "b1", "a2", "b2", "a3", "b3")
            MainLoop.pendingTimers shouldBe 0
        }
    }

    "a sleeper inserted early goes back to sleep for the rest" {
        fresh {
            var slept = 0L
            stackless {
                val sleeper = Tasklet {
                    val t0 = System.nanoTime()
                    sleep(30.milliseconds)
                    slept = System.nanoTime() - t0
                }.setup()
                Stackless.schedule()
                sleeper.paused shouldBe true
                sleeper.insert()
                Stackless.schedule()
                sleeper.paused shouldBe true
                MainLoop.pendingTimers shouldBe 1
            }
            slept shouldBeGreaterThanOrEqual 30_000_000L
        }
    }

    "a killed sleeper runs its finally and leaves no timer" {
        fresh {
            val log = mutableListOf<String>()
            stackless {
                val sleeper = Tasklet {
                    try {
                        sleep(1.hours)
                    } finally {
                        log += "finally"
                    }
                }.setup()
                Stackless.schedule()
                MainLoop.pendingTimers shouldBe 1
                sleeper.kill()
                sleeper.alive shouldBe false
                MainLoop.pendingTimers shouldBe 0
            }
            log shouldBe listOf("finally")
        }
    }

    "an exception thrown to a sleeper ends its sleep" {
        fresh {
            var caught: Throwable? = null
            stackless {
                val sleeper = Tasklet {
                    caught = shouldThrow<IllegalStateException> { sleep(1.hours) }
                }.setup()
                Stackless.schedule()
                sleeper.throwException(IllegalStateException("wake up"))
                MainLoop.pendingTimers shouldBe 0
            }
            caught!!.message shouldBe "wake up"
        }
    }

    "each sleeper costs one timer, which its kill removes; many sleepers all wake" {
        fresh {
            var woke = 0
            stackless {
                val sleepers = List(10_000) { Tasklet { sleep(1.hours) }.setup() }
                Stackless.schedule()
                MainLoop.pendingTimers shouldBe 10_000
                for (t in sleepers) t.kill()
                MainLoop.pendingTimers shouldBe 0
                repeat(10_000) {
                    Tasklet {
                        sleep(5.milliseconds)
                        woke++
                    }.setup()
                }
            }
            woke shouldBe 10_000
            MainLoop.pendingTimers shouldBe 0
        }
    }

    "sleepBlocking on the main tasklet waits at least the duration while tasklets run" {
        fresh {
            val log = mutableListOf<String>()
            Tasklet {
                log += "t1"
                sleep(5.milliseconds)
                log += "t2"
            }.setup()
            val t0 = System.nanoTime()
            sleepBlocking(30.milliseconds)
            (System.nanoTime() - t0) shouldBeGreaterThanOrEqual 30_000_000L
            log shouldBe listOf("t1", "t2")
            MainLoop.pendingTimers shouldBe 0
            sleepBlocking(java.time.Duration.ofMillis(5))
            sleepBlocking(Duration.ZERO)
        }
    }

    "sleepBlocking in non-suspend code of a tasklet sleeps that tasklet only" {
        fresh {
            val log = mutableListOf<String>()
            stackless {
                Tasklet.of {
                    log += "hard sleeping"
                    sleepBlocking(java.time.Duration.ofMillis(20))
                    log += "hard awake"
                }.setup()
                Tasklet {
                    log += "soft"
                }.setup()
            }
            log shouldBe listOf("hard sleeping", "soft", "hard awake")
        }
    }

    "the main tasklet parks while it sleeps with nothing else to run" {
        fresh {
            val main = Thread.currentThread()
            val parked = AtomicBoolean(false)
            // A tasklet waits for a real thread that watches the main thread, then wakes the main tasklet.
            Tasklet {
                parked.set(callOnThread { seenParked(main) })
                Stackless.main.throwException(StopSleeping(), pending = true)
            }.setup()
            val e = shouldThrow<StopSleeping> { sleepBlocking(1.hours) }
            e.message shouldBe "stop sleeping"
            parked.get() shouldBe true
            MainLoop.pendingTimers shouldBe 0
        }
    }

    "the sleeping main tasklet is woken by its timer while other tasklets keep yielding" {
        fresh {
            var yields = 0
            var stop = false
            Tasklet {
                while (!stop) {
                    yields++
                    Stackless.schedule()
                }
            }.setup()
            sleepBlocking(10.milliseconds)
            stop = true
            (yields >= 1) shouldBe true
            Stackless.run()
            Stackless.runCount shouldBe 1
        }
    }

    "an exception of another tasklet comes out of the main tasklet's sleepBlocking" {
        fresh {
            Tasklet {
                sleep(5.milliseconds)
                throw IllegalArgumentException("from a tasklet")
            }.setup()
            shouldThrow<IllegalArgumentException> { sleepBlocking(1.hours) }.message shouldBe "from a tasklet"
            MainLoop.pendingTimers shouldBe 0
        }
    }

    "a killed sleeper's finally sees TaskletExit" {
        fresh {
            val seen = mutableListOf<String>()
            stackless {
                val t = Tasklet {
                    try {
                        sleep(1.hours)
                    } catch (e: TaskletExit) {
                        seen += "TaskletExit"
                        throw e
                    }
                }.setup()
                Stackless.schedule()
                t.kill()
            }
            seen shouldContain "TaskletExit"
        }
    }
})
