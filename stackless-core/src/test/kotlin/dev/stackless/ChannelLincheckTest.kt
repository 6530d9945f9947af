package dev.stackless

import io.kotest.core.spec.style.FunSpec
import io.kotest.core.test.TestCase
import org.jetbrains.lincheck.datastructures.IntGen
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions
import org.jetbrains.lincheck.datastructures.Operation
import org.jetbrains.lincheck.datastructures.Param
import org.jetbrains.lincheck.datastructures.StressOptions
import org.jetbrains.lincheck.datastructures.ThreadIdGen
import org.jetbrains.lincheck.datastructures.Validate

/**
 * Lincheck (linearizability) tests of one [Channel] shared by the tasklets of several threads
 * (issue #3).
 *
 * A blocking twin called from a plain thread parks that thread until another thread completes the
 * rendezvous, which Lincheck would report as a hang. So every operation here runs the channel
 * operation in a fresh tasklet of the calling Lincheck thread and returns as soon as that thread's
 * queue is empty (`Stackless.run()`): a tasklet that blocks stays on the channel, and completes later
 * when a partner of any thread takes it, in its own thread, the next time that thread runs its
 * scheduler.
 *
 * An operation therefore returns nothing: whether its tasklet completed at once or later is not
 * part of the contract (a partner of another thread may complete it while the caller is still in
 * `run()`). Each tasklet instead reports its outcome (`sent v`, `got v`, `send closed`,
 * `receive closed`) to its thread's list, and [LincheckChannelOps.drain] runs the calling thread's
 * scheduler (applying what other threads posted to it) and returns the outcomes reported so far,
 * sorted. [LincheckRendezvousModel] is the sequential specification: a FIFO rendezvous channel whose
 * waiters carry their thread, so a rendezvous reports to both threads at once. Since a partner made runnable is
 * woken through its owner's inbox before the operation that woke it returns, an outcome whose
 * rendezvous happened before a `drain()` started must be in it. `balance()` and `close()` act on
 * the channel directly from the calling thread.
 *
 * `throwTo(slot)` and `kill(slot)` race a pending throw of the calling thread against the other
 * threads' rendezvous: they hit the tasklet made by the calling thread's `slot`-th send or receive.
 * One still waiting leaves the channel and reports `send thrown`/`receive killed`…; one whose
 * rendezvous has happened (even if its own thread has not applied the wake-up yet) keeps its result
 * and reports it, the exception coming too late to matter; a dead one ignores it.
 *
 * No operations before or after the parallel part, and no minimization of a failing scenario (it
 * moves operations there): [ThreadIdGen] numbers those apart from the parallel threads, while
 * Lincheck runs them on one of those threads, so their outcomes would land in another thread's list.
 *
 * Lincheck 3.7 runs here on JDK 17 and on JDK 25 (which only warns about the dynamically loaded
 * agent). When model checking finds a violation, replaying it for the trace may report "Non-determinism
 * found": Lincheck reuses its threads, and tasklets left blocked or mail left in a thread's inbox by
 * earlier invocations change what the next one runs. The "Invalid execution results" table printed
 * first is the violation itself.
 */
class ChannelLincheckTest : FunSpec({
    // A cross-thread rendezvous has the thread-end watcher's daemon started (ThreadEnds); start it
    // before Lincheck runs, so that it is not started by, and followed as part of, a scenario.
    beforeSpec { ThreadEnds.poke() }

    test("model checking: send, receive, close, balance and drain from 3 threads are linearizable") {
        fresh { modelCheck(iterations = 10, invocations = 30) }
    }

    test("stress: send, receive, close, balance and drain from 3 threads are linearizable") {
        fresh { stress(iterations = 20, invocations = 60) }
    }

    test("slow: model checking, 30 scenarios x 40 interleavings")
        .config(enabledIf = { _: TestCase -> slowEnabled() }, tags = setOf(Slow)) {
            fresh { modelCheck(iterations = 30, invocations = 40) }
        }

    test("slow: stress, 80 scenarios x 100 runs")
        .config(enabledIf = { _: TestCase -> slowEnabled() }, tags = setOf(Slow)) {
            fresh { stress(iterations = 80, invocations = 100) }
        }
})

private fun modelCheck(iterations: Int, invocations: Int) {
    ModelCheckingOptions()
        .iterations(iterations)
        .invocationsPerIteration(invocations)
        .threads(3)
        .actorsPerThread(3)
        .actorsBefore(0)
        .actorsAfter(0)
        .minimizeFailedScenario(false)
        .sequentialSpecification(LincheckRendezvousModel::class.java)
        .check(LincheckChannelOps::class)
}

private fun stress(iterations: Int, invocations: Int) {
    StressOptions()
        .iterations(iterations)
        .invocationsPerIteration(invocations)
        .threads(3)
        .actorsPerThread(4)
        .actorsBefore(0)
        .actorsAfter(0)
        .minimizeFailedScenario(false)
        .sequentialSpecification(LincheckRendezvousModel::class.java)
        .check(LincheckChannelOps::class)
}

/** The operations under test; Lincheck creates one instance (one channel) per invocation. */
@Param(name = "value", gen = IntGen::class, conf = "1:4")
@Param(name = "slot", gen = IntGen::class, conf = "0:2")
class LincheckChannelOps {
    private val ch = Channel<Int>()

    init {
        // A channel first used by one thread is biased to it: another thread's first operation waits
        // until that thread next switches or idles. A Lincheck thread runs plain code between its
        // operations (and none after its last), so it might never hand over. Used first by a thread
        // without a scheduler (or one that has ended), it is shared at once: the parallel part
        // starts with a shared channel, whichever thread Lincheck builds this instance on.
        val first = Thread { ch.close(); ch.open() }
        first.start()
        first.join()
    }

