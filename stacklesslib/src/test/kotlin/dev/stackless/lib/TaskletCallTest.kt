package dev.stackless.lib

import dev.stackless.Stackless
import dev.stackless.Tasklet
import dev.stackless.TaskletExit
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.StringSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.types.shouldBeSameInstanceAs
import kotlin.time.Duration.Companion.milliseconds

class TaskletCallTest : StringSpec({
    for (d in TaskletDispatch.entries) {
        "$d: returns the function's result (scenario 37)" {
            fresh {
                var r: Any? = null
                stackless {
                    r = taskletCall(d) {
                        val v = listOf(1, 2, 3)
                        v to v
                    }
                }
                r shouldBe (listOf(1, 2, 3) to listOf(1, 2, 3))
            }
        }

        "$d: rethrows the function's exception, errors included, as the same instance (scenario 37)" {
            fresh {
                val boom = ArithmeticException("/ by zero")
                val error = AssertionError("bad state")
                var caught1: Throwable? = null
                var caught2: Throwable? = null
                stackless {
                    caught1 = shouldThrow<ArithmeticException> { taskletCall(d) { throw boom } }
                    caught2 = shouldThrow<AssertionError> { taskletCall<Unit>(d) { sleep(1.milliseconds); throw error } }
                }
                caught1 shouldBeSameInstanceAs boom
                caught2 shouldBeSameInstanceAs error
            }
        }

        "$d: the function runs on another tasklet (scenario 37)" {
            fresh {
                var caller: Tasklet? = null
                var other: Tasklet? = null
                stackless {
                    caller = Stackless.current
                    other = taskletCall(d) { Stackless.current }
                }
                (other === caller) shouldBe false
                other!!.alive shouldBe false
            }
        }

        "$d: a timeout ends the wait, the callee goes on and its late result is dropped" {
            fresh {
                val log = mutableListOf<String>()
                var caught: Throwable? = null
                var waited = 0L
                stackless {
                    val t0 = System.nanoTime()
                    caught = runCatching {
                        taskletCall(d, timeout = 10.milliseconds, onAbandoned = { log += "abandoned" }) {
                            sleep(50.milliseconds)
                            log += "callee done"
                            "late"
                        }
                    }.exceptionOrNull()
                    waited = System.nanoTime() - t0
                    log += "caller caught"
                }
                (caught is TaskletTimeoutException) shouldBe true
                caught!!.message shouldBe "timed out after 10ms"
                (waited >= 10_000_000) shouldBe true
                log shouldBe listOf("abandoned", "caller caught", "callee done")
            }
        }

        "$d: a killed callee raises TaskletCancelledException in the caller (scenario 37)" {
            fresh {
                val log = mutableListOf<String>()
                var caught: Throwable? = null
                stackless {
                    caught = runCatching {
                        taskletCall(d, timeout = 1000.milliseconds, onAbandoned = { log += "abandoned" }) {
                            val me = Stackless.current
                            Tasklet { me.kill() }.setup()
                            sleep(100.milliseconds)
                        }
                    }.exceptionOrNull()
                }
                (caught is TaskletCancelledException) shouldBe true
                (caught is java.util.concurrent.CancellationException) shouldBe true
                caught!!.message shouldBe "cancelled"
                (caught as TaskletCancelledException).args shouldBe emptyList()
                (caught!!.cause is TaskletExit) shouldBe true
                log shouldBe emptyList()
            }
        }
    }

    "RUN starts the callee before the tasklets already queued, NEW after them" {
        for ((d, expected) in listOf(
            TaskletDispatch.RUN to listOf("callee", "caller got r", "other"),
            TaskletDispatch.NEW to listOf("other", "callee", "caller got r"),
        )) {
            fresh {
                val log = mutableListOf<String>()
                stackless {
                    Tasklet { log += "other" }.setup()
                    val r = taskletCall(d) {
                        log += "callee"
                        "r"
                    }
                    log += "caller got $r"
                }
                log shouldBe expected
            }
        }
    }

    "a killed caller runs onAbandoned as it leaves; the callee goes on" {
        fresh {
            val log = mutableListOf<String>()
            stackless {
                val caller = Tasklet {
                    try {
                        taskletCall(onAbandoned = { log += "abandoned" }) {
                            sleep(20.milliseconds)
                            log += "callee done"
                        }
                    } catch (e: TaskletExit) {
                        log += "caller killed"
                        throw e
                    }
                }.setup()
                Tasklet {
                    while (caller.blocked == 0) Stackless.schedule()
                    caller.kill()
                    log += "killer done"
                }.setup()
            }
            log shouldBe listOf("abandoned", "caller killed", "killer done", "callee done")
        }
    }

    "a result handed over as the time limit expires is kept" {
        fresh {
            val log = mutableListOf<String>()
            stackless {
                val r = taskletCall(TaskletDispatch.NEW, timeout = 50.milliseconds) {
                    Thread.sleep(100) // past the limit without a switch point
                    "kept"
                }
                log += r
                sleep(1.milliseconds) // no stray timeout afterwards
                log += "slept"
            }
            log shouldBe listOf("kept", "slept")
        }
    }

    "an exception from onAbandoned is added to the suppressed ones" {
        fresh {
            var caught: Throwable? = null
            stackless {
                caught = runCatching {
                    taskletCall(timeout = 1.milliseconds, onAbandoned = { throw IllegalStateException("cleanup failed") }) {
                        sleep(20.milliseconds)
                    }
                }.exceptionOrNull()
            }
            (caught is TaskletTimeoutException) shouldBe true
            caught!!.suppressed.map { it.message } shouldBe listOf("cleanup failed")
        }
    }

    "the blocking twin from the main tasklet" {
        fresh {
            val log = mutableListOf<String>()
            taskletCallBlocking { "plain" } shouldBe "plain"
            taskletCallBlocking(TaskletDispatch.NEW) {
                sleepBlocking(1.milliseconds)
                "slept"
            } shouldBe "slept"
            val boom = IllegalArgumentException("bad")
            shouldThrow<IllegalArgumentException> { taskletCallBlocking<Unit> { throw boom } } shouldBeSameInstanceAs boom
            val e = shouldThrow<TaskletTimeoutException> {
                taskletCallBlocking(TaskletDispatch.RUN, java.time.Duration.ofMillis(5), { log += "abandoned" }) {
                    sleepBlocking(30.milliseconds)
                    log += "callee done"
                }
            }
            e.message shouldBe "timed out after 5ms"
            log shouldBe listOf("abandoned")
            MainLoop.run() // until the callee has ended
            log shouldBe listOf("abandoned", "callee done")
        }
    }
})
