package dev.stackless.lib

import dev.stackless.Stackless
import dev.stackless.Tasklet
import dev.stackless.TaskletExit
import io.kotest.core.spec.style.StringSpec
import io.kotest.matchers.shouldBe
import kotlin.random.Random
import kotlin.time.Duration
import kotlin.time.Duration.Companion.microseconds

/**
 * Randomized invariants: many tasklets mix Lock, RLock, Semaphore, BoundedSemaphore and Condition
 * operations with random timeouts, enclosing timeouts, pending throws and kills. Whatever the
 * interleaving, no two tasklets hold a lock at once, no permit is lost (at the end every lock is
 * free and every semaphore has its initial value) and no tasklet is left waiting.
 */
class LockInvariantTest : StringSpec({
    for (seed in listOf(1L, 7L, 42L)) {
        "seed $seed: mutual exclusion, no lost permit, no stuck tasklet" {
            fresh {
                val run = RandomRun(seed)
                run.run()
                println("LockInvariantTest seed $seed: ${run.counts}")
                run.violations shouldBe emptyList()
                run.lock.locked shouldBe false
                run.rlock.locked shouldBe false
                run.cond.locked shouldBe false
                run.sem.value shouldBe SEM_PERMITS
                run.bsem.value shouldBe BSEM_PERMITS
                run.workers.count { it.alive } shouldBe 0
                // Every worker started (nothing is thrown to one before it did), so each completed or was killed.
                (run.counts.getValue("completed") + run.counts.getValue("killed")) shouldBe WORKERS
                (run.counts.getValue("lock") > 0) shouldBe true
                (run.counts.getValue("notified") > 0) shouldBe true
            }
        }
    }
})

private const val WORKERS = 40
private const val OPS = 50
private const val SEM_PERMITS = 3
private const val BSEM_PERMITS = 2

/** Thrown into workers at random: it ends the operation in progress, not the worker. */
private class Poke : RuntimeException("poke")

private class RandomRun(private val seed: Long) {
    val lock = Lock()
    val rlock = RLock()
    val sem = Semaphore(SEM_PERMITS)
    val bsem = BoundedSemaphore(BSEM_PERMITS)
    val cond = Condition()
    val workers = ArrayList<Tasklet>()
    val violations = ArrayList<String>()
    val counts = sortedMapOf<String, Int>().withDefault { 0 }

    private var lockHolder: Tasklet? = null
    private var rlockHolder: Tasklet? = null
    private var semInUse = 0
    private var bsemInUse = 0
    private val started = HashSet<Tasklet>()

    private fun count(what: String) {
        counts[what] = counts.getValue(what) + 1
    }

    fun run() {
        stackless {
            for (i in 0 until WORKERS) {
                val rnd = Random(seed * 1000 + i)
                workers += if (i % 10 == 9) {
                    Tasklet.of { hardWorker(rnd) }.setup()
                } else {
                    Tasklet { worker(rnd) }.setup()
                }
            }
            val rnd = Random(seed)
            repeat(60) {
                pause(rnd)
                val t = workers[rnd.nextInt(workers.size)]
                // A throw before a tasklet starts would end it with that exception, outside its handlers.
                if (!t.alive || t !in started) return@repeat
                when (rnd.nextInt(3)) {
                    0 -> {
                        count("kills sent")
                        t.kill()
                    }
                    1 -> t.throwException(Poke())
                    else -> t.throwException(Poke(), pending = true)
                }
            }
        }
    }

    private suspend fun worker(rnd: Random) {
        started += Stackless.current
        try {
            repeat(OPS) {
                try {
                    if (rnd.nextInt(8) == 0) {
                        timeout((rnd.nextInt(2000)).microseconds) { operation(rnd) }
                    } else {
                        operation(rnd)
                    }
                } catch (e: Poke) {
                    count("poked")
                } catch (e: TaskletTimeoutException) {
                    count("outer timeouts")
                }
            }
            count("completed")
        } catch (e: TaskletExit) {
            count("killed")
            throw e
        }
    }

