package dev.stackless.lib

import dev.stackless.DeadlockException
import dev.stackless.Stackless
import dev.stackless.Tasklet
import dev.stackless.TaskletExit
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.StringSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.types.shouldBeSameInstanceAs
import java.util.concurrent.CountDownLatch
import kotlin.time.Duration.Companion.microseconds
import kotlin.time.Duration.Companion.milliseconds

/** The answer of the fake asynchronous API: its arguments, as stacklesslib's test returns `((a, b, c), {"kw": kw})`. */
private data class Answer(val args: List<Int>, val kw: Any?)

/** A callback-style API that answers after [DELAY] through the loop, or at once (stacklesslib's test `AsyncAPI`). */
private object FakeApi {
    val DELAY = 1.milliseconds
    val HALF_DELAY = 500.microseconds

    fun callOk(a: Int, b: Int, c: Int, kw: Any? = null, onSuccess: (Answer) -> Unit) {
        MainLoop.callLater(DELAY) { onSuccess(Answer(listOf(a, b, c), kw)) }
    }

    fun callFail(a: Int, b: Int, c: Int, kw: Any? = null, onFailure: (Throwable) -> Unit) {
        MainLoop.callLater(DELAY) { onFailure(IllegalStateException("failed: ${Answer(listOf(a, b, c), kw)}")) }
    }

    fun callImmediate(a: Int, b: Int, c: Int, kw: Any? = null, onSuccess: (Answer) -> Unit) {
        onSuccess(Answer(listOf(a, b, c), kw))
    }
}

/** A SyncToAsync over [FakeApi] that cancels itself after [FakeApi.HALF_DELAY] and records its abandoned hooks. */
private open class Cancelled(private val fail: Boolean) : SyncToAsync<Answer>() {
    val log = mutableListOf<String>()

    override fun initiateCall() {
        // The cancel timer first, so that it is due first however long the registrations take.
        MainLoop.callLater(FakeApi.HALF_DELAY) { log += "cancel: ${cancel("dude")}" }
        if (fail) FakeApi.callFail(1, 2, 3, onFailure = ::onFailure) else FakeApi.callOk(1, 2, 3, onSuccess = ::onSuccess)
    }

    override fun abandonedSuccess(value: Any?) {
        log += "abandonedSuccess: " + (if (value is Throwable) value.message else value)
    }
}

private val expected = Answer(listOf(1, 2, 3), null)

