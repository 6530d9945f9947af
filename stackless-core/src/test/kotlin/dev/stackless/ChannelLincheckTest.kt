package dev.stackless

import io.kotest.core.spec.style.FunSpec
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
    test("model checking: send, receive, close, balance and drain from 3 threads are linearizable") {
        fresh {
            ModelCheckingOptions()
                .iterations(30)
                .invocationsPerIteration(40)
                .threads(3)
                .actorsPerThread(3)
                .actorsBefore(0)
                .actorsAfter(0)
                .minimizeFailedScenario(false)
                .sequentialSpecification(LincheckRendezvousModel::class.java)
                .check(LincheckChannelOps::class)
        }
    }

    test("stress: send, receive, close, balance and drain from 3 threads are linearizable") {
        fresh {
            StressOptions()
                .iterations(80)
                .invocationsPerIteration(100)
                .threads(3)
                .actorsPerThread(4)
                .actorsBefore(0)
                .actorsAfter(0)
                .minimizeFailedScenario(false)
                .sequentialSpecification(LincheckRendezvousModel::class.java)
                .check(LincheckChannelOps::class)
        }
    }
})

/** The operations under test; Lincheck creates one instance (one channel) per invocation. */
@Param(name = "value", gen = IntGen::class, conf = "1:4")
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

    @Operation
    fun send(@Param(gen = ThreadIdGen::class) thread: Int, @Param(name = "value") v: Int) {
        val out = outcomes[thread]
        Tasklet {
            out += try {
                ch.send(v)
                "sent $v"
            } catch (_: ChannelClosedException) {
                "send closed"
            }
        }.setup()
        Stackless.run()
    }

    @Operation
    fun receive(@Param(gen = ThreadIdGen::class) thread: Int) {
        val out = outcomes[thread]
        Tasklet {
            out += try {
                "got ${ch.receive()}"
            } catch (_: ChannelClosedException) {
                "receive closed"
            }
        }.setup()
        Stackless.run()
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

/** Sequential specification: a FIFO rendezvous channel whose waiters remember their thread. */
class LincheckRendezvousModel {
    private val senders = ArrayDeque<Pair<Int, Int>>()
    private val receivers = ArrayDeque<Int>()
    private var closing = false
    private val outcomes = HashMap<Int, MutableList<String>>()

    private fun report(thread: Int, what: String) {
        outcomes.getOrPut(thread) { ArrayList() } += what
    }

    fun send(thread: Int, v: Int) {
        val r = receivers.removeFirstOrNull()
        when {
            r != null -> {
                report(thread, "sent $v")
                report(r, "got $v")
            }
            closing -> report(thread, "send closed")
            else -> senders.addLast(thread to v)
        }
    }

    fun receive(thread: Int) {
        val s = senders.removeFirstOrNull()
        when {
            s != null -> {
                report(s.first, "sent ${s.second}")
                report(thread, "got ${s.second}")
            }
            closing -> report(thread, "receive closed")
            else -> receivers.addLast(thread)
        }
    }

    fun close() {
        closing = true
    }

    fun balance(): Int = senders.size - receivers.size

    fun drain(thread: Int): String = (outcomes.remove(thread) ?: emptyList<String>()).sorted().joinToString(", ")
}