    private suspend fun operation(rnd: Random) {
        val me = Stackless.current
        when (rnd.nextInt(7)) {
            0 -> {
                if (!lock.acquire(randomTimeout(rnd))) return count("lock timeouts")
                count("lock")
                try {
                    if (lockHolder != null) violations += "Lock held by $lockHolder and $me"
                    lockHolder = me
                    pause(rnd)
                    if (lockHolder !== me) violations += "Lock taken from $me by $lockHolder"
                } finally {
                    lockHolder = null
                    lock.release()
                }
            }
            1 -> {
                if (!rlock.acquire(randomTimeout(rnd))) return count("rlock timeouts")
                count("rlock")
                try {
                    if (rlockHolder != null) violations += "RLock held by $rlockHolder and $me"
                    rlockHolder = me
                    rlock.withLock {
                        pause(rnd)
                        rlock.withLock { if (!rlock.isOwned) violations += "RLock lost by $me" }
                    }
                    if (rlockHolder !== me) violations += "RLock taken from $me by $rlockHolder"
                } finally {
                    rlockHolder = null
                    rlock.release()
                }
            }
            2 -> {
                if (!sem.acquire(randomTimeout(rnd))) return count("semaphore timeouts")
                count("semaphore")
                try {
                    if (++semInUse > SEM_PERMITS) violations += "Semaphore: $semInUse holders"
                    pause(rnd)
                } finally {
                    semInUse--
                    sem.release()
                }
            }
            3 -> {
                if (!bsem.acquire(randomTimeout(rnd))) return count("bounded timeouts")
                count("bounded")
                try {
                    if (++bsemInUse > BSEM_PERMITS) violations += "BoundedSemaphore: $bsemInUse holders"
                    pause(rnd)
                } finally {
                    bsemInUse--
                    bsem.release()
                }
            }
            4, 5 -> cond.withLock {
                val notified = cond.wait((rnd.nextInt(3000) + 1).microseconds)
                count(if (notified) "notified" else "wait timeouts")
                if (!cond.isOwned) violations += "Condition lock not taken back by $me"
            }
            else -> cond.withLock {
                count("notify calls")
                if (rnd.nextInt(4) == 0) cond.notifyAll() else cond.notify(1 + rnd.nextInt(3))
                pause(rnd)
            }
        }
    }

    /** A Java-style tasklet: the same kind of operations with the blocking twins. */
    private fun hardWorker(rnd: Random) {
        started += Stackless.current
        try {
            repeat(OPS) {
                try {
                    hardOperation(rnd)
                } catch (e: Poke) {
                    count("poked")
                }
            }
            count("completed")
        } catch (e: TaskletExit) {
            count("killed")
            throw e
        }
    }

    private fun hardOperation(rnd: Random) {
        val me = Stackless.current
        when (rnd.nextInt(4)) {
            0 -> {
                if (!lock.acquireBlocking(randomTimeout(rnd))) return count("lock timeouts")
                count("lock (blocking)")
                try {
                    if (lockHolder != null) violations += "Lock held by $lockHolder and $me"
                    lockHolder = me
                    hardPause(rnd)
                    if (lockHolder !== me) violations += "Lock taken from $me by $lockHolder"
                } finally {
                    lockHolder = null
                    lock.release()
                }
            }
            1 -> {
                if (!sem.acquireBlocking(randomTimeout(rnd))) return count("semaphore timeouts")
                count("semaphore (blocking)")
                try {
                    if (++semInUse > SEM_PERMITS) violations += "Semaphore: $semInUse holders"
                    hardPause(rnd)
                } finally {
                    semInUse--
                    sem.release()
                }
            }
            2 -> cond.withLockBlocking {
                val notified = cond.waitBlocking((rnd.nextInt(3000) + 1).microseconds)
                count(if (notified) "notified" else "wait timeouts")
                if (!cond.isOwned) violations += "Condition lock not taken back by $me"
            }
            else -> cond.withLockBlocking {
                count("notify calls")
                cond.notifyAll()
                hardPause(rnd)
            }
        }
    }

    private fun hardPause(rnd: Random) {
        when (rnd.nextInt(3)) {
            0 -> Unit
            1 -> Stackless.scheduleBlocking()
            else -> sleepBlocking((rnd.nextInt(1000) + 1).microseconds)
        }
    }

    /** No limit, no wait, or up to 3 ms. */
    private fun randomTimeout(rnd: Random): Duration? = when (rnd.nextInt(8)) {
        0, 1 -> null
        2 -> Duration.ZERO
        else -> (rnd.nextInt(3000) + 1).microseconds
    }

    private suspend fun pause(rnd: Random) {
        when (rnd.nextInt(4)) {
            0 -> Unit
            1, 2 -> Stackless.schedule()
            else -> sleep((rnd.nextInt(1000) + 1).microseconds)
        }
    }
}
