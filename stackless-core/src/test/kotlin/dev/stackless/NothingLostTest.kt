package dev.stackless

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.ints.shouldBeLessThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldStartWith
import java.util.Collections
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicInteger
import java.util.concurrent.atomic.AtomicIntegerArray
import kotlin.concurrent.thread

// The promise "a value sent is received exactly once or its sender gets the error", attacked where it
// broke: a throw racing a cross-thread rendezvous, a throw after a watchdog interrupt, a thread that ends
// with a value in hand; and the misuses that corrupted state or failed with a bare NullPointerException
// (a deadlock report of millions of tasklets, a callback that kills or switches).
//
// Races are driven by counts, not by time: each test ends after a fixed number of messages, and checks
// its accounting exactly. Nothing asserts on timing; latches fail after GUARD_S instead of hanging.

private const val GUARD_S = 30L

private fun CountDownLatch.pass(what: String) {
    if (!await(GUARD_S, TimeUnit.SECONDS)) throw AssertionError("timed out (${GUARD_S} s) waiting for $what")
}

class NothingLostTest : FunSpec({

    test("a throw racing a cross-thread rendezvous neither loses nor duplicates a value") {
        fresh {
            // This thread has a scheduler before the others start: the owner thread, alone, would
            // otherwise report a deadlock while it waits for this thread's final message.
            Stackless.current
            val messages = 30_000
            val ch = Channel<Int>()
            val next = AtomicInteger()
            val stop = AtomicBoolean()
            val sent = AtomicIntegerArray(messages + 16)
            val got = AtomicIntegerArray(messages + 16)
            val errors = Collections.synchronizedList(ArrayList<Throwable>())
            val ready = CountDownLatch(3)
            val go = CountDownLatch(1)
            lateinit var receiver: Tasklet
            val owner = thread(name = "owner") {
                try {
                    receiver = Tasklet {
                        while (true) {
                            try {
                                val v = ch.receive()
                                if (v < 0) break
                                got.incrementAndGet(v)
                            } catch (_: IllegalArgumentException) {
                                // The thrower's poke: receive again.
                            }
                        }
                    }.setup()
                    Tasklet {
                        while (!stop.get()) {
                            receiver.throwException(IllegalArgumentException("poke"))
                            Stackless.schedule()
                        }
                    }.setup()
                    ready.countDown()
                    go.await()
                    Stackless.runAll()
                } catch (e: Throwable) {
                    errors.add(e)
                }
            }
            val senders = List(2) { i ->
                thread(name = "sender-$i") {
                    try {
                        Tasklet {
                            while (true) {
                                val v = next.incrementAndGet()
                                if (v > messages) break
                                ch.send(v)
                                sent.set(v, 1)
                            }
                        }.setup()
                        ready.countDown()
                        go.await()
                        Stackless.runAll()
                    } catch (e: Throwable) {
                        errors.add(e)
                    }
                }
            }
            ready.pass("the threads")
            go.countDown()
            for (s in senders) s.join(GUARD_S * 1000)
            stop.set(true)
            ch.sendBlocking(-1)
            owner.join(GUARD_S * 1000)
            errors shouldBe emptyList()
            var received = 0
            for (v in 1..messages) {
                got.get(v) shouldBe sent.get(v)
                received += got.get(v)
            }
            received shouldBe messages
        }
    }

    test("a throw after a hard watchdog interrupt keeps the received value; the exception comes at the next switch point") {
        fresh {
            val ch = Channel<Int>()
            val log = ArrayList<String>()
            Tasklet { ch.send(1) }.setup()
            val victim = Tasklet {
                log += try {
                    "received ${ch.receive()}"
                } catch (e: Throwable) {
                    "receive threw $e"
                }
                try {
                    Stackless.schedule()
                    log += "schedule returned"
                } catch (e: IllegalStateException) {
                    log += "schedule threw ${e.message}"
                }
            }.setup()
            Stackless.run(1) shouldBe victim
            victim.throwExceptionBlocking(IllegalStateException("poke"), pending = true)
            Stackless.run()
            log shouldBe listOf("received 1", "schedule threw poke")
        }
    }

    test("a kill after a hard watchdog interrupt keeps the received value") {
        fresh {
            val ch = Channel<Int>()
            val log = ArrayList<String>()
            Tasklet { ch.send(7) }.setup()
            val victim = Tasklet {
                try {
                    log += "received ${ch.receive()}"
                    Stackless.schedule()
                    log += "not killed"
                } catch (e: TaskletExit) {
                    log += "killed at the next switch point"
                    throw e
                }
            }.setup()
            Stackless.run(1) shouldBe victim
            victim.killBlocking(pending = true)
            Stackless.run()
            log shouldBe listOf("received 7", "killed at the next switch point")
            victim.alive shouldBe false
        }
    }

    test("a value handed to a thread that idles in plain code and then ends is received (its finally runs)") {
        fresh {
            val ch = Channel<Int>()
            ch.open()
            val idle = CountDownLatch(1)
            val sent = CountDownLatch(1)
            val finished = CountDownLatch(1)
            val received = AtomicInteger(-1)
            val b = thread(name = "ends-with-a-value") {
                Tasklet {
                    try {
                        received.set(ch.receive())
                        Stackless.schedule()
                    } finally {
                        finished.countDown()
                    }
                }.setup()
                Stackless.run()
                idle.countDown()
                // Plain code, no switch point: the thread ends without taking its mail.
                sent.await()
            }
            while (idle.count > 0) Stackless.scheduleBlocking()
            ch.sendBlocking(42)
            sent.countDown()
            b.join()
            finished.pass("the receiver's finally block")
            received.get() shouldBe 42
        }
    }

    test("a send to a tasklet whose thread has ended fails as a send without a receiver") {
        fresh {
            val ch = Channel<Int>()
            ch.open()
            val b = thread(name = "ended") {
                Tasklet { ch.receive() }.setup()
                Stackless.run()
            }
            while (b.isAlive) Stackless.scheduleBlocking()
            b.join()
            ch.balance shouldBe -1
            val e = shouldThrow<DeadlockException> { ch.sendBlocking(1) }
            e.message!! shouldStartWith "Deadlock"
            ch.balance shouldBe 0
        }
    }

    test("the deadlock report of 200,000 blocked tasklets is bounded, counts them per channel and leaves the scheduler whole") {
        fresh {
            val a = Channel<Int>()
            val b = Channel<Int>()
            repeat(150_000) { Tasklet { a.receive() }.setup() }
            repeat(50_000) { Tasklet { b.send(1) }.setup() }
            Stackless.run()
            val c = Channel<Int>()
            val e = shouldThrow<DeadlockException> { c.receiveBlocking() }
            val message = e.message!!
            message.length shouldBeLessThan 4_000
            message.lines().size shouldBe 1 + Deadlocks.LISTED + 1
            // main itself is the first line: the 19 others listed are receivers on a.
            message shouldContain "and 199,981 more blocked tasklets: 149,981 on $a, 50,000 on $b"
            Stackless.current.isMain shouldBe true
            Stackless.runCount shouldBe 1
            a.balance shouldBe -150_000
            b.balance shouldBe 50_000
            // Everything still works: feed the receivers and drain the senders.
            repeat(150_000) { a.sendBlocking(it) }
            repeat(50_000) { b.receiveBlocking() }
            a.balance shouldBe 0
            b.balance shouldBe 0
        }
    }

    test("a report that cannot be made says so, and the blocking tasklet gets its DeadlockException with its state restored") {
        fresh {
            val ch = Channel<Int>()
            @OptIn(InternalStacklessApi::class)
            ch.waitingFor = object {
                override fun toString(): String = throw IllegalStateException("broken toString")
            }
            Tasklet { ch.receive() }.setup()
            Stackless.run()
            val e = shouldThrow<DeadlockException> { Channel<Int>().receiveBlocking() }
            e.message!! shouldContain "the list of blocked tasklets could not be made: java.lang.IllegalStateException: broken toString"
            Stackless.current.isMain shouldBe true
            Stackless.runCount shouldBe 1
            ch.balance shouldBe -1
        }
    }

    test("a channel callback that kills the waiting partner: the send goes to the next waiter, no NullPointerException") {
        fresh {
            val ch = Channel<String>()
            val log = ArrayList<String>()
            val first = Tasklet {
                try {
                    ch.receive()
                } catch (e: TaskletExit) {
                    log += "first killed"
                }
            }.setup()
            Tasklet { log += "second got ${ch.receive()}" }.setup()
            Stackless.run()
            // The callback is global: other threads' channels are none of its business.
            val old = Stackless.setChannelCallback { c, t, sending, _ ->
                if (c === ch && sending && t.isMain && first.alive) first.killBlocking(pending = true)
            }
            try {
                ch.sendBlocking("v")
            } finally {
                Stackless.setChannelCallback(old)
            }
            Stackless.run()
            log shouldBe listOf("second got v", "first killed")
            ch.balance shouldBe 0
        }
    }

    test("a channel callback cannot switch: a kill without pending is refused with a clear error") {
        fresh {
            val ch = Channel<String>()
            val r = Tasklet { ch.receive() }.setup()
            Stackless.run()
            val refused = ArrayList<String>()
            val old = Stackless.setChannelCallback { c, t, _, _ ->
                if (c === ch && t.isMain) {
                    try {
                        r.killBlocking()
                    } catch (e: IllegalStateException) {
                        refused += e.message!!
                    }
                }
            }
            try {
                ch.sendBlocking("v")
            } finally {
                Stackless.setChannelCallback(old)
            }
            refused shouldBe listOf("A channel callback cannot switch tasklets or use a channel (current: main)")
            r.alive shouldBe false
            ch.balance shouldBe 0
        }
    }

    test("scheduleBlocking() in a schedule callback is refused with a clear error; switching goes on") {
        fresh {
            val refused = Collections.synchronizedList(ArrayList<String>())
            val log = ArrayList<String>()
            val me = Thread.currentThread()
            // The callback is global: only this thread's switches count.
            val old = Stackless.setScheduleCallback { _, _ ->
                if (Thread.currentThread() !== me) return@setScheduleCallback
                try {
                    Stackless.scheduleBlocking()
                } catch (e: IllegalStateException) {
                    refused += e.message!!
                }
            }
            try {
                Tasklet { log += "a" }.setup()
                Tasklet { log += "b" }.setup()
                Stackless.run()
            } finally {
                Stackless.setScheduleCallback(old)
            }
            log shouldBe listOf("a", "b")
            refused.isEmpty() shouldBe false
            refused.forEach { it shouldStartWith "A schedule callback cannot switch tasklets or use a channel (current: " }
            Stackless.runCount shouldBe 1
        }
    }
})
