package dev.stackless.lib

import dev.stackless.Stackless
import dev.stackless.Tasklet
import dev.stackless.TaskletExit
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.StringSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldStartWith
import io.kotest.matchers.types.shouldBeSameInstanceAs
import java.io.IOException
import java.util.concurrent.CountDownLatch
import java.util.concurrent.ThreadPoolExecutor
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger
import java.util.concurrent.atomic.AtomicReference
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds

/** Waits for [latch] on a worker, failing instead of hanging after 10 s. */
private fun awaitOrFail(latch: CountDownLatch) {
    check(latch.await(10, TimeUnit.SECONDS)) { "latch not released within 10 s" }
}

class CallOnThreadTest : StringSpec({
    "scenario 61: the block runs on another thread and its result comes back" {
        fresh {
            val caller = Thread.currentThread()
            var ranOn: Thread? = null
            var r = ""
            stackless {
                val a = "hello"
                val b = "dolly"
                r = callOnThread {
                    ranOn = Thread.currentThread()
                    a + b
                }
            }
            r shouldBe "hellodolly"
            (ranOn !== caller) shouldBe true
            val worker = ranOn!!
            worker.name shouldStartWith "stackless callOnThread "
            worker.isDaemon shouldBe true
        }
    }

    "the other tasklets run while one waits for its thread" {
        fresh {
            val log = mutableListOf<String>()
            val release = CountDownLatch(1)
            stackless {
                Tasklet {
                    log += "calling"
                    log += callOnThread {
                        awaitOrFail(release)
                        "result"
                    }
                }.setup()
                Tasklet {
                    log += "other runs"
                    sleep(5.milliseconds)
                    log += "other releases"
                    release.countDown()
                }.setup()
            }
            log shouldBe listOf("calling", "other runs", "other releases", "result")
        }
    }

    "an exception of the block is rethrown in the caller, the same instance" {
        fresh {
            val boom = IOException("disk on fire")
            var caught: Throwable? = null
            stackless {
                caught = shouldThrow<IOException> { callOnThread<Int> { throw boom } }
            }
            caught shouldBeSameInstanceAs boom
            caught!!.message shouldBe "disk on fire"
        }
    }

    "scenario 63: the pool caps concurrency and queues the calls beyond the cap" {
        fresh {
            val cap = (ThreadBridge.pool as ThreadPoolExecutor).maximumPoolSize
            val jobs = cap + 5
            val active = AtomicInteger()
            val maxActive = AtomicInteger()
            val started = AtomicInteger()
            val order = java.util.Collections.synchronizedList(mutableListOf<Int>())
            val results = mutableListOf<Int>()
            stackless {
                for (i in 0 until jobs) {
                    Tasklet {
                        results += callOnThread {
                            order += i
                            val now = active.incrementAndGet()
                            maxActive.accumulateAndGet(now) { a, b -> maxOf(a, b) }
                            started.incrementAndGet()
                            // Hold the thread until the pool is full, so that the cap is reached.
                            val end = System.nanoTime() + 10_000_000_000L
                            while (started.get() < cap && System.nanoTime() - end < 0) Thread.sleep(1)
                            Thread.sleep(2)
                            active.decrementAndGet()
                            i
                        }
                    }.setup()
                }
            }
            maxActive.get() shouldBe cap
            active.get() shouldBe 0
            results.sorted() shouldBe (0 until jobs).toList()
            // The first `cap` calls each got a thread; the others waited for one in the queue.
            order.take(cap).toSet() shouldBe (0 until cap).toSet()
            order.drop(cap).toSet() shouldBe (cap until jobs).toSet()
        }
    }

    "with a timeout the caller gives up and onAbandoned runs once, on the worker, after the block" {
        fresh {
            val release = CountDownLatch(1)
            val abandoned = CountDownLatch(1)
            val calls = AtomicInteger()
            val abandonedOn = AtomicReference<Thread>()
            val blockOn = AtomicReference<Thread>()
            val blockDone = AtomicInteger()
            var caught: Throwable? = null
            stackless {
                caught = shouldThrow<TaskletTimeoutException> {
                    callOnThread(10.milliseconds, {
                        calls.incrementAndGet()
                        abandonedOn.set(Thread.currentThread())
                        abandoned.countDown()
                    }) {
                        blockOn.set(Thread.currentThread())
                        awaitOrFail(release)
                        blockDone.incrementAndGet()
                        "dropped"
                    }
                }
                MainLoop.pendingTimers shouldBe 0
                calls.get() shouldBe 0
            }
            caught!!.message shouldBe "timed out after 10ms"
            release.countDown()
            awaitOrFail(abandoned)
            blockDone.get() shouldBe 1
            calls.get() shouldBe 1
            abandonedOn.get() shouldBeSameInstanceAs blockOn.get()
        }
    }

    "onAbandoned is not called when the block finishes first" {
        fresh {
            val calls = AtomicInteger()
            var r = 0
            stackless {
                r = callOnThread(10.seconds, { calls.incrementAndGet() }) { 42 }
                sleep(20.milliseconds)
            }
            r shouldBe 42
            calls.get() shouldBe 0
            MainLoop.pendingTimers shouldBe 0
        }
    }

    "the result is kept when the block finished just before the limit expired" {
        fresh {
            val release = CountDownLatch(1)
            val returned = AtomicReference<Thread>()
            val calls = AtomicInteger()
            val log = mutableListOf<String>()
            stackless {
                Tasklet {
                    val r = callOnThread(10.milliseconds, { calls.incrementAndGet() }) {
                        awaitOrFail(release)
                        returned.set(Thread.currentThread())
                        42
                    }
                    log += "result $r"
                    Stackless.schedule()
                    sleep(5.milliseconds)
                    log += "no stray interrupt"
                }.setup()
                Tasklet {
                    val t0 = System.nanoTime()
                    release.countDown()
                    // The worker has handed over the result once it is back waiting for work.
                    while (returned.get()?.state !in setOf(Thread.State.WAITING, Thread.State.TIMED_WAITING)) Thread.sleep(1)
                    while (System.nanoTime() - t0 < 30_000_000L) Thread.sleep(1)
                    MainLoop.pump() shouldBe 1 // the limit expires after the result came
                    log += "pumped"
                }.setup()
            }
            log shouldBe listOf("pumped", "result 42", "no stray interrupt")
            calls.get() shouldBe 0
        }
    }

    "a tasklet killed while it waits ends with TaskletExit; onAbandoned runs when the block ends" {
        fresh {
            val release = CountDownLatch(1)
            val abandoned = CountDownLatch(1)
            val calls = AtomicInteger()
            val log = mutableListOf<String>()
            stackless {
                val waiter = Tasklet {
                    try {
                        callOnThread(onAbandoned = {
                            calls.incrementAndGet()
                            abandoned.countDown()
                        }) {
                            awaitOrFail(release)
                            1
                        }
                        log += "not reached"
                    } catch (e: TaskletExit) {
                        log += "exit"
                        throw e
                    }
                }.setup()
                Stackless.schedule()
                waiter.paused shouldBe true
                waiter.kill()
                waiter.alive shouldBe false
            }
            // The loop ended: nothing is awaited from the worker any more.
            log shouldBe listOf("exit")
            calls.get() shouldBe 0
            release.countDown()
            awaitOrFail(abandoned)
            calls.get() shouldBe 1
        }
    }

    "an enclosing timeout ends the wait and abandons the call" {
        fresh {
            val release = CountDownLatch(1)
            val abandoned = CountDownLatch(1)
            var caught: Throwable? = null
            stackless {
                caught = shouldThrow<TaskletTimeoutException> {
                    timeout(10.milliseconds) {
                        callOnThread(10.seconds, { abandoned.countDown() }) { awaitOrFail(release) }
                    }
                }
            }
            caught!!.message shouldBe "timed out after 10ms"
            release.countDown()
            awaitOrFail(abandoned)
        }
    }

    "callOnThreadBlocking on the main tasklet parks the thread until the result comes" {
        fresh {
            val main = Thread.currentThread()
            val states = setOf(Thread.State.WAITING, Thread.State.TIMED_WAITING)
            val seen = callOnThreadBlocking {
                val end = System.nanoTime() + 10_000_000_000L
                while (main.state !in states && System.nanoTime() - end < 0) Thread.sleep(1)
                main.state in states
            }
            seen shouldBe true
            MainLoop.pendingTimers shouldBe 0
            callOnThreadBlocking { "again" } shouldBe "again"
        }
    }

    "callOnThreadBlocking on the main tasklet lets the tasklets run and times out" {
        fresh {
            val log = mutableListOf<String>()
            val release = CountDownLatch(1)
            val abandoned = CountDownLatch(1)
            Tasklet {
                log += "tasklet"
                sleep(5.milliseconds)
                log += "tasklet slept"
            }.setup()
            val e = shouldThrow<TaskletTimeoutException> {
                callOnThreadBlocking(java.time.Duration.ofMillis(20), { abandoned.countDown() }) {
                    awaitOrFail(release)
                    "late"
                }
            }
            e.message shouldBe "timed out after 20ms"
            log shouldBe listOf("tasklet", "tasklet slept")
            release.countDown()
            awaitOrFail(abandoned)
            MainLoop.pendingTimers shouldBe 0
        }
    }

    "an exception of the block comes out of callOnThreadBlocking on the main tasklet" {
        fresh {
            val e = shouldThrow<IllegalStateException> {
                callOnThreadBlocking<Int> { throw IllegalStateException("worker failed") }
            }
            e.message shouldBe "worker failed"
        }
    }
})
