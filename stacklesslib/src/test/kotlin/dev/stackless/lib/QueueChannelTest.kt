package dev.stackless.lib

import dev.stackless.ChannelClosedException
import dev.stackless.Stackless
import dev.stackless.Tasklet
import dev.stackless.TaskletExit
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.StringSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.types.shouldBeSameInstanceAs
import io.kotest.property.Arb
import io.kotest.property.PropTestConfig
import io.kotest.property.arbitrary.int
import io.kotest.property.arbitrary.list
import io.kotest.property.checkAll
import java.util.Collections
import java.util.concurrent.CountDownLatch

private const val CLOSED_MESSAGE = "Send/receive operation on a closed channel"

class QueueChannelTest : StringSpec({
    "scenario 43: a bounded queue blocks its sender when full" {
        fresh {
            val q = QueueChannel<Int>(3)
            var where = -1
            val t = Tasklet {
                for (i in 0 until 10) {
                    where = i
                    q.send(i)
                }
            }.setup()
            t.runBlocking()
            where shouldBe 3
            t.blocked shouldBe 1
            q.balance shouldBe 4
            val got = mutableListOf<Int>()
            repeat(3) { got += q.receiveBlocking() }
            t.runBlocking()
            where shouldBe 6
            repeat(7) { got += q.receiveBlocking() }
            t.runBlocking()
            where shouldBe 9
            t.alive shouldBe false
            got shouldBe (0 until 10).toList()
            q.balance shouldBe 0
        }
    }

    "an unbounded queue never blocks its sender" {
        fresh {
            val q = QueueChannel<String?>()
            for (i in 0 until 1000) q.sendBlocking(if (i % 7 == 0) null else "v$i")
            q.balance shouldBe 1000
            (0 until 1000).map { q.receiveBlocking() } shouldBe (0 until 1000).map { if (it % 7 == 0) null else "v$it" }
            q.balance shouldBe 0
        }
    }

    "maxLen 0 is a rendezvous channel" {
        fresh {
            val q = QueueChannel<Int>(0)
            val log = mutableListOf<String>()
            val s = Tasklet { q.send(1); log += "sent" }.setup()
            Stackless.run()
            s.blocked shouldBe 1
            q.balance shouldBe 1
            log += "receiving"
            q.receiveBlocking() shouldBe 1
            Stackless.run()
            log shouldBe listOf("receiving", "sent")
        }
    }

    "waiting receivers: negative balance, FIFO, a send hands over and the receiver runs first" {
        fresh {
            val q = QueueChannel<Int>(2)
            val log = mutableListOf<String>()
            for (name in listOf("a", "b")) Tasklet { log += name + q.receive() }.setup()
            Stackless.run()
            q.balance shouldBe -2
            Tasklet {
                q.send(1)
                log += "after 1"
                q.send(2)
                log += "after 2"
                q.send(3)
                log += "after 3"
            }.setup()
            Stackless.run()
            log shouldBe listOf("a1", "after 1", "b2", "after 2", "after 3")
            q.balance shouldBe 1
            q.receiveBlocking() shouldBe 3
        }
    }

    "exceptions take their turn in the queue" {
        fresh {
            val q = QueueChannel<Int>()
            val boom = IllegalStateException("boom")
            q.sendBlocking(1)
            q.sendExceptionBlocking(boom)
            q.sendBlocking(2)
            q.balance shouldBe 3
            q.receiveBlocking() shouldBe 1
            shouldThrow<IllegalStateException> { q.receiveBlocking() } shouldBeSameInstanceAs boom
            q.receiveBlocking() shouldBe 2
            // Also from a blocked sender, after the buffered ones.
            val r = QueueChannel<Int>(1)
            r.sendBlocking(10)
            Tasklet { r.sendException(boom) }.setup()
            Stackless.run()
            r.balance shouldBe 2
            r.receiveBlocking() shouldBe 10
            shouldThrow<IllegalStateException> { r.receiveBlocking() } shouldBeSameInstanceAs boom
        }
    }

    "close: what is in the queue is still received, then operations fail; iteration ends" {
        fresh {
            val q = QueueChannel<Int>()
            q.sendBlocking(1)
            q.sendBlocking(2)
            q.close()
            q.closing shouldBe true
            q.closed shouldBe false
            shouldThrow<ChannelClosedException> { q.sendBlocking(3) }.message shouldBe CLOSED_MESSAGE
            val got = mutableListOf<Int>()
            stackless { for (x in q) got += x }
            got shouldBe listOf(1, 2)
            q.closed shouldBe true
            shouldThrow<ChannelClosedException> { q.receiveBlocking() }.message shouldBe CLOSED_MESSAGE
            q.blockingIterable().toList() shouldBe emptyList()
        }
    }

    "close releases the receivers waiting on the empty queue; blocked senders stay and are served" {
        fresh {
            val q = QueueChannel<Int>()
            val log = mutableListOf<String>()
            for (name in listOf("a", "b")) {
                Tasklet {
                    try {
                        q.receive()
                    } catch (e: ChannelClosedException) {
                        log += name + ": " + e.message
                    }
                }.setup()
            }
            Stackless.run()
            q.balance shouldBe -2
            q.close()
            q.balance shouldBe 0
            log shouldBe emptyList()
            Stackless.run()
            log shouldBe listOf("a: $CLOSED_MESSAGE", "b: $CLOSED_MESSAGE")
            shouldThrow<ChannelClosedException> { q.sendBlocking(1) }.message shouldBe CLOSED_MESSAGE
            val r = QueueChannel<Int>(1)
            r.sendBlocking(1)
            Tasklet { r.send(2); log += "sent 2" }.setup()
            Stackless.run()
            r.close()
            r.balance shouldBe 2
            r.blockingIterable().toList() shouldBe listOf(1, 2)
            Stackless.run()
            log.last() shouldBe "sent 2"
            r.closed shouldBe true
        }
    }

    "iteration: in a tasklet until closed, from Java with blockingIterable" {
        fresh {
            val q = QueueChannel<Int>(2)
            val got = mutableListOf<Int>()
            stackless {
                Tasklet {
                    for (i in 0 until 5) q.send(i)
                    q.close()
                }.setup()
                for (x in q) got += x
            }
            got shouldBe listOf(0, 1, 2, 3, 4)
            val r = QueueChannel<Int>(1)
            Tasklet {
                for (i in 0 until 4) r.send(i)
                r.sendException(NoSuchElementException())
            }.setup()
            r.blockingIterable().toList() shouldBe listOf(0, 1, 2, 3)
        }
    }

    "a sender killed while blocked gets the kill and its value is not enqueued" {
        fresh {
            val q = QueueChannel<Int>(1)
            val log = mutableListOf<String>()
            q.sendBlocking(1)
            val s = Tasklet {
                try {
                    q.send(2)
                    log += "sent"
                } catch (e: TaskletExit) {
                    log += "killed"
                    throw e
                }
            }.setup()
            Tasklet { q.send(3) }.setup()
            Stackless.run()
            q.balance shouldBe 3
            s.killBlocking()
            q.balance shouldBe 2
            listOf(q.receiveBlocking(), q.receiveBlocking()) shouldBe listOf(1, 3)
            log shouldBe listOf("killed")
        }
    }

    "a receiver killed while blocked leaves, and the value waits for the next one" {
        fresh {
            val q = QueueChannel<Int>()
            val r = Tasklet { q.receive() }.setup()
            Stackless.run()
            q.balance shouldBe -1
            r.killBlocking()
            q.balance shouldBe 0
            q.sendBlocking(7)
            q.receiveBlocking() shouldBe 7
        }
    }

    "a sender whose value was taken, killed before it runs again, keeps its completed send" {
        fresh {
            val q = QueueChannel<Int>(0)
            val log = mutableListOf<String>()
            val s = Tasklet {
                q.send(1)
                log += "send returned"
                Stackless.schedule()
                log += "not reached"
            }.setup()
            Stackless.run()
            q.receiveBlocking() shouldBe 1
            s.killBlocking()
            log shouldBe listOf("send returned")
            s.alive shouldBe false
        }
    }

    "a receiver handed a value by another thread and killed before it runs keeps the value" {
        fresh {
            val q = QueueChannel<Int>(0)
            val log = mutableListOf<String>()
            val ready = CountDownLatch(1)
            val step = CountDownLatch(1)
            val sent = CountDownLatch(1)
            val other = Thread {
                Stackless.current
                ready.countDown()
                // A first rendezvous with the main tasklet makes the channel shared by both threads.
                q.sendBlocking(0)
                step.await()
                q.sendBlocking(5)
                sent.countDown()
            }
            Stackless.current
            other.start()
            ready.await()
            q.receiveBlocking() shouldBe 0
            val r = Tasklet {
                try {
                    log += "got " + q.receive()
                    Stackless.schedule()
                    log += "not reached"
                } catch (e: TaskletExit) {
                    log += "killed"
                    throw e
                }
            }.setup()
            Stackless.run()
            r.blocked shouldBe -1
            step.countDown()
            // Waiting without a switch point: the receiver's wake-up stays in this thread's inbox.
            sent.await()
            r.killBlocking()
            log shouldBe listOf("got 5", "killed")
            other.join()
        }
    }

    "property: FIFO, exactly once, and the balance formula under random send/receive/kill/close" {
        val stats = Collections.synchronizedMap(HashMap<String, Int>())
        checkAll(PropTestConfig(seed = 20250405L, iterations = 300), Arb.int(-1..3), Arb.list(Arb.int(0..99), 1..80)) { maxLen, ops ->
            fresh { QueueRun(maxLen, stats).go(ops) }
        }
        // The generator must reach every path the test is about.
        val paths = listOf(
            "buffered", "handed over", "unblocked sender", "blocked sender", "moved", "sender killed blocked",
            "receiver killed blocked", "closed send", "closed receive", "exception", "main receive",
        )
        paths.filter { (stats[it] ?: 0) == 0 } shouldBe emptyList()
    }
})