    /** Outcomes reported by each Lincheck thread's tasklets, by thread number; only that thread touches its list. */
    private val outcomes = Array(MAX_THREADS) { ArrayList<String>() }

    /** The tasklets each Lincheck thread's sends and receives made, in order; only that thread touches its list. */
    private val made = Array(MAX_THREADS) { ArrayList<Tasklet>() }

    /** Runs [op] in a new tasklet of [thread], reporting what it got or how it failed ([what]: "send" or "receive"). */
    private fun operation(thread: Int, what: String, op: suspend () -> String) {
        val out = outcomes[thread]
        made[thread] += Tasklet {
            out += try {
                op()
            } catch (_: ChannelClosedException) {
                "$what closed"
            } catch (_: LincheckPoke) {
                "$what thrown"
            } catch (e: TaskletExit) {
                out += "$what killed"
                throw e
            }
        }.setup()
        Stackless.run()
    }

    @Operation
    fun send(@Param(gen = ThreadIdGen::class) thread: Int, @Param(name = "value") v: Int) =
        operation(thread, "send") {
            ch.send(v)
            "sent $v"
        }

    @Operation
    fun receive(@Param(gen = ThreadIdGen::class) thread: Int) = operation(thread, "receive") { "got ${ch.receive()}" }

    /** A pending throw to the tasklet of this thread's [slot]-th operation, if there is one. */
    @Operation
    fun throwTo(@Param(gen = ThreadIdGen::class) thread: Int, @Param(name = "slot") slot: Int) {
        val t = made[thread].getOrNull(slot) ?: return
        try {
            t.throwExceptionBlocking(LincheckPoke(), pending = true)
        } catch (_: IllegalStateException) {
            // "You cannot throw to a dead tasklet": its operation has completed and it has ended.
        }
    }

    /** A pending kill of the tasklet of this thread's [slot]-th operation, if there is one. */
    @Operation
    fun kill(@Param(gen = ThreadIdGen::class) thread: Int, @Param(name = "slot") slot: Int) {
        made[thread].getOrNull(slot)?.killBlocking(pending = true)
    }

    /** At most once per scenario, or most scenarios would soon have nothing left to wait. */
    @Operation(runOnce = true)
    fun close() = ch.close()

    @Operation
    fun balance(): Int = ch.balance

    @Operation
    fun drain(@Param(gen = ThreadIdGen::class) thread: Int): String {
        Stackless.run()
        val out = outcomes[thread]
        val r = out.sorted().joinToString(", ")
        out.clear()
        return r
    }

    /** The waiters' list agrees with the balance once every thread has returned. */
    @Validate
    fun waitersMatchBalance() {
        var n = 0
        var t = ch.queue
        val dir = Integer.signum(ch.balance)
        while (t != null) {
            check(t.blocked == dir) { "$t waits in direction ${t.blocked} on $ch" }
            n++
            t = t.next
        }
        check(n == Math.abs(ch.balance)) { "$n waiters on $ch" }
    }

    private companion object {
        const val MAX_THREADS = 8
    }
}

/** What [LincheckChannelOps.throwTo] throws. */
private class LincheckPoke : RuntimeException("poke")

/**
 * Sequential specification: a FIFO rendezvous channel whose waiters remember their thread and the
 * operation (slot) of that thread that made them.
 */
class LincheckRendezvousModel {
    private class Waiter(val thread: Int, val slot: Int, val value: Int)

    private val senders = ArrayDeque<Waiter>()
    private val receivers = ArrayDeque<Waiter>()
    private var closing = false
    private val outcomes = HashMap<Int, MutableList<String>>()
    private val made = HashMap<Int, Int>()

    private fun report(thread: Int, what: String) {
        outcomes.getOrPut(thread) { ArrayList() } += what
    }

    private fun nextSlot(thread: Int): Int {
        val n = made[thread] ?: 0
        made[thread] = n + 1
        return n
    }

    fun send(thread: Int, v: Int) {
        val slot = nextSlot(thread)
        val r = receivers.removeFirstOrNull()
        when {
            r != null -> {
                report(thread, "sent $v")
                report(r.thread, "got $v")
            }
            closing -> report(thread, "send closed")
            else -> senders.addLast(Waiter(thread, slot, v))
        }
    }

    fun receive(thread: Int) {
        val slot = nextSlot(thread)
        val s = senders.removeFirstOrNull()
        when {
            s != null -> {
                report(s.thread, "sent ${s.value}")
                report(thread, "got ${s.value}")
            }
            closing -> report(thread, "receive closed")
            else -> receivers.addLast(Waiter(thread, slot, 0))
        }
    }

    /** The waiter made by [thread]'s [slot]-th operation leaves with [how] ("thrown", "killed"); nothing if it no longer waits. */
    private fun hit(thread: Int, slot: Int, how: String) {
        senders.firstOrNull { it.thread == thread && it.slot == slot }?.let {
            senders.remove(it)
            report(thread, "send $how")
        }
        receivers.firstOrNull { it.thread == thread && it.slot == slot }?.let {
            receivers.remove(it)
            report(thread, "receive $how")
        }
    }

    fun throwTo(thread: Int, slot: Int) = hit(thread, slot, "thrown")

    fun kill(thread: Int, slot: Int) = hit(thread, slot, "killed")

    fun close() {
        closing = true
    }

    fun balance(): Int = senders.size - receivers.size

    fun drain(thread: Int): String = (outcomes.remove(thread) ?: emptyList<String>()).sorted().joinToString(", ")
}
