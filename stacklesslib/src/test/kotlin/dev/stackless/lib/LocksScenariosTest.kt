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

/**
 * Scenarios A (Lock, RLock) and D (Semaphore, BoundedSemaphore) of docs/scenarios.md (stacklesslib),
 * the lock part of scenario 27, and the fair hand-off: FIFO order, no barging, and no permit lost
 * to a waiter that is killed or timed out after the hand-off.
 */
class LocksScenariosTest : StringSpec({
    // ---------------------------------------------------------------------------------------------
    // A. Lock / RLock (lock_tests.BaseLockTests run for Lock, RLock and Condition)

    for (kind in lockKinds) {
        "A1 ${kind.name}: basic lifecycle" {
            fresh {
                stackless {
                    val l = kind.make()
                    l.locked shouldBe false
                    l.acquire() shouldBe true
                    l.locked shouldBe true
                    l.release()
                    l.locked shouldBe false
                    l.tryAcquire() shouldBe true
                    l.release()
                    kind.make().acquire() shouldBe true // dropped while held: nothing to clean up
                }
            }
        }

        "A2 ${kind.name}: tryAcquire fails while another tasklet holds it" {
            fresh {
                val results = mutableListOf<Boolean>()
                stackless {
                    val l = kind.make()
                    l.acquire()
                    spawnAll(5) { results += l.tryAcquire() }
                    yieldUntil { results.size == 5 }
                    l.release()
                }
                results shouldBe List(5) { false }
            }
        }

        "A3 ${kind.name}: contended acquires wait, then pass the lock along in arrival order" {
            fresh {
                val started = mutableListOf<Int>()
                val finished = mutableListOf<Int>()
                stackless {
                    val l = kind.make()
                    l.acquire()
                    spawnAll(5) { i ->
                        started += i
                        l.acquire()
                        l.release()
                        finished += i
                    }
                    yieldUntil { started.size == 5 }
                    yieldMs(10)
                    finished.size shouldBe 0
                    l.release()
                    yieldUntil { finished.size == 5 }
                }
                started shouldBe listOf(0, 1, 2, 3, 4)
                finished shouldBe listOf(0, 1, 2, 3, 4)
            }
        }

        "A4 ${kind.name}: withLock holds it for the block and releases it however the block ends" {
            fresh {
                stackless {
                    val l = kind.make()
                    l.withLock { l.locked } shouldBe true
                    l.locked shouldBe false
                    shouldThrow<ArithmeticException> { l.withLock { throw ArithmeticException("boom") } }.message shouldBe "boom"
                    l.locked shouldBe false
                }
            }
        }

        "A4 ${kind.name}: a timed acquire of a held lock returns false after the timeout, the lock unchanged" {
            fresh {
                val got = mutableListOf<Any>()
                stackless {
                    val l = kind.make()
                    l.acquire()
                    Tasklet {
                        got += l.acquire(0.milliseconds)
                        got += l.acquire((-5).milliseconds)
                        val t0 = System.nanoTime()
                        got += l.acquire(30.milliseconds)
                        got += (System.nanoTime() - t0 >= 30_000_000)
                    }.setup()
                    yieldUntil { got.size == 4 }
                    l.locked shouldBe true
                    l.release()
                    l.acquire(10.milliseconds) shouldBe true // state after timeout: usable as before
                    l.release()
                }
                got shouldBe listOf(false, false, false, true)
            }
        }
    }

    "A5 Lock is not reentrant: the holder's second acquire waits until another tasklet releases" {
        fresh {
            val phase = mutableListOf<Int>()
            stackless {
                val l = Lock()
                Tasklet {
                    l.acquire()
                    phase += 1
                    l.acquire()
                    phase += 2
                }.setup()
                yieldUntil { phase.size == 1 }
                yieldMs(10)
                phase shouldBe listOf(1)
                l.release()
                yieldUntil { phase.size == 2 }
                l.locked shouldBe true
                l.release()
            }
            phase shouldBe listOf(1, 2)
        }
    }

    "A5 Lock may be released by a different tasklet" {
        fresh {
            stackless {
                val l = Lock()
                l.acquire()
                var done = false
                Tasklet {
                    l.release()
                    done = true
                }.setup()
                yieldUntil { done }
                l.acquire() shouldBe true
                l.release()
            }
        }
    }

    "A6 Lock release of an unlocked lock throws (bug 24.5 fixed)" {
        fresh {
            val l = Lock()
            shouldThrow<IllegalStateException> { l.release() }.message shouldBe "release unlocked lock"
            l.acquireBlocking()
            l.release()
            shouldThrow<IllegalStateException> { l.release() }.message shouldBe "release unlocked lock"
            l.tryAcquire() shouldBe true
            l.tryAcquire() shouldBe false
        }
    }

    "A6 RLock is reentrant: n acquires need n releases" {
        fresh {
            stackless {
                val l = RLock()
                repeat(3) { l.acquire() shouldBe true }
                l.tryAcquire() shouldBe true
                repeat(3) {
                    l.release()
                    l.locked shouldBe true
                }
                l.release()
                l.locked shouldBe false
                shouldThrow<IllegalStateException> { l.release() }.message shouldBe "cannot release un-acquired lock"
            }
        }
    }

    "A7 RLock cannot be released by a non-owner" {
        fresh {
            var failure: Throwable? = null
            stackless {
                val l = RLock()
                val finish = Event()
                var started = false
                Tasklet {
                    l.acquire()
                    started = true
                    finish.wait()
                    l.release()
                }.setup()
                yieldUntil { started }
                failure = runCatching { l.release() }.exceptionOrNull()
                l.locked shouldBe true
                finish.set()
            }
            (failure is IllegalStateException) shouldBe true
            failure!!.message shouldBe "cannot release un-acquired lock"
        }
    }

    "A7 RLock ownership probe (isOwned, Python's _is_owned)" {
        fresh {
            val probes = mutableListOf<Boolean>()
            stackless {
                val l = RLock()
                probes += l.isOwned
                l.acquire()
                probes += l.isOwned
                l.acquire()
                probes += l.isOwned
                var other: Boolean? = null
                Tasklet { other = l.isOwned }.setup()
                yieldUntil { other != null }
                probes += other!!
                l.release()
                probes += l.isOwned
                l.release()
                probes += l.isOwned
            }
            probes shouldBe listOf(false, true, true, false, true, false)
        }
    }

    "A8 RLock waiters get it in arrival order when its owner releases the last level" {
        fresh {
            val log = mutableListOf<String>()
            stackless {
                val l = RLock()
                l.acquire()
                l.acquire()
                spawnAll(3) { i ->
                    l.withLock {
                        log += "got $i"
                        l.withLock { log += "again $i" }
                    }
                }
                yieldMs(5)
                l.release()
                yieldMs(5)
                log shouldBe emptyList()
                l.release()
                yieldUntil { log.size == 6 }
            }
            log shouldBe listOf("got 0", "again 0", "got 1", "again 1", "got 2", "again 2")
        }
    }

    // ---------------------------------------------------------------------------------------------
    // D. Semaphore / BoundedSemaphore (lock_tests.BaseSemaphoreTests)

    "D17 a negative initial value is rejected" {
        for (v in listOf(-1, Int.MIN_VALUE)) {
            shouldThrow<IllegalArgumentException> { Semaphore(v) }.message shouldBe "semaphore initial value must be >= 0"
            shouldThrow<IllegalArgumentException> { BoundedSemaphore(v) }.message shouldBe "semaphore initial value must be >= 0"
        }
    }

    "D17 counting: acquires up to the value never block" {
        fresh {
            stackless {
                val s1 = Semaphore(1)
                s1.acquire() shouldBe true
                s1.value shouldBe 0
                s1.release()
                s1.value shouldBe 1
                val s2 = Semaphore(2)
                s2.acquire() shouldBe true
                s2.acquire() shouldBe true
                s2.locked shouldBe true
                s2.release()
                s2.release()
                s2.value shouldBe 2
                Semaphore(2).acquire() shouldBe true // dropped while held
            }
        }
    }

    "D18 contended acquires are served in arrival order, phase by phase" {
        fresh {
            val results1 = mutableListOf<Int>()
            val results2 = mutableListOf<Int>()
            stackless {
                val sem = Semaphore(7)
                sem.acquire()
                var phase = 0
                spawnAll(10) {
                    sem.acquire()
                    results1 += phase
                    sem.acquire()
                    results2 += phase
                }
                yieldUntil { results1.size + results2.size == 6 }
                yieldMs(5)
                (results1 + results2) shouldBe List(6) { 0 }
                phase = 1
                repeat(7) { sem.release() }
                yieldUntil { results1.size + results2.size == 13 }
                phase = 2
                repeat(6) { sem.release() }
                yieldUntil { results1.size + results2.size == 19 }
                sem.tryAcquire() shouldBe false
                sem.release()
                yieldUntil { results2.size == 10 }
                sem.value shouldBe 0
            }
            results1 shouldBe listOf(0, 0, 0, 1, 1, 1, 1, 1, 1, 1)
            results2 shouldBe listOf(0, 0, 0, 2, 2, 2, 2, 2, 2, 2)
        }
    }

    "D19 non-blocking acquire" {
        fresh {
            val sem = Semaphore(2)
            listOf(sem.tryAcquire(), sem.tryAcquire(), sem.tryAcquire()) shouldBe listOf(true, true, false)
            sem.release()
            sem.tryAcquire() shouldBe true
        }
    }

    "D20 non-blocking acquire under contention" {
        fresh {
            val results = mutableListOf<Boolean>()
            stackless {
                val sem = Semaphore(4)
                sem.acquire()
                spawnAll(5) {
                    results += sem.tryAcquire()
                    results += sem.tryAcquire()
                }
                yieldUntil { results.size == 10 }
            }
            results shouldBe listOf(true, true, true, false, false, false, false, false, false, false)
        }
    }

    "D20 timed acquire" {
        fresh {
            stackless {
                val sem = Semaphore(2)
                sem.acquire(5.milliseconds) shouldBe true
                sem.acquire(5.milliseconds) shouldBe true
                sem.acquire(5.milliseconds) shouldBe false
                sem.release()
                sem.acquire(5.milliseconds) shouldBe true
                val t0 = System.nanoTime()
                sem.acquire(50.milliseconds) shouldBe false
                (System.nanoTime() - t0 >= 50_000_000) shouldBe true
                sem.value shouldBe 0
            }
        }
    }

    "D21 the default value is 1" {
        fresh {
            val log = mutableListOf<String>()
            stackless {
                val sem = Semaphore()
                sem.acquire()
                Tasklet {
                    log += "started"
                    sem.acquire()
                    sem.release()
                    log += "finished"
                }.setup()
                yieldUntil { log.size == 1 }
                yieldMs(10)
                log shouldBe listOf("started")
                sem.release()
                yieldUntil { log.size == 2 }
            }
            log shouldBe listOf("started", "finished")
            BoundedSemaphore().value shouldBe 1
        }
    }

    "D22 withLock nests and releases on an exception" {
        fresh {
            stackless {
                for (sem in listOf(SemLike(Semaphore(2)), SemLike(BoundedSemaphore(2)))) {
                    suspend fun nested(err: Throwable?) {
                        sem.withLock {
                            sem.tryAcquire() shouldBe true
                            sem.release()
                            sem.withLock {
                                sem.tryAcquire() shouldBe false
                                if (err != null) throw err
                            }
                        }
                    }
                    nested(null)
                    sem.tryAcquire() shouldBe true
                    sem.release()
                    shouldThrow<ClassCastException> { nested(ClassCastException("err")) }
                    sem.tryAcquire() shouldBe true
                    sem.release()
                    sem.value() shouldBe 2
                }
            }
        }
    }

    "D23 Semaphore release is unbounded" {
        fresh {
            stackless {
                val sem = Semaphore(1)
                sem.release()
                sem.value shouldBe 2
                sem.acquire() shouldBe true
                sem.acquire() shouldBe true
                sem.tryAcquire() shouldBe false
            }
        }
    }

    "D23 BoundedSemaphore release beyond the initial value throws" {
        fresh {
            stackless {
                val sem = BoundedSemaphore()
                shouldThrow<IllegalArgumentException> { sem.release() }.message shouldBe "Semaphore released too many times"
                sem.acquire()
                sem.release()
                shouldThrow<IllegalArgumentException> { sem.release() }.message shouldBe "Semaphore released too many times"
                sem.value shouldBe 1
            }
        }
    }

    "D24 BoundedSemaphore hands its permits to waiters without exceeding its bound" {
        fresh {
            val log = mutableListOf<String>()
            stackless {
                val sem = BoundedSemaphore(2)
                sem.acquire()
                sem.acquire()
                spawnAll(3) { i ->
                    sem.acquire()
                    log += "got $i"
                    sem.release()
                }
                yieldMs(5)
                sem.release()
                sem.release()
                sem.value shouldBe 0
                yieldUntil { log.size == 3 }
                sem.value shouldBe 2
                shouldThrow<IllegalArgumentException> { sem.release() }.message shouldBe "Semaphore released too many times"
            }
            log shouldBe listOf("got 0", "got 1", "got 2")
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Scenario 27, lock part; deadlocks; timer callbacks

    "27 timeout interrupts Lock.acquire of a lock the same tasklet holds; the lock stays held" {
        fresh {
            var caught: Throwable? = null
            var stillHeld = false
            stackless {
                val l = Lock()
                l.withLock {
                    val t0 = System.nanoTime()
                    caught = runCatching { timeout(10.milliseconds) { l.acquire() } }.exceptionOrNull()
                    (System.nanoTime() - t0 >= 10_000_000) shouldBe true
                    stillHeld = l.locked
                }
                l.locked shouldBe false
                l.acquire(0.milliseconds) shouldBe true // no stale waiter left in the queue
            }
            (caught is TaskletTimeoutException) shouldBe true
            caught!!.message shouldBe "timed out after 10ms"
            stillHeld shouldBe true
        }
    }

    "the main tasklet waiting for a lock nobody can release gets a DeadlockException and keeps nothing" {
        fresh {
            val l = Lock()
            l.acquireBlocking() shouldBe true
            val e = shouldThrow<DeadlockException> { l.acquireBlocking() }
            e.message!!.startsWith("Deadlock") shouldBe true
            l.locked shouldBe true
            l.release()
            l.acquireBlocking(0.milliseconds) shouldBe true
        }
    }

    "a timer callback may release a lock and set an event: the waiting main tasklet wakes" {
        fresh {
            val l = Lock()
            l.acquireBlocking()
            val t0 = System.nanoTime() // before the timer is made: its deadline is then >= t0 + 5 ms
            MainLoop.callLater(5.milliseconds) { l.release() }
            l.acquireBlocking() shouldBe true
            (System.nanoTime() - t0 >= 5_000_000) shouldBe true
            l.locked shouldBe true
            val sem = Semaphore(0)
            MainLoop.callLater(5.milliseconds) { sem.release() }
            sem.acquireBlocking(java.time.Duration.ofSeconds(10)) shouldBe true
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Fair hand-off

    "FIFO hand-off: release gives the lock to the longest waiter, the releaser goes on, a later tasklet cannot barge" {
        fresh {
            val log = mutableListOf<String>()
            stackless {
                val l = Lock()
                l.acquire()
                for (name in listOf("A", "B")) {
                    Tasklet {
                        log += "$name waits"
                        l.acquire()
                        log += "$name got"
                        Stackless.schedule()
                        l.release()
                    }.setup()
                }
                yieldUntil { log.size == 2 }
                l.release()
                log += "released"
                log += "locked=${l.locked}"
                log += "barge=${l.tryAcquire()}"
                Tasklet {
                    log += "C waits"
                    log += "C got=${l.acquire()}"
                    l.release()
                }.setup()
                yieldUntil { !l.locked }
            }
            log shouldBe listOf(
                "A waits", "B waits", "released", "locked=true", "barge=false",
                "A got", "C waits", "B got", "C got=true",
            )
        }
    }

    "FIFO hand-off for a semaphore: a released permit goes to the waiter, not to a later acquire" {
        fresh {
            val log = mutableListOf<String>()
            stackless {
                val sem = Semaphore(0)
                Tasklet {
                    sem.acquire()
                    log += "waiter got it"
                }.setup()
                Stackless.schedule()
                sem.release()
                log += "value=${sem.value}"
                log += "barge=${sem.tryAcquire()}"
                Stackless.schedule()
            }
            log shouldBe listOf("value=0", "barge=false", "waiter got it")
        }
    }

    "a permit handed to a waiter killed before it runs goes on to the next waiter" {
        fresh {
            val log = mutableListOf<String>()
            stackless {
                val sem = Semaphore(0)
                val a = Tasklet {
                    try {
                        sem.acquire()
                        log += "A got"
                    } catch (e: TaskletExit) {
                        log += "A killed"
                        throw e
                    }
                }.setup()
                Tasklet {
                    sem.acquire()
                    log += "B got"
                    sem.release()
                }.setup()
                yieldMs(2)
                sem.release() // to A, which has not run yet
                a.kill()
                log += "value=${sem.value}"
                yieldUntil { log.size == 3 }
                sem.value shouldBe 1
            }
            log shouldBe listOf("A killed", "value=0", "B got")
        }
    }

    "a lock handed to a waiter that is then thrown to goes on; with nobody waiting it becomes free" {
        fresh {
            val log = mutableListOf<String>()
            stackless {
                for (kind in lockKinds) {
                    val l = kind.make()
                    l.acquire()
                    val a = Tasklet {
                        try {
                            l.acquire()
                            log += "A got"
                        } catch (e: IllegalArgumentException) {
                            log += "A: ${e.message}"
                        }
                    }.setup()
                    yieldMs(2)
                    l.release()
                    a.throwException(IllegalArgumentException("boom"), pending = true)
                    yieldUntil { !a.alive }
                    log += "${kind.name} locked=${l.locked}"
                }
            }
            log shouldBe listOf(
                "A: boom", "Lock locked=false",
                "A: boom", "RLock locked=false",
                "A: boom", "Condition locked=false",
            )
        }
    }

    "an outer timeout that fires after the hand-off passes the permit on; the acquire's own timeout keeps it" {
        fresh {
            val log = mutableListOf<String>()
            stackless {
                val sem = Semaphore(0)
                Tasklet {
                    try {
                        timeout(100.milliseconds) { sem.acquire() }
                        log += "A got"
                    } catch (e: TaskletTimeoutException) {
                        log += "A timed out"
                    }
                }.setup()
                Tasklet {
                    log += "B got=${sem.acquire(100.milliseconds)}"
                }.setup()
                Tasklet {
                    log += "C got=${sem.acquire()}"
                }.setup()
                Stackless.schedule()
                sem.release() // to A
                sem.release() // to B
                Thread.sleep(120) // both timers are due before A and B run again
                MainLoop.pump()
                yieldUntil { log.size == 3 }
                sem.value shouldBe 0
            }
            log shouldBe listOf("A timed out", "B got=true", "C got=true")
        }
    }

    "a timed-out or killed waiter leaves the queue: later releases skip it" {
        fresh {
            val log = mutableListOf<String>()
            stackless {
                val l = Lock()
                l.acquire()
                Tasklet { log += "A got=${l.acquire(5.milliseconds)}" }.setup()
                val b = Tasklet {
                    try {
                        l.acquire()
                    } finally {
                        log += "B left"
                    }
                }.setup()
                Tasklet {
                    log += "C got=${l.acquire()}"
                    l.release()
                }.setup()
                yieldUntil { log.size == 1 }
                b.kill()
                l.release()
                yieldUntil { log.size == 3 }
                l.locked shouldBe false
            }
            log shouldBe listOf("A got=false", "B left", "C got=true")
        }
    }
})

/** One of the lock kinds that lock_tests.BaseLockTests runs for. */
internal class LockKind(val name: String, val make: () -> AnyLock)

/** The lock surface the shared scenarios use, over a [Lock], an [RLock] or a [Condition]. */
internal interface AnyLock {
    suspend fun acquire(timeout: Duration? = null): Boolean
    fun tryAcquire(): Boolean
    fun release()
    val locked: Boolean
    suspend fun <R> withLock(block: suspend () -> R): R
}

internal val lockKinds: List<LockKind> = listOf(
    LockKind("Lock") {
        val l = Lock()
        object : AnyLock {
            override suspend fun acquire(timeout: Duration?) = l.acquire(timeout)
            override fun tryAcquire() = l.tryAcquire()
            override fun release() = l.release()
            override val locked get() = l.locked
            override suspend fun <R> withLock(block: suspend () -> R) = l.withLock(block)
        }
    },
    LockKind("RLock") {
        val l = RLock()
        object : AnyLock {
            override suspend fun acquire(timeout: Duration?) = l.acquire(timeout)
            override fun tryAcquire() = l.tryAcquire()
            override fun release() = l.release()
            override val locked get() = l.locked
            override suspend fun <R> withLock(block: suspend () -> R) = l.withLock(block)
        }
    },
    LockKind("Condition") {
        val l = Condition()
        object : AnyLock {
            override suspend fun acquire(timeout: Duration?) = l.acquire(timeout)
            override fun tryAcquire() = l.tryAcquire()
            override fun release() = l.release()
            override val locked get() = l.locked
            override suspend fun <R> withLock(block: suspend () -> R) = l.withLock(block)
        }
    },
)

/** A [Semaphore] or a [BoundedSemaphore], for the scenarios both run. */
private class SemLike(private val s: Any) {
    suspend fun <R> withLock(block: suspend () -> R): R =
        if (s is Semaphore) s.withLock(block) else (s as BoundedSemaphore).withLock(block)
    fun tryAcquire(): Boolean = if (s is Semaphore) s.tryAcquire() else (s as BoundedSemaphore).tryAcquire()
    fun release() = if (s is Semaphore) s.release() else (s as BoundedSemaphore).release()
    fun value(): Int = if (s is Semaphore) s.value else (s as BoundedSemaphore).value
}

/** Creates [n] tasklets running [body] with their index (scheduled, not run yet). */
internal fun spawnAll(n: Int, body: suspend (Int) -> Unit) {
    for (i in 0 until n) Tasklet { body(i) }.setup()
}

/** Yields (lock_tests' `_wait`) until [done] holds; fails after 10 s. */
internal suspend fun yieldUntil(done: () -> Boolean) {
    val t0 = System.nanoTime()
    while (!done()) {
        check(System.nanoTime() - t0 < 10_000_000_000) { "condition not reached after 10 s" }
        if (Stackless.runCount > 1) Stackless.schedule() else sleep(1.milliseconds)
    }
}

/** lock_tests' `_wait()`: yields to the other tasklets for [ms] milliseconds. */
internal suspend fun yieldMs(ms: Long) {
    val t0 = System.nanoTime()
    while (System.nanoTime() - t0 < ms * 1_000_000) {
        if (Stackless.runCount > 1) Stackless.schedule() else sleep(1.milliseconds)
    }
}
