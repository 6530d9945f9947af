package dev.stackless.lib

import dev.stackless.Channel
import dev.stackless.DeadlockException
import dev.stackless.Stackless
import dev.stackless.Tasklet
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.StringSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.util.concurrent.atomic.AtomicReference
import kotlin.concurrent.thread
import kotlin.time.Duration.Companion.milliseconds

/** Runs [block] on a new plain thread and returns what it threw, or null. */
private fun fromOtherThread(block: () -> Unit): Throwable? {
    val thrown = AtomicReference<Throwable?>()
    thread(name = "intruder") {
        try {
            block()
        } catch (e: Throwable) {
            thrown.set(e)
        }
    }.join(30_000)
    return thrown.get()
}

// Misuse that was silent or corrupted state: the per-thread locks used from another thread, a stale
// wake-up of callOnThread, and a lock whose holder died; and a timeout that fired on a game loop's
// paused tasklet after its receive had completed (issue "Nothing lost under attack", 2, 5 and 6).
class MisuseTest : StringSpec({
    "a Semaphore released from another thread fails before anything changes" {
        fresh {
            val sem = Semaphore(1)
            sem.acquireBlocking() shouldBe true
            val e = fromOtherThread { sem.release() }
            (e is IllegalStateException) shouldBe true
            e!!.message shouldBe "Semaphore(value=0) belongs to the tasklets of thread '${Thread.currentThread().name}' " +
                "and cannot be used from thread 'intruder'"
            sem.value shouldBe 0
            sem.release()
            sem.value shouldBe 1
        }
    }

    "Lock, RLock, BoundedSemaphore, Event and Barrier refuse use from another thread" {
        fresh {
            val lock = Lock()
            val rlock = RLock()
            val bounded = BoundedSemaphore(2)
            val event = Event()
            val barrier = Barrier(2)
            lock.acquireBlocking()
            rlock.acquireBlocking()
            bounded.acquireBlocking()
            event.clear()
            barrier.reset()
            val failures = listOf(
                fromOtherThread { lock.release() },
                fromOtherThread { lock.tryAcquire() },
                fromOtherThread { rlock.tryAcquire() },
                fromOtherThread { bounded.release() },
                fromOtherThread { event.set() },
                fromOtherThread { barrier.abort() },
            )
            failures.map { it?.message?.substringAfter(" belongs to ") } shouldBe List(6) {
                "the tasklets of thread '${Thread.currentThread().name}' and cannot be used from thread 'intruder'"
            }
            lock.locked shouldBe true
            rlock.isOwned shouldBe true
            bounded.value shouldBe 1
            event.isSet shouldBe false
            lock.release()
            rlock.release()
            bounded.release()
        }
    }

    "callOnThread leaves no stale wake-up behind: a later scheduleRemove() stays paused until inserted" {
        fresh {
            val rounds = 1_000
            var stale = 0
            var done = 0
            var atRest = false
            var inserted = false
            stackless {
                val worker = Tasklet {
                    repeat(rounds) {
                        callOnThread { it }
                        atRest = true
                        Stackless.scheduleRemove()
                        atRest = false
                        // Only the tasklet below puts it back, and says so first.
                        if (!inserted) stale++
                        inserted = false
                        done++
                    }
                }.setup()
                Tasklet {
                    while (worker.alive) {
                        while (worker.alive && !(atRest && worker.paused)) Stackless.schedule()
                        if (!worker.alive) break
                        // Give a stale wake-up from the pool thread the time to arrive and be applied.
                        repeat(20) { Stackless.schedule() }
                        if (worker.paused) {
                            inserted = true
                            worker.insert()
                        }
                        Stackless.schedule()
                    }
                }.setup()
            }
            stale shouldBe 0
            done shouldBe rounds
        }
    }

    "a lock whose holder was killed while holding it: the deadlock report names the lock and its dead owner" {
        fresh {
            val lock = RLock()
            val holder = Tasklet {
                lock.acquire()
                Stackless.scheduleRemove()
            }
            holder.name = "holder"
            holder.setup()
            Stackless.run()
            holder.killBlocking()
            holder.alive shouldBe false
            val e = shouldThrow<DeadlockException> { lock.acquireBlocking() }
            e.message!! shouldContain "main is waiting for RLock(owner=Tasklet(holder, not alive), count=1)"
            lock.locked shouldBe true
        }
    }

    "a timeout that fires in pump() while a watchdog keeps its tasklet paused after a completed receive keeps the value" {
        fresh {
            val ch = Channel<Int>()
            var got = "nothing"
            Tasklet { ch.send(1) }.setup()
            val victim = Tasklet {
                got = try {
                    "received " + timeout(1.milliseconds) { ch.receive() }
                } catch (e: TaskletTimeoutException) {
                    "timed out"
                }
            }.setup()
            // The game loop: a frame of one tick; the receive completes, then the budget runs out.
            Stackless.run(1) shouldBe victim
            val due = System.nanoTime() + 2_000_000
            while (System.nanoTime() - due < 0) Thread.onSpinWait()
            MainLoop.pump() shouldBe 1
            victim.insert()
            Stackless.run()
            got shouldBe "received 1"
        }
    }
})
