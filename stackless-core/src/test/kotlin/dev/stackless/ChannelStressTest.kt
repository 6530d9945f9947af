package dev.stackless

import io.kotest.core.spec.style.FunSpec
import io.kotest.core.test.TestCase
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger
import java.util.concurrent.atomic.AtomicIntegerArray
import kotlin.random.Random

/**
 * Channels shared by the tasklets of several threads, under random kills and closes (issue #3).
 *
 * Each worker thread owns senders and receivers (interleaved in its runnables queue) and runs them
 * with [Stackless.runAll]. Senders send their own message ids, each on a channel picked at random;
 * receivers receive on a channel picked at random, over and over. The channels differ in who runs
 * after a rendezvous between tasklets of one thread (preference -1, 1, 0, scheduleAll). After every
 * operation a tasklet may kill a random started tasklet of any thread (pending or not), close one of
 * the channels 1..k-1 or reopen the one closed (channel 0 stays open until the shutdown, so there is
 * always somewhere to go), or yield.
 *
 * When every sender has ended, the coordinator (the `fresh` thread's main tasklet) closes every
 * channel, ends the receivers still waiting by sending them a [NoSuchElementException], then kills
 * every receiver (dead ones are dropped), and joins the workers with a timeout.
 *
 * Checked (docs/nothing-lost.md): every message id is received exactly once or its sender got an
 * exception from that send (never both, never neither); ids a killed sender never reached are never
 * received; every worker's `runAll()` returns with all its tasklets dead and no channel keeps a waiter.
 *
 * The decisions (channels, victims, closes) come from a seeded [Random], printed at the start; set
 * `-Dstackless.seed=<n>` to replay them (the thread interleaving itself cannot be replayed).
 * The full-size run is slow: enable it with `-Dstackless.slow=true`.
 */
class ChannelStressTest : FunSpec({
    test("4 threads x 500 tasklets exchange 50,000 messages through 4 shared channels under kills and closes") {
        fresh {
            StressRun(
                threads = 4, taskletsPerThread = 500, messages = 50_000, channels = 4,
                killPpm = 400, togglePpm = 200, seed = seed(20_251_127L), timeoutSeconds = 25,
            ).run()
        }
    }

    test("chaos: 3 threads x 60 tasklets (12 hard) exchange 54,000 messages under kills, throws, timeouts and closes") {
        fresh {
            StressRun(
                threads = 3, taskletsPerThread = 60, messages = 54_000, channels = 4,
                killPpm = 200, togglePpm = 200, seed = seed(20_261_207L), timeoutSeconds = 25,
                throwPpm = 50_000, timeoutPpm = 50_000, hardPerThread = 2, sendLimitNanos = 2_000_000,
                attackersPerThread = 2,
            ).run()
        }
    }

    test("slow: chaos with 4 threads x 4,000 tasklets (64 hard) and 2,000,000 messages")
        .config(enabledIf = { _: TestCase -> slowEnabled() }, tags = setOf(Slow)) {
            fresh {
                StressRun(
                    threads = 4, taskletsPerThread = 4_000, messages = 2_000_000, channels = 4,
                    killPpm = 100, togglePpm = 20, seed = seed(4_000L), timeoutSeconds = 25,
                    throwPpm = 20_000, timeoutPpm = 20_000, hardPerThread = 8, sendLimitNanos = 2_000_000,
                    attackersPerThread = 4,
                ).run()
            }
        }

    test("slow: 4 threads x 10,000 tasklets exchange 1,000,000 messages through 4 shared channels under kills and closes")
        .config(enabledIf = { _: TestCase -> slowEnabled() }, tags = setOf(Slow)) {
            fresh {
                StressRun(
                    threads = 4, taskletsPerThread = 10_000, messages = 1_000_000, channels = 4,
                    killPpm = 100, togglePpm = 20, seed = seed(1_000_000L), timeoutSeconds = 25,
                ).run()
            }
        }
})

private fun seed(default: Long): Long = System.getProperty("stackless.seed")?.toLong() ?: default

