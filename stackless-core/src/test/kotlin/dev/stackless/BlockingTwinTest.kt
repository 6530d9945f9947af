package dev.stackless

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldStartWith

/**
 * `…Blocking` twins called from non-suspend code inside tasklets: the calling tasklet is
 * hard-switched (the loop goes on in another thread) and queue order is kept.
 */
class BlockingTwinTest : FunSpec({
    test("two soft tasklets using blocking twins interleave in queue order") {
        fresh {
            val log = mutableListOf<String>()
            for (n in listOf("A", "B")) {
                Tasklet {
                    log += "${n}0"
                    Stackless.scheduleBlocking()
                    log += "${n}1"
                }.setup()
            }
            Stackless.run()
            log shouldBe listOf("A0", "B0", "A1", "B1")
        }
    }

    test("a hard tasklet and a soft tasklet using a blocking twin interleave in queue order") {
        fresh {
            val log = mutableListOf<String>()
            Tasklet.of { log += "H0"; Stackless.scheduleBlocking(); log += "H1" }.setup()
            Tasklet { log += "S0"; Stackless.scheduleBlocking(); log += "S1" }.setup()
            Stackless.run()
            log shouldBe listOf("H0", "S0", "H1", "S1")
        }
    }

    test("a soft tasklet blocked in receiveBlocking gets its value") {
        fresh {
            val ch = Channel<Int>()
            var got = 0
            Tasklet { got = ch.receiveBlocking() }.setup()
            Tasklet { ch.send(42) }.setup()
            Stackless.run()
            got shouldBe 42
            ch.balance shouldBe 0
        }
    }

    test("a value taken by a blocked soft receiver is not lost when the main tasklet is below it") {
        fresh {
            val ch = Channel<Int>()
            ch.preference = 1 // the sender continues; the receiver is queued at the end
            val got = mutableListOf<Int>()
            Tasklet { got += ch.receiveBlocking() }.setup()
            Tasklet { ch.send(42) }.setup()
            Stackless.scheduleBlocking() // main stays runnable, so it must run while the receiver waits
            Stackless.run()
            got shouldBe listOf(42)
            ch.balance shouldBe 0
        }
    }

    test("a soft sender whose value was delivered does not get an error (a retry would duplicate it)") {
        fresh {
            val ch = Channel<Int>()
            val got = mutableListOf<Int>()
            var sendError: Throwable? = null
            Tasklet { got += ch.receive() }.setup()
            Tasklet { sendError = runCatching { ch.sendBlocking(42) }.exceptionOrNull() }.setup()
            Stackless.scheduleBlocking()
            Stackless.run()
            got shouldBe listOf(42)
            sendError shouldBe null
        }
    }

    test("a nested blocking run() that cannot return leaves no stale watchdog behind") {
        fresh {
            var nested: Throwable? = null
            Tasklet { nested = runCatching { Stackless.run() }.exceptionOrNull() }.setup()
            Stackless.scheduleBlocking()
            nested!!.message!! shouldStartWith "main cannot resume while"
            Stackless.runCount shouldBe 1
            // main is the watchdog again: S#32 and docs/stackless.md §4.9 hold.
            Stackless.scheduleRemoveBlocking("x") shouldBe "x"
            Tasklet { throw IllegalArgumentException("boom") }.setup()
            shouldThrow<IllegalArgumentException> { Stackless.scheduleBlocking() }.message shouldBe "boom"
        }
    }

    test("a failing setup() leaves tempval as it was") {
        fresh {
            val t = Tasklet()
            t.tempval = "not a function"
            shouldThrow<IllegalArgumentException> { t.setup() }.message shouldBe
                "tasklet function must be a callable or None"
            t.tempval shouldBe "not a function"
            t.alive shouldBe false
        }
    }

    test("an interrupt delivered while a hard tasklet waits for the baton is kept for it") {
        fresh {
            var interruptedAfter = false
            Tasklet.of {
                Thread.currentThread().interrupt()
                Stackless.scheduleBlocking() // parks until the baton comes back; must not spin or lose the flag
                interruptedAfter = Thread.interrupted()
            }.setup()
            Stackless.run()
            interruptedAfter shouldBe true
        }
    }
})