private class Marked(val k: Int) : Exception()

/**
 * One random run by the main tasklet of a fresh thread: each op spawns a sender or a receiver of
 * one value, kills a worker (at once or pending), lets everything run, receives itself or closes
 * the queue. Values are numbered when their send starts.
 */
private class QueueRun(private val maxLen: Int, private val stats: MutableMap<String, Int>) {
    private val q = QueueChannel<Int>(maxLen)
    private var next = 0
    private val sent = mutableListOf<Int>()
    private val received = mutableListOf<Int>()
    private val workers = mutableListOf<Tasklet>()

    private fun count(what: String) {
        stats.merge(what, 1, Int::plus)
    }

    fun go(ops: List<Int>) {
        for (op in ops) {
            when (op % 10) {
                0, 1, 2 -> workers += Tasklet { send() }.setup()
                3, 4, 5 -> workers += Tasklet { receive() }.setup()
                6 -> victim(op)?.let { kill(it, pending = false) }
                7 -> victim(op)?.let { kill(it, pending = true) }
                8 -> quiesce()
                9 -> if (op >= 95) q.close() else mainReceive()
            }
            if ((op / 10) % 2 == 0) quiesce()
        }
        quiesce()
        for (t in workers) t.killBlocking()
        quiesce()
        q.balance shouldBe sent.size - received.size
        while (q.balance > 0) mainReceive()
        // Exactly once, in the order the sends started: a strictly increasing list equal to the sent ones.
        received shouldBe received.sorted().distinct()
        received.sorted() shouldBe sent.sorted()
    }