private class StressRun(
    val threads: Int,
    val taskletsPerThread: Int,
    val messages: Int,
    val channels: Int,
    /** Per operation, in millionths: chance to kill a random tasklet. */
    val killPpm: Int,
    /** Per operation, in millionths: chance to close (or reopen) one of the channels 1..k-1. */
    val togglePpm: Int,
    val seed: Long,
    /** Budget for the senders to finish, then again for the workers to end (`fresh` allows 60 s in all). */
    val timeoutSeconds: Long,
    /** Per operation, in millionths: chance to throw [Poke] to a random tasklet (which catches it and goes on). */
    val throwPpm: Int = 0,
    /** Per operation, in millionths: chance that the operation gets a time limit of up to 0.2 ms (a timer throws [Poke]). */
    val timeoutPpm: Int = 0,
    /** Pairs of hard tasklets (a sender and a receiver with Java bodies) per thread, among the first tasklets. */
    val hardPerThread: Int = 0,
    /**
     * A time limit for every send without a shorter one (0: none). With few tasklets, the last senders
     * can all pick a channel that no receiver waits on while the receivers wait on the others; a
     * limit sends them on to another channel.
     */
    val sendLimitNanos: Long = 0,
    /**
     * Attacker tasklets per thread: until the senders are done, each throws [Poke] (pending or not) to
     * a random tasklet of its own thread that waits on a channel, and yields; the throw races the
     * other threads' rendezvous with that tasklet.
     */
    val attackersPerThread: Int = 0,
) {
    val total = threads * taskletsPerThread
    val senders = total / 2
    val receivers = total - senders
    val perSender = messages / senders

    /**
     * Channel i gets the i-th of these settings (cyclically), so that every rendezvous path between
     * tasklets of one thread is taken: the receiver runs (default), the sender runs, the caller
     * continues, both go to the end of the queue.
     */
    val chans = Array(channels) { i ->
        Channel<Int>().apply {
            when (i % 4) {
                0 -> preference = -1
                1 -> preference = 1
                2 -> preference = 0
                3 -> scheduleAll = true
            }
        }
    }

    /** Every tasklet, by global index g = thread * taskletsPerThread + i; even i send, odd i receive. */
    val all = arrayOfNulls<Tasklet>(total)
    val started = AtomicIntegerArray(total)

    val sendState = AtomicIntegerArray(messages) // NONE, ATTEMPTED, OK, FAILED
    val received = AtomicIntegerArray(messages)
    val senderKilled = AtomicIntegerArray(senders)

    val sendersDone = CountDownLatch(senders)
    val created = CountDownLatch(threads)
    @Volatile var shutdown = false

    val kills = AtomicInteger()
    val throws = AtomicInteger()
    val timeouts = AtomicInteger()
    val toggles = AtomicInteger()
    val receiverEnds = AtomicInteger()
    val errors = ConcurrentLinkedQueue<Throwable>()

    /** The exception each failed send threw, for the report. */
    val failures = java.util.concurrent.ConcurrentHashMap<Int, Throwable>()

    init {
        require(messages % senders == 0) { "messages must split evenly between the $senders senders" }
    }

    fun run() {
        println(
            "ChannelStressTest: seed=$seed (replay with -Dstackless.seed=$seed): $threads threads x " +
                "$taskletsPerThread tasklets, $messages messages on $channels channels",
        )
        // The coordinator gets a scheduler of its own: while it waits here in plain code, a
        // moment where every worker is idle is not a deadlock (another thread can still post).
        Stackless.current
        val t0 = System.nanoTime()
        val workers = (0 until threads).map { w -> Thread({ worker(w) }, "stress-worker-$w") }
        workers.forEach { it.isDaemon = true; it.start() }

        val sendersFinished = sendersDone.await(timeoutSeconds, TimeUnit.SECONDS)
        val t1 = System.nanoTime()
        shutdown = true
        for (ch in chans) ch.close()
        var kicked = 0
        for (ch in chans) {
            while (ch.balance < 0) {
                try {
                    ch.sendExceptionBlocking(NoSuchElementException("shutdown"))
                    kicked++
                } catch (_: ChannelClosedException) {
                    break // the last waiter left meanwhile (killed): a send would block on a closed channel
                }
            }
        }
        for (g in 0 until total) if (g % taskletsPerThread % 2 == 1) all[g]!!.killBlocking()

        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds)
        for (w in workers) w.join(TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()).coerceAtLeast(1))
        val t2 = System.nanoTime()
        val hung = workers.filter { it.isAlive }
        if (!sendersFinished || hung.isNotEmpty()) {
            val stacks = workers.joinToString("\n") { w ->
                "${w.name} (alive=${w.isAlive}):\n  " + w.stackTrace.joinToString("\n  ")
            }
            val blockedSenders = (0 until total).filter { it % taskletsPerThread % 2 == 0 && all[it]!!.alive }
            throw AssertionError(
                "seed=$seed: senders finished=$sendersFinished (${sendersDone.count} left, e.g. " +
                    "${blockedSenders.take(5).map { all[it] }}), workers still running: ${hung.map { it.name }}; " +
                    "channels: ${chans.toList()}; ${errors.size} errors, first: ${errors.firstOrNull()}\n$stacks",
                errors.firstOrNull(),
            )
        }

        if (errors.isNotEmpty()) {
            val first = errors.first()
            throw AssertionError("seed=$seed: ${errors.size} unexpected errors in tasklets or workers, first: $first", first)
        }

        var ok = 0
        var failed = 0
        var unsent = 0
        val problems = mutableListOf<String>()
        for (id in 0 until messages) {
            val rc = received.get(id)
            val state = sendState.get(id)
            val sender = id / perSender
            val problem = when {
                rc > 1 -> "received $rc times"
                state == OK && rc != 1 -> "send returned but never received"
                state == FAILED && rc != 0 -> "received although its send threw"
                state == ATTEMPTED -> "send neither returned nor threw (tasklet left blocked?)"
                state == NONE && rc != 0 -> "received but never sent"
                state == NONE && senderKilled.get(sender) == 0 -> "never sent by sender $sender, which was not killed"
                else -> null
            }
            if (problem != null && problems.size < 20) {
                problems += "id $id: $problem (state $state, received $rc, sender $sender${if (senderKilled.get(sender) != 0) " killed" else ""}" +
                    (failures[id]?.let { ", send threw $it" } ?: "") + ")"
            }
            when (state) {
                OK -> ok++
                FAILED -> failed++
                NONE -> unsent++
            }
        }
        println(
            "ChannelStressTest: seed=$seed: $ok received, $failed sends failed, $unsent never sent " +
                "(${killedSenders()} senders killed); ${kills.get()} kills, ${throws.get()} throws, ${timeouts.get()} time limits, " +
                "${toggles.get()} closes/reopens, " +
                "$kicked receivers ended by the shutdown; senders done in ${(t1 - t0) / 1_000_000} ms, " +
                "all ended in ${(t2 - t0) / 1_000_000} ms",
        )
        withClue(problems) { problems.size shouldBe 0 }
        ok shouldBeGreaterThan messages / 2
        for (ch in chans) {
            ch.balance shouldBe 0
            ch.queue shouldBe null
        }
        receiverEnds.get() shouldBe receivers
    }

    private fun killedSenders(): Int = (0 until senders).count { senderKilled.get(it) != 0 }

    private fun withClue(problems: List<String>, block: () -> Unit) =
        io.kotest.assertions.withClue("seed=$seed; first problems:\n" + problems.joinToString("\n")) { block() }

    private fun worker(w: Int) {
        try {
            val mine = ArrayList<Tasklet>(taskletsPerThread)
            for (i in 0 until taskletsPerThread) {
                val g = w * taskletsPerThread + i
                val rnd = Random(seed * 1_000_003 + g)
                val hard = i < 2 * hardPerThread
                val t = when {
                    hard && i % 2 == 0 -> Tasklet.of { hardSender(g, g / 2, rnd) }
                    hard -> Tasklet.of { hardReceiver(g, rnd) }
                    i % 2 == 0 -> Tasklet { sender(g, g / 2, rnd) }
                    else -> Tasklet { receiver(g, rnd) }
                }
                t.name = (if (i % 2 == 0) "sender-" else "receiver-") + g
                all[g] = t
                mine += t
                t.setup()
            }
            repeat(attackersPerThread) { a ->
                val rnd = Random(seed * 7_000_003 + w * 31 + a)
                Tasklet { attacker(mine, rnd) }.apply { name = "attacker-$w-$a" }.setup()
            }
            // Every tasklet exists before anyone picks a victim.
            created.countDown()
            created.await()
            Stackless.runAll()
            val left = mine.filter { it.alive }
            if (left.isNotEmpty()) errors += AssertionError("runAll() returned with ${left.size} tasklets alive: ${left.take(5)}")
            if (Stackless.runCount != 1) errors += AssertionError("runAll() returned with runCount ${Stackless.runCount}")
        } catch (e: Throwable) {
            errors += e
        }
    }

    private suspend fun sender(g: Int, s: Int, rnd: Random) =
        senderLoop(g, s, rnd, { ch, id -> ch.send(id) }) { chaos(g, rnd) }

    /** [sender] with a Java body: blocking twins, hard-switched. */
    private fun hardSender(g: Int, s: Int, rnd: Random) =
        senderLoop(g, s, rnd, { ch, id -> ch.sendBlocking(id) }) { chaosBlocking(g, rnd) }

    /** The body of sender [s] (tasklet [g]), soft or hard by what [send] and [chaos] are. */
    private inline fun senderLoop(g: Int, s: Int, rnd: Random, send: (Channel<Int>, Int) -> Unit, chaos: () -> Unit) {
        started.set(g, 1)
        try {
            for (id in s * perSender until (s + 1) * perSender) {
                val ch = chans[rnd.nextInt(channels)]
                sendOne(id) { limited(rnd, sendLimitNanos) { send(ch, id) } }
                try {
                    chaos()
                } catch (_: Poke) {
                    // A throw or a time limit that came after its operation had completed.
                }
            }
        } catch (_: TaskletExit) {
            senderKilled.set(s, 1)
        } catch (e: Throwable) {
            errors += e
        } finally {
            sendersDone.countDown()
        }
    }

    /** One send of message [id] by [send]: its state is OK if it returned, FAILED if it threw. */
    private inline fun sendOne(id: Int, send: () -> Unit) {
        sendState.set(id, ATTEMPTED)
        try {
            send()
            sendState.set(id, OK)
        } catch (e: ChannelClosedException) {
            sendState.set(id, FAILED)
            failures[id] = e
        } catch (e: Poke) {
            sendState.set(id, FAILED)
            failures[id] = e
        } catch (e: TaskletExit) {
            sendState.set(id, FAILED)
            failures[id] = e
            throw e
        }
    }

    private suspend fun receiver(g: Int, rnd: Random) =
        receiverLoop(g, rnd, { it.receive() }, { Stackless.schedule() }) { chaos(g, rnd) }

    /** [receiver] with a Java body: blocking twins, hard-switched. */
    private fun hardReceiver(g: Int, rnd: Random) =
        receiverLoop(g, rnd, { it.receiveBlocking() }, { Stackless.scheduleBlocking() }) { chaosBlocking(g, rnd) }

    /** The body of receiver [g], soft or hard by what [receive], [yield] and [chaos] are. */
    private inline fun receiverLoop(g: Int, rnd: Random, receive: (Channel<Int>) -> Int, yield: () -> Unit, chaos: () -> Unit) {
        started.set(g, 1)
        try {
            while (true) {
                val ch = chans[rnd.nextInt(channels)]
                val id = receiveOne { limited(rnd, 0) { receive(ch) } } ?: break
                try {
                    if (id >= 0) {
                        received.incrementAndGet(id)
                        chaos()
                    } else if (id == RETRY_AFTER_CLOSE) {
                        yield()
                    }
                } catch (_: Poke) {
                    // A throw or a time limit that came after its operation had completed.
                }
            }
        } catch (_: TaskletExit) {
            // killed
        } catch (e: Throwable) {
            errors += e
        } finally {
            receiverEnds.incrementAndGet()
        }
    }

    /**
     * One receive by [receive]: the id, [NO_VALUE] when a throw or time limit ended it,
     * [RETRY_AFTER_CLOSE] on a closed channel, or null when the receiver should end (shutdown).
     */
    private inline fun receiveOne(receive: () -> Int): Int? = try {
        receive()
    } catch (_: ChannelClosedException) {
        if (shutdown) null else RETRY_AFTER_CLOSE
    } catch (_: NoSuchElementException) {
        null // the coordinator's shutdown
    } catch (_: Poke) {
        NO_VALUE
    }

    /**
     * Runs [op], sometimes with a time limit of up to 0.2 ms, else with [limitNanos] if positive: a
     * timer of this thread throws [Poke] pending at the deadline, as stacklesslib's timeout does.
     */
    @OptIn(InternalStacklessApi::class)
    private inline fun <R> limited(rnd: Random, limitNanos: Long, op: () -> R): R {
        val nanos = if (rnd.nextInt(1_000_000) < timeoutPpm) rnd.nextLong(200_000) else limitNanos
        if (nanos <= 0) return op()
        timeouts.incrementAndGet()
        val me = Stackless.current
        val timer = SchedulerHooks.callAt(System.nanoTime() + nanos, 0) { SchedulerHooks.throwPending(me, POKE) }
        try {
            return op()
        } finally {
            timer.cancel()
        }
    }

    private suspend fun attacker(victims: List<Tasklet>, rnd: Random) {
        var steps = 0
        try {
            while (sendersDone.count > 0 && !shutdown) {
                val v = victims[rnd.nextInt(victims.size)]
                if (v.blocked != 0) {
                    throws.incrementAndGet()
                    v.throwException(POKE, pending = rnd.nextBoolean())
                }
                Stackless.schedule()
                // Between two operations of this thread's tasklets: the structures must be whole.
                if (++steps % INVARIANT_CHECK_INTERVAL == 0) Scheduler.forCurrentThread().checkInvariants()
            }
        } catch (e: Throwable) {
            errors += e
        }
    }

    /** After each operation: maybe kill or throw to a random started tasklet, close/reopen a channel, or yield. */
    private suspend fun chaos(self: Int, rnd: Random) {
        when (val action = pick(self, rnd)) {
            KILL -> victim().kill(pending = rnd.nextBoolean())
            THROW -> try {
                victim().throwException(POKE, pending = rnd.nextBoolean())
            } catch (_: IllegalStateException) {
                // It died, or its thread ended, since pick() looked.
            }
            YIELD -> Stackless.schedule()
            else -> if (action >= 0) toggle(action)
        }
    }

    /** [chaos] for hard tasklets. */
    private fun chaosBlocking(self: Int, rnd: Random) {
        when (val action = pick(self, rnd)) {
            KILL -> victim().killBlocking(pending = rnd.nextBoolean())
            THROW -> try {
                victim().throwExceptionBlocking(POKE, pending = rnd.nextBoolean())
            } catch (_: IllegalStateException) {
                // As in chaos().
            }
            YIELD -> Stackless.scheduleBlocking()
            else -> if (action >= 0) toggle(action)
        }
    }

    /**
     * What [chaos] does: [KILL] or [THROW] ([victim] is then the tasklet), [YIELD], [NOTHING], or
     * a channel index to close or reopen.
     */
    private fun pick(self: Int, rnd: Random): Int {
        val x = rnd.nextInt(1_000_000)
        // Half of the victims are of the caller's own thread: a throw from there races the other
        // threads' rendezvous with the victim, the hardest case for "nothing lost".
        val v = if (rnd.nextBoolean()) rnd.nextInt(total) else self - self % taskletsPerThread + rnd.nextInt(taskletsPerThread)
        val canHit = v != self && started.get(v) != 0
        return when {
            x < killPpm -> if (canHit) {
                kills.incrementAndGet()
                victimIs(v, KILL)
            } else NOTHING
            x < killPpm + throwPpm -> if (canHit && all[v]!!.alive) {
                throws.incrementAndGet()
                victimIs(v, THROW)
            } else NOTHING
            x < killPpm + throwPpm + togglePpm -> if (!shutdown) {
                // Reopen a closed channel if there is one, else close one: at most one is closed for long.
                toggles.incrementAndGet()
                (1 until channels).firstOrNull { chans[it].closing } ?: (1 + rnd.nextInt(channels - 1))
            } else NOTHING
            x < killPpm + throwPpm + togglePpm + 10_000 -> YIELD
            else -> NOTHING
        }
    }

    private fun victimIs(v: Int, action: Int): Int {
        victims.set(v)
        return action
    }

    /** The victim [pick] chose, per calling thread (tasklets of several threads pick at once). */
    private val victims = ThreadLocal<Int>()

    private fun victim(): Tasklet = all[victims.get()]!!

    private fun toggle(c: Int) {
        if (chans[c].closing) chans[c].open() else chans[c].close()
    }

    companion object {
        const val KILL = -1
        const val THROW = -2
        const val YIELD = -3
        const val NOTHING = -4
        const val NO_VALUE = -1
        const val RETRY_AFTER_CLOSE = -2
        const val NONE = 0
        const val ATTEMPTED = 1
        const val OK = 2
        const val FAILED = 3
    }
}

/** What the chaos throws to tasklets and their time limits throw; every tasklet catches it and goes on. Shared: no stack trace. */
private class Poke : RuntimeException("poke", null, false, false)

private val POKE = Poke()

/** Attacker steps between two checks of the scheduler's invariants. */
private const val INVARIANT_CHECK_INTERVAL = 16
