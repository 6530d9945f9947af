package dev.stackless.lib

import dev.stackless.Stackless
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.StringSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.types.shouldBeInstanceOf
import io.kotest.matchers.types.shouldBeSameInstanceAs
import java.io.IOException
import java.util.concurrent.CancellationException
import java.util.function.Function
import kotlin.time.Duration.Companion.milliseconds

class AsyncTest : StringSpec({
    "scenario 73: depth-first await ordering" {
        fresh {
            val events = mutableListOf<Int>()
            var result: String? = null
            val ex = TaskletExecutor()
            stackless {
                fun sleeping(v: String) = ex.submit { sleep(1.milliseconds); v }
                suspend fun f1() = async { events += 2; await(sleeping("foo")) }
                suspend fun f2() = async { events += 4; await(sleeping("bar")) }
                suspend fun f3(greeting: String) = async {
                    events += 1
                    val a = f1()
                    events += 3
                    val b = f2()
                    events += 5
                    greeting.length shouldBe 5
                    await(a) + await(b)
                }
                suspend fun f4() = async {
                    events += 0
                    val r = f3("hello")
                    events += 6
                    await(r)
                }
                val t = f4()
                events += 7
                result = t.result()
            }
            events shouldBe listOf(0, 1, 2, 3, 4, 5, 6, 7)
            result shouldBe "foobar"
        }
    }

    "scenario 73 from the main tasklet, nesting with callAsync" {
        fresh {
            val events = mutableListOf<Int>()
            val ex = TaskletExecutor()
            val t = asyncBlocking {
                events += 0
                val inner = callAsync {
                    events += 1
                    await(ex.submit { sleep(1.milliseconds); "foo" })
                }
                events += 2
                await(inner) + "bar"
            }
            events += 3
            t.done shouldBe false
            t.resultBlocking() shouldBe "foobar"
            events shouldBe listOf(0, 1, 2, 3)
        }
    }

    "scenario 75: futureOf over a tasklet executor and a thread pool" {
        fresh {
            val ex = TaskletExecutor()
            val onTasklet = futureOf(ex) { "foo" }
            onTasklet().resultBlocking() shouldBe "foo"
            ThreadPoolExecutor(2).use { pool ->
                val onThread = futureOf(pool) { "foo" }
                onThread().resultBlocking() shouldBe "foo"
            }
        }
    }

    "futureOf submits the function once per call" {
        fresh {
            var calls = 0
            val ex = TaskletExecutor()
            val f = futureOf(ex) { ++calls }
            val a = f()
            val b = f()
            a.resultBlocking() shouldBe 1
            b.resultBlocking() shouldBe 2
        }
    }

    "a function that never waits ends before the caller continues and gives a done future" {
        fresh {
            val events = mutableListOf<String>()
            stackless {
                val done = Future<String>().apply { setResult("ready") }
                val f = async {
                    events += "start"
                    val v = await(done) // done: no switch to the caller
                    events += "got $v"
                    v.length
                }
                events += "caller"
                f.done shouldBe true
                f.result() shouldBe 5
            }
            events shouldBe listOf("start", "got ready", "caller")
        }
    }

    "the caller continues once only: later awaits just wait" {
        fresh {
            val events = mutableListOf<String>()
            val ex = TaskletExecutor()
            stackless {
                val f = async {
                    events += "a1"
                    await(ex.submit { sleep(1.milliseconds); 1 })
                    events += "a2"
                    await(ex.submit { sleep(1.milliseconds); 2 })
                    events += "a3"
                    3
                }
                events += "caller"
                f.result() shouldBe 3
                events += "end"
            }
            events shouldBe listOf("a1", "caller", "a2", "a3", "end")
        }
    }

    "an exception thrown before any await is in the future" {
        fresh {
            val boom = IOException("boom")
            val f = asyncBlocking<Int> { throw boom }
            f.done shouldBe true
            f.exceptionBlocking() shouldBeSameInstanceAs boom
            shouldThrow<IOException> { f.resultBlocking() }.message shouldBe "boom"
        }
    }

    "an exception thrown after an await is in the future" {
        fresh {
            val ex = TaskletExecutor()
            var f: Future<Int>? = null
            stackless {
                f = async {
                    await(ex.submit { sleep(1.milliseconds); 1 })
                    throw IllegalArgumentException("late ${'$'}boom")
                }
                f!!.done shouldBe false
                shouldThrow<IllegalArgumentException> { f!!.result() }.message shouldBe "late \$boom"
            }
            f!!.exceptionBlocking().shouldBeInstanceOf<IllegalArgumentException>()
        }
    }

    "an exception of an awaited future propagates into the async function" {
        fresh {
            val ex = TaskletExecutor()
            stackless {
                val f = async {
                    try {
                        await(ex.submit<Int> { sleep(1.milliseconds); throw IOException("inner") })
                    } catch (e: IOException) {
                        "caught ${e.message}"
                    }
                }
                f.result() shouldBe "caught inner"
            }
        }
    }

    "a timeout in await propagates into the async function and ends in its future" {
        fresh {
            val never = Future<Int>()
            stackless {
                val f = async { await(never, 5.milliseconds) }
                f.done shouldBe false
                val e = f.exception()
                e.shouldBeInstanceOf<TaskletTimeoutException>()
                e.message shouldBe "timed out after 5ms"
                shouldThrow<TaskletTimeoutException> { f.result() }.message shouldBe "timed out after 5ms"
            }
            never.done shouldBe false
        }
    }

    "a timeout in awaitBlocking waits at least the timeout" {
        fresh {
            val never = Future<Int>()
            val start = System.nanoTime()
            val f = asyncBlocking(Function<Awaiter, Int> { it.awaitBlocking(never, java.time.Duration.ofMillis(5)) })
            f.done shouldBe false
            shouldThrow<TaskletTimeoutException> { f.resultBlocking() }.message shouldBe "timed out after 5ms"
            (System.nanoTime() - start >= 5_000_000) shouldBe true
        }
    }

    "a Java-bodied async function runs depth first too" {
        fresh {
            val events = mutableListOf<Int>()
            val ex = TaskletExecutor()
            val f = asyncBlocking(
                Function<Awaiter, String> { aw ->
                    events += 0
                    val v = aw.awaitBlocking(ex.submit { sleep(1.milliseconds); "foo" })
                    events += 2
                    v + "bar"
                },
            )
            events += 1
            f.resultBlocking() shouldBe "foobar"
            events shouldBe listOf(0, 1, 2)
        }
    }

    "cancelling the future kills the async function" {
        fresh {
            val events = mutableListOf<String>()
            val never = Future<Int>()
            stackless {
                val f = async {
                    try {
                        await(never)
                    } finally {
                        events += "finally"
                    }
                }
                f.cancel() shouldBe true
                f.cancelled shouldBe true
                shouldThrow<CancellationException> { f.result() }.message shouldBe "the future was cancelled"
                sleep(1.milliseconds)
                events shouldBe listOf("finally")
            }
        }
    }
    "a caller woken early by someone else goes back to waiting for the function" {
        fresh {
            val events = mutableListOf<String>()
            stackless {
                val me = Stackless.current
                val f = async {
                    me.insert() // a stray wake-up of the paused caller
                    sleep(1.milliseconds)
                    events += "callee"
                    1
                }
                events += "caller"
                f.done shouldBe true
            }
            events shouldBe listOf("callee", "caller")
        }
    }

    "a caller that stops waiting by a timeout is not continued later" {
        fresh {
            val events = mutableListOf<String>()
            stackless {
                val e = shouldThrow<TaskletTimeoutException> {
                    timeout(1.milliseconds) {
                        async {
                            sleep(5.milliseconds)
                            events += "callee"
                        }
                    }
                }
                e.message shouldBe "timed out after 1ms"
                events += "caller"
                sleep(10.milliseconds)
                events += "caller again"
            }
            events shouldBe listOf("caller", "callee", "caller again")
        }
    }
})