class FittingsTest : StringSpec({
    "a tasklet waits for a callback of the loop" {
        fresh {
            var r: Answer? = null
            stackless {
                r = SyncToAsync.of<Answer> { s -> FakeApi.callOk(1, 2, 3, onSuccess = s::onSuccess) }.call()
            }
            r shouldBe expected
        }
    }

    "a reported failure raises AsyncCallFailedException in the caller" {
        fresh {
            var caught: Throwable? = null
            stackless {
                caught = runCatching {
                    SyncToAsync.of<Answer> { s -> FakeApi.callFail(1, 2, 3, 4, onFailure = s::onFailure) }.call()
                }.exceptionOrNull()
            }
            (caught is AsyncCallFailedException) shouldBe true
            val error = (caught as AsyncCallFailedException).error
            (error is IllegalStateException) shouldBe true
            error.message shouldBe "failed: Answer(args=[1, 2, 3], kw=4)"
            caught!!.message shouldBe "asynchronous call failed: java.lang.IllegalStateException: failed: Answer(args=[1, 2, 3], kw=4)"
            caught!!.cause shouldBeSameInstanceAs error
        }
    }

    "a callback fired inside initiateCall is kept for the caller" {
        fresh {
            var r: Answer? = null
            stackless {
                r = SyncToAsync.of<Answer> { s -> FakeApi.callImmediate(1, 2, 3, onSuccess = s::onSuccess) }.call()
            }
            r shouldBe expected
        }
    }

    "initiateCall overridden in a subclass" {
        fresh {
            var r: Answer? = null
            stackless {
                r = object : SyncToAsync<Answer>() {
                    override fun initiateCall() = FakeApi.callOk(1, 2, 3, kw = "x", onSuccess = ::onSuccess)
                }.call()
            }
            r shouldBe Answer(listOf(1, 2, 3), "x")
        }
    }

    "cancel raises TaskletCancelledException; the late success goes to abandonedSuccess (scenario 77)" {
        fresh {
            val s = Cancelled(fail = false)
            var caught: TaskletCancelledException? = null
            stackless {
                caught = shouldThrow<TaskletCancelledException> { s.call() }
                sleep(FakeApi.HALF_DELAY)
            }
            val e = caught!!
            e.message shouldBe "cancelled: dude"
            e.args shouldBe listOf("dude")
            s.log shouldBe listOf("cancel: true", "abandonedSuccess: $expected")
        }
    }

    "a late failure goes to abandonedFailure, which passes it to abandonedSuccess by default (scenario 77)" {
        fresh {
            val s = Cancelled(fail = true)
            stackless {
                shouldThrow<TaskletCancelledException> { s.call() }
                sleep(FakeApi.HALF_DELAY)
            }
            s.log shouldBe listOf("cancel: true", "abandonedSuccess: failed: $expected")
        }
    }

    "an overridden abandonedFailure gets the late failure, abandonedSuccess nothing (scenario 77)" {
        fresh {
            val s = object : Cancelled(fail = true) {
                override fun abandonedFailure(error: Throwable) {
                    log += "abandonedFailure: ${error.message}"
                }
            }
            stackless {
                shouldThrow<TaskletCancelledException> { s.call() }
                sleep(FakeApi.HALF_DELAY)
            }
            s.log shouldBe listOf("cancel: true", "abandonedFailure: failed: $expected")
        }
    }

    "the first outcome wins; cancel, returnValue and raiseException answer false afterwards" {
        fresh {
            val log = mutableListOf<Any?>()
            val boom = UnsupportedOperationException("boom")
            stackless {
                val s = SyncToAsync.of<String> { s ->
                    log += s.raiseException(boom)
                    log += s.returnValue("second")
                    log += s.cancel()
                }
                log += s.cancel("before the call")
                shouldThrow<UnsupportedOperationException> { s.call() } shouldBeSameInstanceAs boom
                log += s.returnValue("after the call")
            }
            log shouldBe listOf(false, true, false, false, false)
        }
    }

    "an instance serves one call" {
        fresh {
            stackless {
                val s = SyncToAsync.of<Int> { s -> s.onSuccess(1) }
                s.call() shouldBe 1
                shouldThrow<IllegalStateException> { s.call() }.message shouldBe
                    "a SyncToAsync serves one call; create a new one for each call"
            }
        }
    }

    "an exception from initiateCall ends the call; later callbacks are abandoned" {
        fresh {
            val log = mutableListOf<String>()
            stackless {
                val s = object : SyncToAsync<Answer>() {
                    override fun initiateCall() {
                        FakeApi.callOk(1, 2, 3, onSuccess = ::onSuccess)
                        throw IllegalArgumentException("bad request")
                    }

                    override fun abandonedSuccess(value: Any?) {
                        log += "abandoned $value"
                    }
                }
                shouldThrow<IllegalArgumentException> { s.call() }.message shouldBe "bad request"
                sleep(2.milliseconds)
            }
            log shouldBe listOf("abandoned $expected")
        }
    }

    "a timeout ends the wait; the late value is abandoned" {
        fresh {
            val log = mutableListOf<String>()
            stackless {
                var answer: ((Answer) -> Unit)? = null // the API answers when the test says so
                val s = object : SyncToAsync<Answer>() {
                    override fun initiateCall() {
                        answer = ::onSuccess
                    }

                    override fun abandonedSuccess(value: Any?) {
                        log += "abandoned $value"
                    }
                }
                shouldThrow<TaskletTimeoutException> { timeout(FakeApi.HALF_DELAY) { s.call() } }.message shouldBe
                    "timed out after 500us"
                log += "timed out"
                answer!!(expected)
            }
            log shouldBe listOf("timed out", "abandoned $expected")
        }
    }

    "a value delivered in the same loop turn as the timeout is kept" {
        fresh {
            val log = mutableListOf<String>()
            stackless {
                val s = SyncToAsync.of<String> { s ->
                    MainLoop.callSoon { s.onSuccess("kept") }
                    Thread.sleep(5) // both the answer and the time limit are due at the next look at the timers
                }
                log += timeout(1.milliseconds) { s.call() }
                sleep(2.milliseconds) // no stray timeout afterwards
                log += "went on"
            }
            log shouldBe listOf("kept", "went on")
        }
    }

    "callBlocking from the main tasklet" {
        fresh {
            SyncToAsync.of<Answer> { s -> FakeApi.callOk(1, 2, 3, onSuccess = s::onSuccess) }.callBlocking() shouldBe expected
            shouldThrow<AsyncCallFailedException> {
                SyncToAsync.of<Answer> { s -> FakeApi.callFail(1, 2, 3, onFailure = s::onFailure) }.callBlocking()
            }.error.message shouldBe "failed: $expected"
        }
    }

    "callBlocking on the main tasklet parks, yet a timeout or a deadlock ends it" {
        fresh {
            var waited = 0L
            val late = SyncToAsync.of<String> { s -> MainLoop.callLater(1000.milliseconds) { s.onSuccess("late") } }
            val t0 = System.nanoTime()
            shouldThrow<TaskletTimeoutException> { timeoutBlocking(java.time.Duration.ofMillis(5)) { late.callBlocking() } }
                .message shouldBe "timed out after 5ms"
            waited = System.nanoTime() - t0
            (waited >= 5_000_000) shouldBe true
            val never = SyncToAsync.of<String> { }
            shouldThrow<DeadlockException> { never.callBlocking() }.message shouldBe
                "Deadlock: the last runnable tasklet cannot be blocked."
        }
    }

    "crossThread: a callback from another thread wakes the caller" {
        fresh {
            var r: String? = null
            var callbackThread: String? = null
            stackless {
                r = SyncToAsync.of<String>(crossThread = true) { s ->
                    Thread {
                        Thread.sleep(5)
                        callbackThread = Thread.currentThread().name
                        s.onSuccess("from ${Thread.currentThread().name}")
                    }.apply { name = "api worker" }.start()
                }.call()
            }
            r shouldBe "from api worker"
            callbackThread shouldBe "api worker"
        }
    }

    "without crossThread a thread with nothing else to do reports a deadlock while waiting for another thread" {
        fresh {
            val release = CountDownLatch(1)
            val answered = CountDownLatch(1)
            var accepted: Boolean? = null
            val e = shouldThrow<DeadlockException> {
                stackless {
                    SyncToAsync.of<String> { s ->
                        Thread {
                            release.await()
                            accepted = s.returnValue("too late")
                            answered.countDown()
                        }.start()
                    }.call()
                }
            }
            e.message shouldBe "Deadlock: every tasklet is blocked and no timer is pending."
            release.countDown()
            answered.await()
            accepted shouldBe true // the call is still waiting: only this thread gave up
        }
    }

    for (d in TaskletDispatch.entries) {
        "$d: AsyncToSync reports the function's result to a SyncToAsync" {
            fresh {
                var r: Answer? = null
                stackless {
                    lateinit var s: SyncToAsync<Answer>
                    val a = AsyncToSync<Answer>({ s.onSuccess(it) }, { s.onFailure(it) }, d) {
                        sleep(FakeApi.DELAY)
                        Answer(listOf(2, 3, 4), null)
                    }
                    s = SyncToAsync.of { a.initiateCallBlocking() }
                    r = s.call()
                }
                r shouldBe Answer(listOf(2, 3, 4), null)
            }
        }

        "$d: AsyncToSync reports the function's exception as a failure" {
            fresh {
                var caught: Throwable? = null
                stackless {
                    lateinit var s: SyncToAsync<Answer>
                    val a = AsyncToSync<Answer>({ s.onSuccess(it) }, { s.onFailure(it) }, d) {
                        sleep(FakeApi.DELAY)
                        throw ArithmeticException("divided ${listOf(2, 3, 4)}")
                    }
                    s = SyncToAsync.of { a.initiateCallBlocking() }
                    caught = runCatching { s.call() }.exceptionOrNull()
                }
                (caught is AsyncCallFailedException) shouldBe true
                val error = (caught as AsyncCallFailedException).error
                (error is ArithmeticException) shouldBe true
                error.message shouldBe "divided [2, 3, 4]"
            }
        }

        "$d: AsyncToSync with a function that returns at once" {
            fresh {
                var r: Answer? = null
                stackless {
                    lateinit var s: SyncToAsync<Answer>
                    val a = AsyncToSync<Answer>({ s.onSuccess(it) }, { s.onFailure(it) }, d) { Answer(listOf(2, 3, 4), "now") }
                    s = SyncToAsync.of { a.initiateCallBlocking() }
                    r = s.call()
                }
                r shouldBe Answer(listOf(2, 3, 4), "now")
            }
        }
    }

    "AsyncToSync: RUN starts the function before initiateCall returns, NEW after the caller switches" {
        for ((d, expected) in listOf(
            TaskletDispatch.RUN to listOf("function", "success 1", "initiated", "yielded"),
            TaskletDispatch.NEW to listOf("initiated", "function", "success 1", "yielded"),
        )) {
            fresh {
                val log = mutableListOf<String>()
                stackless {
                    val a = AsyncToSync<Int>(onSuccess = { log += "success $it" }, dispatcher = d) {
                        log += "function"
                        1
                    }
                    val t = a.initiateCall()
                    (t === Stackless.current) shouldBe false
                    log += "initiated"
                    Stackless.schedule()
                    log += "yielded"
                }
                log shouldBe expected
            }
        }
    }

    "AsyncToSync: a killed function is reported as a failure with its TaskletExit" {
        fresh {
            var failure: Throwable? = null
            stackless {
                val a = AsyncToSync<Int>(onFailure = { failure = it }) { sleep(1000.milliseconds); 1 }
                a.initiateCall().kill()
            }
            (failure is TaskletExit) shouldBe true
        }
    }

    "AsyncToSync.of runs a Java function on a Java-bodied tasklet" {
        fresh {
            val log = mutableListOf<String>()
            val a = AsyncToSync.of({ sleepBlocking(1.milliseconds); "java" }, { log += "success $it" }, null)
            a.initiateCallBlocking()
            log += "initiated"
            MainLoop.run() // until the function's tasklet has ended
            log shouldBe listOf("initiated", "success java")
        }
    }
})