    private suspend fun send() {
        val k = next++
        try {
            // With nobody waiting, the balance is the number buffered.
            val buffered = !q.closing && workers.none { it.blocked != 0 } && (maxLen < 0 || q.balance < maxLen)
            val handed = workers.any { it.blocked == -1 }
            if (k % 5 == 4) q.sendException(Marked(k)) else q.send(k)
            sent += k
            count(if (buffered) "buffered" else if (handed) "handed over" else "unblocked sender")
        } catch (e: ChannelClosedException) {
            count("closed send")
        } catch (e: TaskletExit) {
            count("sender killed blocked")
            throw e
        }
    }

    private suspend fun receive() {
        try {
            val moved = workers.any { it.blocked == 1 }
            received += q.receive()
            if (moved) count("moved")
        } catch (e: Marked) {
            received += e.k
            count("exception")
        } catch (e: ChannelClosedException) {
            count("closed receive")
        } catch (e: TaskletExit) {
            count("receiver killed blocked")
            throw e
        }
    }

    private fun mainReceive() {
        if (q.balance <= 0) return
        try {
            received += q.receiveBlocking()
        } catch (e: Marked) {
            received += e.k
        }
        count("main receive")
    }

    private fun victim(op: Int): Tasklet? = workers.filter { it.alive }.let { if (it.isEmpty()) null else it[op % it.size] }

    private fun kill(t: Tasklet, pending: Boolean) {
        if (t.blocked == 1) count("blocked sender")
        t.killBlocking(pending)
    }

    /** Runs every runnable tasklet; then no value is in flight, and the balance is the formula's. */
    private fun quiesce() {
        Stackless.run()
        val blockedSenders = workers.count { it.alive && it.blocked == 1 }
        val blockedReceivers = workers.count { it.alive && it.blocked == -1 }
        q.balance shouldBe (sent.size - received.size) + blockedSenders - blockedReceivers
    }
}
