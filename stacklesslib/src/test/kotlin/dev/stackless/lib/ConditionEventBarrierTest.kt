package dev.stackless.lib

import dev.stackless.DeadlockException
import dev.stackless.Stackless
import dev.stackless.Tasklet
import dev.stackless.TaskletExit
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.StringSpec
import io.kotest.matchers.shouldBe
import kotlin.time.Duration
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds

/**
 * Scenarios B (Event) and C (Condition) of docs/scenarios.md (stacklesslib), the Event part of scenario
 * 27, and Python's BarrierTests, with exact event orders.
 */
class ConditionEventBarrierTest : StringSpec({
    // ---------------------------------------------------------------------------------------------
    // B. Event

    "B9 flag transitions are idempotent" {
        val e = Event()
        val seen = mutableListOf(e.isSet)
        e.set()
        seen += e.isSet
        e.set()
        seen += e.isSet
        e.clear()
        seen += e.isSet
        e.clear()
        seen += e.isSet
        seen shouldBe listOf(false, true, true, false, false)
    }

    "B10 set wakes every waiter in arrival order; the setter goes on first" {
        fresh {
            val log = mutableListOf<String>()
            stackless {
                val e = Event()
                spawnAll(5) { i -> log += "$i:${e.wait()}" }
                yieldMs(5)
                log shouldBe emptyList()
                e.set()
                log += "set"
                yieldUntil { log.size == 6 }
                e.wait() shouldBe true // set: returns at once
            }
            log shouldBe listOf("set", "0:true", "1:true", "2:true", "3:true", "4:true")
        }
    }

    "B11 Event timeouts" {
        fresh {
            for (flag in listOf(false, true)) {
                val r1 = mutableListOf<Boolean>()
                val r2 = mutableListOf<Pair<Boolean, Long>>()
                stackless {
                    val e = Event()
                    if (flag) e.set()
                    spawnAll(5) {
                        r1 += e.wait(Duration.ZERO)
                        val t0 = System.nanoTime()
                        val r = e.wait(50.milliseconds)
                        r2 += r to (System.nanoTime() - t0)
                    }
                }
                r1 shouldBe List(5) { flag }
                r2.map { it.first } shouldBe List(5) { flag }
                if (!flag) r2.forEach { (it.second >= 50_000_000) shouldBe true }
            }
        }
    }

    "B12 wait returns the flag when the waiter runs again: false after set() then clear()" {
        fresh {
            val results = mutableListOf<Boolean>()
            stackless {
                val e = Event()
                spawnAll(5) { results += e.wait(1.seconds) }
                yieldMs(5)
                e.set()
                e.clear()
                yieldUntil { results.size == 5 }
            }
            results shouldBe List(5) { false }
        }
    }

    "B12 wait(timeout) returns true when another tasklet sets the event meanwhile" {
        fresh {
            var result: Boolean? = null
            stackless {
                val e = Event()
                Tasklet {
                    sleep(10.milliseconds)
                    e.set()
                }.setup()
                result = e.wait(10.seconds)
            }
            result shouldBe true
        }
    }

    "B12 wait(0) on an unset event returns false without blocking, even on a lone main tasklet" {
        fresh {
            val e = Event()
            e.waitBlocking(Duration.ZERO) shouldBe false
            e.waitBlocking(java.time.Duration.ZERO) shouldBe false
            e.waitBlocking((-1).seconds) shouldBe false
            shouldThrow<DeadlockException> { e.waitBlocking() }
            e.set()
            e.waitBlocking() shouldBe true
        }
    }

    "B12 a timer callback may set the event: the waiting main tasklet wakes" {
        fresh {
            val e = Event()
            MainLoop.callLater(5.milliseconds) { e.set() }
            e.waitBlocking(java.time.Duration.ofSeconds(10)) shouldBe true
        }
    }

    "B12 a killed waiter leaves; the others still get the set" {
        fresh {
            val log = mutableListOf<String>()
            stackless {
                val e = Event()
                val tasklets = (0 until 3).map { i ->
                    Tasklet {
                        try {
                            log += "$i:${e.wait()}"
                        } catch (x: TaskletExit) {
                            log += "$i killed"
                            throw x
                        }
                    }.setup()
                }
                yieldMs(2)
                tasklets[1].kill()
                e.set()
                yieldUntil { log.size == 3 }
            }
            log shouldBe listOf("1 killed", "0:true", "2:true")
        }
    }

    "27 timeout interrupts Event.wait" {
        fresh {
            var caught: Throwable? = null
            stackless {
                val e = Event()
                caught = runCatching { timeout(10.milliseconds) { e.wait() } }.exceptionOrNull()
                e.set()
                e.wait(0.milliseconds) shouldBe true
            }
            (caught is TaskletTimeoutException) shouldBe true
            caught!!.message shouldBe "timed out after 10ms"
        }
    }

    // ---------------------------------------------------------------------------------------------
    // C. Condition

    "C13 wait and notify require the lock" {
        fresh {
            val c = Condition()
            shouldThrow<IllegalStateException> { c.waitBlocking() }.message shouldBe "cannot wait on un-acquired lock"
            shouldThrow<IllegalStateException> { c.notify() }.message shouldBe "cannot notify on un-acquired lock"
            shouldThrow<IllegalStateException> { c.notifyAll() }.message shouldBe "cannot notify on un-acquired lock"
            stackless {
                c.acquire()
                var failures: List<String?> = emptyList()
                Tasklet {
                    failures = listOf(
                        runCatching { c.wait() }.exceptionOrNull()?.message,
                        runCatching { c.notify() }.exceptionOrNull()?.message,
                    )
                }.setup()
                yieldUntil { failures.isNotEmpty() }
                failures shouldBe listOf("cannot wait on un-acquired lock", "cannot notify on un-acquired lock")
                c.release()
            }
        }
    }

    "C14 the condition's acquire and release are its RLock's" {
        fresh {
            stackless {
                val lock = RLock()
                val c = Condition(lock)
                c.lock shouldBe lock
                c.acquire() shouldBe true
                c.acquire() shouldBe true
                lock.isOwned shouldBe true
                c.release()
                c.release()
                c.locked shouldBe false
                c.acquire()
                var other: Boolean? = null
                Tasklet { other = c.tryAcquire() }.setup()
                yieldUntil { other != null }
                other shouldBe false
                c.release()
            }
        }
    }

    "C15 wait(timeout) returns false after the timeout with the lock taken back" {
        fresh {
            val results = mutableListOf<String>()
            stackless {
                val c = Condition()
                spawnAll(5) { i ->
                    c.acquire()
                    val t0 = System.nanoTime()
                    val r = c.wait(50.milliseconds)
                    val dt = System.nanoTime() - t0
                    results += "$i:$r:${dt >= 50_000_000}:${c.isOwned}"
                    c.release()
                }
            }
            results shouldBe (0 until 5).map { "$it:false:true:true" }
        }
    }

    "C16 notify(n) wakes the n longest waiters, notifyAll the rest, in arrival order" {
        fresh {
            val results1 = mutableListOf<String>()
            val results2 = mutableListOf<String>()
            stackless {
                val c = Condition()
                var phase = 0
                spawnAll(5) { i ->
                    c.acquire()
                    var r = c.wait()
                    c.release()
                    results1 += "$i:$r:$phase"
                    c.acquire()
                    r = c.wait()
                    c.release()
                    results2 += "$i:$r:$phase"
                }
                yieldMs(5)
                results1 shouldBe emptyList()
                c.acquire()
                c.notify(3)
                yieldMs(5) // the notified wait for the lock
                phase = 1
                c.release()
                yieldUntil { results1.size == 3 }
                yieldMs(5)
                results2 shouldBe emptyList()
                c.acquire()
                c.notify(5)
                yieldMs(5)
                phase = 2
                c.release()
                yieldUntil { results1.size + results2.size == 8 }
                c.acquire()
                c.notifyAll()
                yieldMs(5)
                phase = 3
                c.release()
                yieldUntil { results2.size == 5 }
            }
            results1 shouldBe listOf("0:true:1", "1:true:1", "2:true:1", "3:true:2", "4:true:2")
            results2 shouldBe listOf("0:true:2", "1:true:2", "2:true:2", "3:true:3", "4:true:3")
        }
    }

    "C16 a notification with nobody waiting is dropped; notify(n) wakes at most the waiters there are" {
        fresh {
            val log = mutableListOf<String>()
            stackless {
                val c = Condition()
                c.withLock { c.notify(3) }
                Tasklet { c.withLock { log += "A:${c.wait(20.milliseconds)}" } }.setup()
                yieldUntil { log.size == 1 }
                Tasklet { c.withLock { log += "B:${c.wait()}" } }.setup()
                Tasklet { c.withLock { log += "C:${c.wait()}" } }.setup()
                Stackless.schedule()
                c.withLock { c.notify(10) }
                yieldUntil { log.size == 3 }
                c.withLock { c.notify(0) }
                shouldThrow<IllegalArgumentException> { c.withLock { c.notify(-1) } }.message shouldBe
                    "cannot notify a negative number of waiters: -1"
            }
            log shouldBe listOf("A:false", "B:true", "C:true")
        }
    }

    "C16 wait releases an RLock held at any depth and restores the depth" {
        fresh {
            val log = mutableListOf<String>()
            stackless {
                val c = Condition()
                repeat(3) { c.acquire() }
                Tasklet {
                    c.withLock {
                        log += "other has it"
                        c.notify()
                    }
                }.setup()
                log += "notified=${c.wait()}"
                log += "owned=${c.isOwned}"
                repeat(3) { c.release() }
                log += "locked=${c.locked}"
                shouldThrow<IllegalStateException> { c.release() }.message shouldBe "cannot release un-acquired lock"
            }
            log shouldBe listOf("other has it", "notified=true", "owned=true", "locked=false")
        }
    }

    "C16 wait(0) does not wait for a notification but lets lock waiters go first" {
        fresh {
            val log = mutableListOf<String>()
            stackless {
                val c = Condition()
                c.acquire()
                Tasklet { c.withLock { log += "waiter had the lock" } }.setup()
                Stackless.schedule()
                log += "wait(0)=${c.wait(Duration.ZERO)}"
                log += "owned=${c.isOwned}"
                c.release()
            }
            log shouldBe listOf("waiter had the lock", "wait(0)=false", "owned=true")
        }
    }

    "C16 a killed waiter takes the lock back before the kill goes on" {
        fresh {
            val log = mutableListOf<String>()
            stackless {
                val c = Condition()
                val a = Tasklet {
                    c.withLock {
                        try {
                            c.wait()
                        } finally {
                            log += "owned=${c.isOwned}"
                        }
                    }
                }.setup()
                Stackless.schedule()
                c.acquire()
                a.kill() // a waits for the lock the killer holds
                log += "killer goes on"
                c.release()
                yieldUntil { !a.alive }
                log += "locked=${c.locked}"
            }
            log shouldBe listOf("killer goes on", "owned=true", "locked=false")
        }
    }

    "C16 a notification is passed on when its waiter is killed or timed out before wait() returns" {
        fresh {
            val log = mutableListOf<String>()
            stackless {
                val c = Condition()
                // Killed right after notify(): the next waiter gets the notification.
                val a = Tasklet {
                    try {
                        c.withLock { c.wait() }
                    } catch (e: TaskletExit) {
                        log += "A killed"
                        throw e
                    }
                }.setup()
                Tasklet { c.withLock { log += "B:${c.wait()}" } }.setup()
                // Timed out (enclosing timeout) after notify(): the notification goes to C.
                Tasklet {
                    try {
                        timeout(200.milliseconds) { c.withLock { c.wait() } }
                    } catch (e: TaskletTimeoutException) {
                        log += "D timed out"
                    }
                }.setup()
                Tasklet { c.withLock { log += "C:${c.wait()}" } }.setup()
                Stackless.schedule()
                c.acquire()
                c.notify() // to A
                a.kill()
                log += "after kill"
                c.release()
                yieldUntil { log.size == 3 }
                c.acquire()
                c.notify() // to D
                Thread.sleep(250)
                MainLoop.pump() // D's timeout fires before D runs
                c.release()
                yieldUntil { log.size == 5 }
            }
            log shouldBe listOf("after kill", "A killed", "B:true", "D timed out", "C:true")
        }
    }

    "C16 waitFor waits until the predicate holds" {
        fresh {
            var result: String? = null
            stackless {
                val c = Condition()
                var state = 0
                Tasklet {
                    c.withLock {
                        val r = c.waitFor { state == 4 }
                        result = "$r:$state"
                    }
                }.setup()
                repeat(4) {
                    sleep(2.milliseconds)
                    c.withLock {
                        state++
                        c.notify()
                    }
                }
            }
            result shouldBe "true:4"
        }
    }

    "C16 waitFor with a timeout returns the predicate's last value" {
        fresh {
            val results = mutableListOf<String>()
            stackless {
                val c = Condition()
                var state = 0
                Tasklet {
                    c.withLock {
                        val t0 = System.nanoTime()
                        val r = c.waitFor(50.milliseconds) { state == 4 }
                        results += "$r:${System.nanoTime() - t0 >= 50_000_000}"
                    }
                }.setup()
                Tasklet {
                    c.withLock { results += "at once:${c.waitFor(Duration.ZERO) { state == 0 }}" }
                }.setup()
                repeat(3) {
                    sleep(2.milliseconds)
                    c.withLock {
                        state++
                        c.notify()
                    }
                }
                c.withLock { results += "zero:${c.waitFor(Duration.ZERO) { state == 4 }}" }
            }
            results shouldBe listOf("at once:true", "zero:false", "false:true")
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Barrier (Python's BarrierTests, N = 5)

    "Barrier: every tasklet passes each round only after all arrived" {
        fresh {
            val n = 5
            val results0 = mutableListOf<Int>()
            val results1 = mutableListOf<Int>()
            val checks = mutableListOf<Boolean>()
            var finished = 0
            stackless {
                val b = Barrier(n)
                b.parties shouldBe n
                spawnAll(n) { i ->
                    for (round in 0 until 2) {
                        results0 += i
                        checks += results1.size == round * n
                        b.await()
                        results1 += i
                        checks += results0.size == (round + 1) * n
                        b.await()
                    }
                    finished++
                }
                yieldUntil { finished == n }
                b.nWaiting shouldBe 0
                b.broken shouldBe false
            }
            checks shouldBe List(4 * n) { true }
            results1.take(n).sorted() shouldBe (0 until n).toList()
            results1.drop(n).sorted() shouldBe (0 until n).toList()
        }
    }

    "Barrier: await returns the arrival index; the last arriver runs the action once per round" {
        fresh {
            val log = mutableListOf<String>()
            stackless {
                var rounds = 0
                val b = Barrier(3, Runnable { log += "action ${++rounds} by ${Stackless.current.name}" })
                spawnAll(3) { i ->
                    Stackless.current.name = "t$i"
                    val index = b.await()
                    log += "t$i:$index"
                    b.await()
                }
                yieldUntil { rounds == 2 }
                b.nWaiting shouldBe 0
            }
            // t1, the last to leave round 1, is the first to arrive in round 2, so t0 arrives last.
            log shouldBe listOf("action 1 by t2", "t2:2", "t0:0", "t1:1", "action 2 by t0")
        }
    }

    "Barrier: nWaiting counts the tasklets waiting in the current round" {
        fresh {
            stackless {
                val b = Barrier(3)
                spawnAll(2) { b.await() }
                yieldMs(2)
                b.nWaiting shouldBe 2
                b.await() shouldBe 2
                b.nWaiting shouldBe 0
            }
        }
    }

    "Barrier: a single party never waits" {
        fresh {
            val b = Barrier(1)
            listOf(b.awaitBlocking(), b.awaitBlocking(), b.awaitBlocking()) shouldBe listOf(0, 0, 0)
            shouldThrow<IllegalArgumentException> { Barrier(0) }.message shouldBe "parties must be >= 1: 0"
        }
    }

    "Barrier: abort breaks it for every waiter" {
        fresh {
            val n = 5
            val log = mutableListOf<String>()
            stackless {
                val b = Barrier(n)
                spawnAll(n) { i ->
                    try {
                        val index = b.await()
                        if (index == n / 2) throw IllegalStateException("abort")
                        b.await()
                        log += "$i passed"
                    } catch (e: BrokenBarrierException) {
                        log += "$i broken: ${e.message}"
                    } catch (e: IllegalStateException) {
                        b.abort()
                    }
                }
                yieldUntil { log.size == n - 1 }
                b.broken shouldBe true
                shouldThrow<BrokenBarrierException> { b.await() }
            }
            log shouldBe listOf(3, 4, 0, 1).map { "$it broken: barrier is broken" }
        }
    }

    "Barrier: an action that throws breaks it; the last arriver gets the exception" {
        fresh {
            val log = mutableListOf<String>()
            stackless {
                val b = Barrier(3, Runnable { throw ArithmeticException("action failed") })
                spawnAll(3) { i ->
                    try {
                        b.await()
                    } catch (e: BrokenBarrierException) {
                        log += "$i broken"
                    } catch (e: ArithmeticException) {
                        log += "$i: ${e.message}"
                    }
                }
                yieldUntil { log.size == 3 }
                b.broken shouldBe true
            }
            log shouldBe listOf("2: action failed", "0 broken", "1 broken")
        }
    }

    "Barrier: reset breaks the waiting round, then the barrier works again" {
        fresh {
            val n = 5
            val results2 = mutableListOf<Int>()
            val results3 = mutableListOf<Int>()
            stackless {
                val b = Barrier(n)
                spawnAll(n) { i ->
                    val index = b.await()
                    if (index == n / 2) {
                        while (b.nWaiting < n - 1) sleep(1.milliseconds)
                        b.reset()
                    } else {
                        try {
                            b.await()
                        } catch (e: BrokenBarrierException) {
                            results2 += i
                        }
                    }
                    b.await()
                    results3 += i
                }
                yieldUntil { results3.size == n }
                b.broken shouldBe false
            }
            results2.sorted() shouldBe listOf(0, 1, 3, 4)
            results3.sorted() shouldBe (0 until n).toList()
        }
    }

    "Barrier: abort then reset with a second barrier to synchronize" {
        fresh {
            val n = 5
            val log = mutableListOf<String>()
            stackless {
                val b = Barrier(n)
                val b2 = Barrier(n)
                spawnAll(n) { i ->
                    try {
                        val index = b.await()
                        if (index == n / 2) throw IllegalStateException("abort")
                        b.await()
                        log += "passed"
                    } catch (e: BrokenBarrierException) {
                        log += "broken"
                    } catch (e: IllegalStateException) {
                        b.abort()
                    }
                    if (b2.await() == n / 2) b.reset()
                    b2.await()
                    b.await()
                    log += "again $i"
                }
                yieldUntil { log.size == 2 * n - 1 }
            }
            log.count { it == "broken" } shouldBe n - 1
            log.count { it == "passed" } shouldBe 0
            log.filter { it.startsWith("again") }.sorted() shouldBe (0 until n).map { "again $it" }
        }
    }

    "Barrier: a timeout breaks it for every waiter; the default timeout applies when none is given" {
        fresh {
            for (default in listOf(false, true)) {
                val n = 3
                val log = mutableListOf<String>()
                stackless {
                    val b = if (default) Barrier(n, null, 10.milliseconds) else Barrier(n)
                    spawnAll(n) { i ->
                        val index = b.await(10.seconds)
                        if (index == n / 2) sleep(50.milliseconds) // one party is late
                        try {
                            if (default) b.await() else b.await(10.milliseconds)
                            log += "$i passed"
                        } catch (e: BrokenBarrierException) {
                            log += "$i broken"
                        }
                    }
                    yieldUntil { log.size == n }
                    b.broken shouldBe true
                    b.nWaiting shouldBe 0
                    b.reset()
                    b.broken shouldBe false
                }
                log shouldBe listOf("2 broken", "0 broken", "1 broken")
            }
        }
    }
})
