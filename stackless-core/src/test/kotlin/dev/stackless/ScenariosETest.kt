package dev.stackless

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain

// Section E of docs/scenarios.md (channels), S#60–S#101, plus the even-numbered scenarios that
// stackless.md cites (S#70 and S#88 are cited nowhere, so there is nothing to test for them).
//
// Python exception mapping used here: ValueError -> IllegalArgumentException, KeyError -> NoSuchFieldException,
// IndexError -> IndexOutOfBoundsException, StopIteration -> NoSuchElementException, RuntimeError -> IllegalStateException.
//
// Prevented by the type system (no tests): `set_channel_callback(5)` ("channel callback must be callable"),
// non-int `preference` / non-bool `schedule_all` / non-bool `block_trap` setters, `send_exception` with a
// non-exception class, `send_throw` with a bad traceback / "instance exception may not have a separate value".
// S#100 (a tasklet blocking with an empty queue while another thread exists sleeps instead of deadlocking):
// deferred to the threads work.
// S#101 (cross-thread channel, master/slave in two threads): deferred to the threads work.

/** `st(t)` = (alive, scheduled, blocked, paused). */
internal fun stE(t: Tasklet): List<Boolean> = listOf(t.alive, t.scheduled, t.blocked != 0, t.paused)

/** Python's `next(c)`. */
internal suspend fun <T> nextE(c: Channel<T>): T {
    val it = c.iterator()
    if (it.hasNext()) return it.next()
    throw NoSuchElementException()
}

/** `Type(message)` of an exception; only the first line of a multi-line message (deadlock reports). */
internal fun exE(e: Throwable): String = "${e::class.simpleName}(${e.message?.lines()?.first()})"

class ScenariosETest : FunSpec({

    test("S#60 (from docs/stackless.md §1.3, §2.4) a blocked sender's tempval is the value it offers; blocked is 1 / -1") { fresh {
        val c = Channel<Any?>()
        val c2 = Channel<Any?>()
        val s = Tasklet { c.send("X") }.setup()
        val r = Tasklet { c2.receive() }.setup()
        Stackless.run() shouldBe null
        s.tempval shouldBe "X"
        s.blocked shouldBe 1
        c.balance shouldBe 1
        r.tempval shouldBe null
        r.blocked shouldBe -1
        c2.balance shouldBe -1
        stE(s) shouldBe listOf(true, true, true, false)
        stE(r) shouldBe listOf(true, true, true, false)
        c.receive() shouldBe "X"
        c2.send("Y")
        Stackless.run()
        s.alive shouldBe false
        r.alive shouldBe false
    } }

    test("S#61 Non-blocking send/receive with block_trap set") { fresh {
        val log = mutableListOf<String>()
        val c = Channel<Int>()
        try {
            Tasklet { log += "receiver got ${c.receive()}" }.setup()
            Stackless.run()
            c.balance shouldBe -1
            Stackless.main.blockTrap = true
            c.send(1)
            log shouldBe listOf("receiver got 1")
            Stackless.main.blockTrap = false

            Tasklet { c.send(2); log += "sender done" }.setup()
            Stackless.run()
            c.balance shouldBe 1
            Stackless.main.blockTrap = true
            c.receive() shouldBe 2
            Stackless.main.blockTrap = false
            Stackless.run()
            log shouldBe listOf("receiver got 1", "sender done")
        } finally {
            Stackless.main.blockTrap = false
        }
    } }

    test("S#62 (from docs/stackless.md §3.2, §11) preference -1, SEND to waiting receiver: receiver now, sender after the rest") { fresh {
        val log = mutableListOf<String>()
        val c = Channel<String>()
        Tasklet { log += "receiver got ${c.receive()}" }.setup()
        Stackless.run()
        Tasklet { log += "sender sends"; c.send("X"); log += "sender continues" }.setup()
        Tasklet { log += "other runs" }.setup()
        Stackless.run()
        log shouldBe listOf("sender sends", "receiver got X", "other runs", "sender continues")
    } }

    test("S#63 preference -1, RECEIVE from waiting sender") { fresh {
        val log = mutableListOf<String>()
        val c = Channel<String>()
        Tasklet { c.send("X"); log += "S send returned" }.setup()
        Stackless.run()
        c.preference shouldBe -1
        Tasklet { log += "receiver receives"; log += "receiver got ${c.receive()}" }.setup()
        Tasklet { log += "other runs" }.setup()
        Stackless.run()
        log shouldBe listOf("receiver receives", "receiver got X", "other runs", "S send returned")
    } }

    test("S#64 (from docs/stackless.md §3.2, §11) preference 0, SEND: sender continues, receiver at end") { fresh {
        val log = mutableListOf<String>()
        val c = Channel<String>()
        c.preference = 0
        Tasklet { log += "receiver got ${c.receive()}" }.setup()
        Stackless.run()
        Tasklet { log += "sender sends"; c.send("X"); log += "sender continues" }.setup()
        Tasklet { log += "other runs" }.setup()
        Stackless.run()
        log shouldBe listOf("sender sends", "sender continues", "other runs", "receiver got X")
    } }

    test("S#65 preference 0, RECEIVE") { fresh {
        val log = mutableListOf<String>()
        val c = Channel<String>()
        c.preference = 0
        Tasklet { c.send("X"); log += "S send returned" }.setup()
        Stackless.run()
        Tasklet { log += "receiver receives"; log += "receiver got ${c.receive()}" }.setup()
        Tasklet { log += "other runs" }.setup()
        Stackless.run()
        log shouldBe listOf("receiver receives", "receiver got X", "other runs", "S send returned")
    } }

    test("S#66 (from docs/stackless.md §3.2, §11) preference 1, SEND: sender continues, receiver at end") { fresh {
        val log = mutableListOf<String>()
        val c = Channel<String>()
        c.preference = 1
        Tasklet { log += "receiver got ${c.receive()}" }.setup()
        Stackless.run()
        Tasklet { log += "sender sends"; c.send("X"); log += "sender continues" }.setup()
        Tasklet { log += "other runs" }.setup()
        Stackless.run()
        log shouldBe listOf("sender sends", "sender continues", "other runs", "receiver got X")
    } }

    test("S#67 preference 1, RECEIVE") { fresh {
        val log = mutableListOf<String>()
        val c = Channel<String>()
        c.preference = 1
        Tasklet { c.send("X"); log += "S send returned" }.setup()
        Stackless.run()
        Tasklet { log += "receiver receives"; log += "receiver got ${c.receive()}" }.setup()
        Tasklet { log += "other runs" }.setup()
        Stackless.run()
        log shouldBe listOf("receiver receives", "S send returned", "other runs", "receiver got X")
    } }

    test("S#68 (from docs/stackless.md §3.2, §11) schedule_all: both parties go behind everything queued, partner first") { fresh {
        val log = mutableListOf<String>()
        val c = Channel<String>()
        c.scheduleAll = true
        Tasklet { log += "R got ${c.receive()}" }.setup()
        Stackless.run()
        Tasklet { log += "S sends"; c.send("X"); log += "S continues" }.setup()
        Tasklet { log += "o1" }.setup()
        Tasklet { log += "o2" }.setup()
        Stackless.run()
        log shouldBe listOf("S sends", "o1", "o2", "R got X", "S continues")

        log.clear()
        Tasklet { c.send("Y"); log += "S send returned" }.setup()
        Stackless.run()
        Tasklet { log += "R receives"; log += "R got ${c.receive()}" }.setup()
        Tasklet { log += "o1" }.setup()
        Tasklet { log += "o2" }.setup()
        Stackless.run()
        log shouldBe listOf("R receives", "o1", "o2", "S send returned", "R got Y")
    } }

    test("S#69 The non-preferred party goes to the END of the queue") { fresh {
        val log = mutableListOf<String>()
        val c = Channel<Int>()
        Tasklet { log += "R got ${c.receive()}"; Stackless.schedule(); log += "R again" }.setup()
        Stackless.run()
        Tasklet { log += "S sends"; c.send(1); log += "S continues" }.setup()
        for (n in listOf("o1", "o2")) Tasklet { log += n; Stackless.schedule(); log += "$n again" }.setup()
        Stackless.run()
        log shouldBe listOf("S sends", "R got 1", "o1", "o2", "S continues", "R again", "o1 again", "o2 again")
    } }

    test("S#71 Send after t.run() rotation") { fresh {
        val log = mutableListOf<String>()
        val c = Channel<String>()
        Tasklet { log += "o1" }.setup()
        val r = Tasklet { log += "R got ${c.receive()}" }.setup()
        Tasklet { log += "o2" }.setup()
        // queue: main, o1, R, o2
        r.run()
        log += "main sends"
        c.send("v")
        log += "main continues"
        log shouldBe listOf("o2", "main sends", "R got v", "o1", "main continues")
        Stackless.runCount shouldBe 1
    } }

    test("S#72 (from docs/stackless.md §3.1) preference defaults to -1 and clamps; scheduleAll defaults to false") { fresh {
        val c = Channel<Int>()
        c.preference shouldBe -1
        c.scheduleAll shouldBe false
        c.preference = 5
        c.preference shouldBe 1
        c.preference = -3
        c.preference shouldBe -1
        c.preference = 0
        c.preference shouldBe 0
        c.preference = Int.MAX_VALUE
        c.preference shouldBe 1
        c.preference = Int.MIN_VALUE
        c.preference shouldBe -1
        c.scheduleAll = true
        c.scheduleAll shouldBe true
        c.scheduleAll = false
        c.scheduleAll shouldBe false
    } }

    test("S#73 FIFO order of waiting receivers; queue chain") { fresh {
        val log = mutableListOf<String>()
        val c = Channel<Int>()
        val rs = listOf("r1", "r2", "r3").map { n -> Tasklet { log += "$n got ${c.receive()}" }.also { it.name = n }.setup() }
        Stackless.run()
        val (r1, r2, r3) = rs
        c.balance shouldBe -3
        c.queue shouldBe r1
        r1.next shouldBe r2
        r2.next shouldBe r3
        r3.next shouldBe null
        r1.prev shouldBe null
        r2.prev shouldBe r1
        r3.prev shouldBe r2
        for (i in 0..2) c.send(i)
        log shouldBe listOf("r1 got 0", "r2 got 1", "r3 got 2")
        c.balance shouldBe 0
        c.queue shouldBe null
    } }

    test("S#74 (from docs/stackless.md §2.11, §3.8) kill() of a blocked sender: TaskletExit inside send(), channel updated") { fresh {
        val log = mutableListOf<String>()
        val c = Channel<String>()
        val s = Tasklet {
            try {
                c.send("lost")
                log += "sent"
            } catch (e: TaskletExit) {
                log += "TE in send"
                throw e
            }
        }.setup()
        Stackless.run()
        c.balance shouldBe 1
        c.close()
        c.closing shouldBe true
        c.closed shouldBe false
        s.kill()
        log shouldBe listOf("TE in send")
        stE(s) shouldBe listOf(false, false, false, false)
        c.balance shouldBe 0
        c.queue shouldBe null
        c.closed shouldBe true // killing the last waiting sender of a closing channel makes it closed
        // the value was dropped with the sender
        c.open()
        Tasklet { log += "late sender"; c.send("new") }.setup()
        c.receive() shouldBe "new"
    } }

    test("S#75 kill() of a blocked receiver: TaskletExit raised inside receive(); order") { fresh {
        val log = mutableListOf<String>()
        val c = Channel<Int>()
        val t = Tasklet {
            try {
                c.receive()
            } catch (e: TaskletExit) {
                log += "TE"
                throw e
            } finally {
                log += "finally"
            }
        }.setup()
        Stackless.run()
        Tasklet { log += "other" }.setup()
        log += "main kills"
        t.kill()
        log += "main after kill ${stE(t)} ${c.balance}"
        Stackless.run()
        log shouldBe listOf("main kills", "TE", "finally", "main after kill [false, false, false, false] 0", "other")
    } }

    test("S#76 (from docs/stackless.md §3.8) a thrown-to blocked tasklet leaves the channel at once; queue advances") { fresh {
        val log = mutableListOf<String>()
        val c = Channel<Int>()
        val r1 = Tasklet {
            try {
                c.receive()
            } catch (e: IllegalArgumentException) {
                log += "r1 caught ${exE(e)}"
            }
        }.also { it.name = "r1" }.setup()
        val r2 = Tasklet { log += "r2 got ${c.receive()}" }.also { it.name = "r2" }.setup()
        val r3 = Tasklet { log += "r3 got ${c.receive()}" }.also { it.name = "r3" }.setup()
        Stackless.run()
        c.balance shouldBe -3
        // a pending throw to the middle waiter relinks the chain
        r2.throwException(IllegalArgumentException("boom2"), pending = true)
        c.balance shouldBe -2
        c.queue shouldBe r1
        r1.next shouldBe r3
        r3.prev shouldBe r1
        r2.blocked shouldBe 0
        stE(r2) shouldBe listOf(true, true, false, false)
        r2.next shouldBe Stackless.main // now in the run queue: appended before main
        // a non-pending throw to the head waiter: it runs now, the queue advances
        r1.throwException(IllegalArgumentException("boom1"))
        log shouldBe listOf("r1 caught IllegalArgumentException(boom1)")
        c.balance shouldBe -1
        c.queue shouldBe r3
        r3.prev shouldBe null
        shouldThrow<IllegalArgumentException> { Stackless.run() }.message shouldBe "boom2"
        c.send(7)
        log shouldBe listOf("r1 caught IllegalArgumentException(boom1)", "r3 got 7")
        c.balance shouldBe 0
    } }

    test("S#77 send_exception / send_throw") { fresh {
        val log = mutableListOf<String>()
        val c = Channel<Any?>()
        val received = mutableListOf<Throwable>()
        Tasklet {
            repeat(4) {
                try {
                    log += "value ${c.receive()}"
                } catch (e: Exception) {
                    received += e
                    log += exE(e)
                }
            }
        }.setup()
        Stackless.run()
        c.sendException(IllegalArgumentException("1, 2, 3")) shouldBe Unit
        c.sendException(NoSuchFieldException("k"))
        c.sendException(IndexOutOfBoundsException("iv"))
        val original: Throwable = try {
            raiseForE()
        } catch (e: Exception) {
            e
        }
        val trace = original.stackTrace.toList()
        c.sendException(original)
        log shouldBe listOf(
            "IllegalArgumentException(1, 2, 3)",
            "NoSuchFieldException(k)",
            "IndexOutOfBoundsException(iv)",
            "IllegalStateException(raised)",
        )
        (received[3] === original) shouldBe true
        received[3].stackTrace.toList() shouldBe trace
        received[3].stackTrace[0].methodName shouldBe "raiseForE"
        c.balance shouldBe 0
    } }

    test("S#78 (from docs/stackless.md §3.3) send_exception schedules exactly like send") { fresh {
        val log = mutableListOf<String>()
        val c = Channel<Int>()
        Tasklet {
            try {
                c.receive()
            } catch (e: IllegalArgumentException) {
                log += "R caught ${exE(e)}"
            }
        }.setup()
        Stackless.run()
        Tasklet { log += "S sends"; c.sendException(IllegalArgumentException("v")); log += "S continues" }.setup()
        Tasklet { log += "other runs" }.setup()
        Stackless.run()
        log shouldBe listOf("S sends", "R caught IllegalArgumentException(v)", "other runs", "S continues")

        // preference 1: the sender continues, the receiver raises at the end of the round
        log.clear()
        c.preference = 1
        Tasklet {
            try {
                c.receive()
            } catch (e: IllegalArgumentException) {
                log += "R caught ${exE(e)}"
            }
        }.setup()
        Stackless.run()
        Tasklet { log += "S sends"; c.sendException(IllegalArgumentException("w")); log += "S continues" }.setup()
        Tasklet { log += "other runs" }.setup()
        Stackless.run()
        log shouldBe listOf("S sends", "S continues", "other runs", "R caught IllegalArgumentException(w)")
    } }

    test("S#79 Exception sent by a blocked sender") { fresh {
        val log = mutableListOf<String>()
        val c = Channel<Int>()
        val t = Tasklet { c.sendException(IllegalArgumentException("v")); log += "sender continues" }.setup()
        t.run()
        t.blocked shouldBe 1
        c.balance shouldBe 1
        shouldThrow<IllegalArgumentException> { c.receive() }.message shouldBe "v"
        c.balance shouldBe 0
        log shouldBe emptyList()
        Stackless.run()
        log shouldBe listOf("sender continues")
    } }

    test("S#80 (from docs/stackless.md §3.4, compatibility decision) blocking sendException while main is in run(): run() returns, the receiver gets it") { fresh {
        // Stackless hands the pending exception to the watchdog (run() raises it); this port documents
        // (Channel.sendException) that the blocked sender keeps it for the receiver instead.
        val log = mutableListOf<String>()
        val c = Channel<Int>()
        val t = Tasklet { c.sendException(IllegalArgumentException("v")); log += "sender continues" }.setup()
        Stackless.run() shouldBe null
        t.blocked shouldBe 1
        c.balance shouldBe 1
        shouldThrow<IllegalArgumentException> { c.receive() }.message shouldBe "v"
        Stackless.run()
        log shouldBe listOf("sender continues")
    } }

    test("S#81 send_sequence + iteration terminated by StopIteration") { fresh {
        val log = mutableListOf<String>()
        val c = Channel<Int>()
        Tasklet {
            val n = c.sendSequence(0 until 4)
            log += "send_sequence returned $n"
            c.sendException(NoSuchElementException())
            log += "sender end"
        }.setup()
        Tasklet {
            for (v in c) log += "$v"
            log += "iteration ended"
        }.setup()
        Stackless.run()
        log shouldBe listOf("0", "1", "2", "3", "send_sequence returned 4", "iteration ended", "sender end")
        c.closing shouldBe false
        c.balance shouldBe 0
    } }

    test("S#82 (from docs/stackless.md §3.5) send_sequence pulls the items lazily, one per rendezvous") { fresh {
        val log = mutableListOf<String>()
        val c = Channel<Int>()
        val items = sequence { for (i in 0..2) { log += "pull $i"; yield(i) } }.asIterable()
        Tasklet { repeat(3) { log += "got ${c.receive()}" } }.setup()
        Tasklet { log += "sent ${c.sendSequence(items)}" }.setup()
        Stackless.run()
        log shouldBe listOf("pull 0", "got 0", "pull 1", "got 1", "pull 2", "got 2", "sent 3")

        // without a receiver only the first item is pulled before the sender blocks
        log.clear()
        val s = Tasklet { log += "sent ${c.sendSequence(items)}" }.setup()
        Stackless.run()
        log shouldBe listOf("pull 0")
        s.blocked shouldBe 1
        c.receive() shouldBe 0
        log shouldBe listOf("pull 0")
        Stackless.run() // the sender pulls 1 and blocks again
        log shouldBe listOf("pull 0", "pull 1")
        c.receive() shouldBe 1
        Stackless.run()
        c.receive() shouldBe 2
        Stackless.run()
        log shouldBe listOf("pull 0", "pull 1", "pull 2", "sent 3")

        // an empty sequence sends nothing and never blocks; the blocking twin from main
        c.sendSequence(emptyList()) shouldBe 0
        Tasklet { repeat(2) { log += "main sent ${c.receive()}" } }.setup()
        c.sendSequenceBlocking(listOf(10, 11)) shouldBe 2
        log.takeLast(2) shouldBe listOf("main sent 10", "main sent 11")
    } }

    test("S#83 send_sequence aborted when the channel gets closed") { fresh {
        val log = mutableListOf<String>()
        val c = Channel<Int>()
        Tasklet {
            log += "r ${c.receive()}"
            log += "r ${c.receive()}"
            c.close()
            log += "r closed channel"
        }.setup()
        Tasklet {
            var n = -1
            try {
                n = c.sendSequence(listOf(1, 2, 3, 4))
            } catch (e: ChannelClosedException) {
                log += "s ${exE(e)}"
            }
            n shouldBe -1
        }.setup()
        Stackless.run()
        log shouldBe listOf(
            "r 1", "r 2", "r closed channel",
            "s ChannelClosedException(Send/receive operation on a closed channel)",
        )
        c.balance shouldBe 0
        c.closed shouldBe true
    } }

    test("S#84 (from docs/stackless.md §3.2 step 4, §3.7) an op that would block on a closing channel fails even with balance != 0; open() clears it") { fresh {
        val log = mutableListOf<String>()
        val c = Channel<Int>()
        Tasklet { c.send(1); log += "sent 1" }.setup()
        Stackless.run()
        c.close()
        c.closing shouldBe true
        c.closed shouldBe false
        // a second send would block (a sender is waiting, no receiver)
        shouldThrow<ChannelClosedException> { c.send(2) }.message shouldBe "Send/receive operation on a closed channel"
        c.balance shouldBe 1
        Stackless.runCount shouldBe 1
        c.receive() shouldBe 1
        c.closed shouldBe true
        shouldThrow<ChannelClosedException> { c.receive() }.message shouldBe "Send/receive operation on a closed channel"
        shouldThrow<ChannelClosedException> { c.send(3) }.message shouldBe "Send/receive operation on a closed channel"
        c.open()
        c.closing shouldBe false
        c.closed shouldBe false
        Tasklet { log += "got ${c.receive()}" }.setup()
        c.send(4)
        // main blocked in send: the woken sender 1 (queued first) runs, then the receiver
        log shouldBe listOf("sent 1", "got 4")
        Stackless.runCount shouldBe 1
    } }

    test("S#85 Closing a channel with waiting senders drains them") { fresh {
        val log = mutableListOf<String>()
        val c = Channel<Int>()
        for (i in 1..2) Tasklet { c.send(i); log += "sent $i" }.setup()
        Stackless.run()
        c.close()
        c.closing shouldBe true
        c.closed shouldBe false
        c.balance shouldBe 2
        c.receive() shouldBe 1
        nextE(c) shouldBe 2
        c.closed shouldBe true
        shouldThrow<NoSuchElementException> { nextE(c) }
        shouldThrow<ChannelClosedException> { c.receive() }.message shouldBe "Send/receive operation on a closed channel"
        log shouldBe emptyList()
        Stackless.run()
        log shouldBe listOf("sent 1", "sent 2")
    } }

    test("S#86 (from docs/stackless.md §3.7) close() wakes nobody; a waiting receiver can still be sent to") { fresh {
        val log = mutableListOf<String>()
        val c = Channel<String>()
        val r = Tasklet { log += "R got ${c.receive()}" }.setup()
        Stackless.run()
        c.close()
        log shouldBe emptyList()
        c.closing shouldBe true
        c.closed shouldBe false
        c.balance shouldBe -1
        stE(r) shouldBe listOf(true, true, true, false)
        Stackless.runCount shouldBe 1
        c.send("x")
        log shouldBe listOf("R got x")
        c.closed shouldBe true
        shouldThrow<ChannelClosedException> { c.send("y") }.message shouldBe "Send/receive operation on a closed channel"
    } }

    test("S#87 close() does NOT wake blocked receivers") { fresh {
        val log = mutableListOf<String>()
        val c = Channel<Int>()
        val r = Tasklet {
            for (v in c) log += "r $v"
            log += "loop ended"
        }.setup()
        Tasklet {
            for (i in 0..2) c.send(i)
            c.close()
            log += "sender: closing"
        }.setup()
        Stackless.run() shouldBe null
        log shouldBe listOf("r 0", "r 1", "r 2", "sender: closing")
        r.blocked shouldBe -1
        c.closing shouldBe true
        c.closed shouldBe false
        Stackless.run()
        log shouldBe listOf("r 0", "r 1", "r 2", "sender: closing")
    } }

    test("S#89 Iterating over pre-filled closed channel") { fresh {
        val c = Channel<Int>()
        for (i in 0..2) Tasklet { c.send(i) }.setup()
        Stackless.run()
        c.close()
        c.blockingIterable().toList() shouldBe listOf(0, 1, 2)
        c.closed shouldBe true

        // the same with `for (x in c)` inside a tasklet
        val log = mutableListOf<String>()
        val d = Channel<Int>()
        for (i in 0..2) Tasklet { d.send(i) }.setup()
        Stackless.run()
        d.close()
        Tasklet { for (v in d) log += "$v"; log += "loop ended" }.setup()
        Stackless.run()
        log shouldBe listOf("0", "1", "2", "loop ended")
        d.closed shouldBe true
    } }

    test("S#90 (from docs/stackless.md §2.4, §3.2 step 4) block_trap: an op that would block fails, before the closing check") { fresh {
        val log = mutableListOf<String>()
        val c = Channel<Int>()
        val main = Stackless.main
        try {
            main.blockTrap shouldBe false
            main.blockTrap = true
            shouldThrow<IllegalStateException> { c.receive() }.message shouldBe "this tasklet does not like to be blocked."
            shouldThrow<IllegalStateException> { c.send(1) }.message shouldBe "this tasklet does not like to be blocked."
            c.balance shouldBe 0
            Stackless.runCount shouldBe 1
            main.blocked shouldBe 0
            c.close()
            shouldThrow<IllegalStateException> { c.receive() }.message shouldBe "this tasklet does not like to be blocked."
            c.open()
            main.blockTrap = false

            Tasklet {
                Stackless.current.blockTrap = true
                try {
                    c.receive()
                } catch (e: IllegalStateException) {
                    log += "tasklet ${e.message}"
                }
                Stackless.current.blockTrap = false
                log += "tasklet got ${c.receive()}"
            }.setup()
            Stackless.run()
            c.send(5)
            log shouldBe listOf("tasklet this tasklet does not like to be blocked.", "tasklet got 5")
        } finally {
            main.blockTrap = false
        }
    } }

    test("S#91 Channel callback") { fresh {
        val log = mutableListOf<String>()
        val c = Channel<Int>()
        val cb = ChannelCallback { ch, t, sending, willBlock ->
            (ch === c) shouldBe true
            log += "(${t.name},${if (sending) 1 else 0},${if (willBlock) 1 else 0},${t.tempval})"
        }
        try {
            Stackless.setChannelCallback(cb) shouldBe null
            val r = Tasklet { c.receive() }.also { it.name = "R" }.setup()
            c.send(42)
            val s = Tasklet { c.send(43) }.also { it.name = "S" }.setup()
            Stackless.run()
            c.receive() shouldBe 43
            log shouldBe listOf("(main,1,1,42)", "(R,0,0,null)", "(S,1,1,43)", "(main,0,0,null)")
            r.alive shouldBe false
            s.blocked shouldBe 0
            Stackless.getChannelCallback() shouldBe cb
            Stackless.setChannelCallback(null) shouldBe cb
            Stackless.getChannelCallback() shouldBe null
        } finally {
            Stackless.setChannelCallback(null)
        }
    } }

    test("S#92 (from docs/stackless.md §4.6) a channel op inside the channel callback fails; the outer op is unharmed") { fresh {
        val log = mutableListOf<String>()
        val c = Channel<String>()
        val other = Channel<Int>()
        try {
            Tasklet { log += "R got ${c.receive()}" }.setup()
            Stackless.run()
            Stackless.setChannelCallback { _, t, _, _ ->
                try {
                    other.sendBlocking(9)
                } catch (e: IllegalStateException) {
                    log += "cb ${exE(e)} tempval=${t.tempval}"
                }
            }
            c.send("v")
            log shouldBe listOf(
                "cb IllegalStateException(Recursive channel call due to callbacks!) tempval=v",
                "R got v",
            )
            other.balance shouldBe 0
        } finally {
            Stackless.setChannelCallback(null)
        }
    } }

    test("S#93 send() returns None; any object can be sent") { fresh {
        val c = Channel<Any?>()
        val got = mutableListOf<Any?>()
        Tasklet { repeat(5) { got += c.receive() } }.setup()
        val list = listOf(1)
        val values = listOf<Any?>("a", null, 0, list, c)
        for (v in values) c.send(v) shouldBe Unit
        got shouldBe values
        (got[3] === list) shouldBe true
        (got[4] === c) shouldBe true
    } }

    test("S#94 (from docs/stackless.md §4.8) a tasklet that would deadlock gets the error itself and is restored; the report names the blocked") { fresh {
        val log = mutableListOf<String>()
        val mc = Channel<String>()
        val c2 = Channel<Int>()
        val task = Tasklet {
            try {
                c2.receive()
            } catch (e: DeadlockException) {
                val me = Stackless.current
                log += exE(e)
                log += "blocked=${me.blocked} scheduled=${me.scheduled} balance=${c2.balance}"
                e.message!! shouldContain "main is blocked receiving on Channel@"
                e.message!! shouldContain "task is blocked receiving on Channel@"
            }
            mc.send("done")
        }.also { it.name = "task" }.setup()
        mc.receive() shouldBe "done"
        log shouldBe listOf(
            "DeadlockException(Deadlock: the last runnable tasklet cannot be blocked.)",
            "blocked=0 scheduled=true balance=0",
        )
        Stackless.run()
        task.alive shouldBe false
    } }

    test("S#95 Main blocked, the last runnable tasklet ends") { fresh {
        val log = mutableListOf<String>()
        val c = Channel<Int>()
        Tasklet { log += "nop runs" }.setup()
        val e1 = shouldThrow<DeadlockException> { c.receive() }
        e1.message!!.lines().first() shouldBe "the main tasklet is receiving without a sender available."
        e1.message!! shouldContain "main is blocked receiving on Channel@"
        log shouldBe listOf("nop runs")
        c.balance shouldBe 0
        Stackless.main.blocked shouldBe 0
        Stackless.runCount shouldBe 1

        Tasklet { log += "nop runs" }.setup()
        val e2 = shouldThrow<DeadlockException> { c.send(1) }
        e2.message!!.lines().first() shouldBe "the main tasklet is sending without a receiver available."
        e2.message!! shouldContain "main is blocked sending on Channel@"
        log shouldBe listOf("nop runs", "nop runs")
        c.balance shouldBe 0
        Stackless.runCount shouldBe 1
    } }

    test("S#96 (from docs/stackless.md §4.9) an uncaught exception wakes main blocked in send(); the value is not delivered") { fresh {
        val log = mutableListOf<String>()
        val c = Channel<String>()
        Tasklet { log += "bad raises"; throw NoSuchFieldException("k") }.setup()
        Tasklet { log += "other runs" }.setup()
        shouldThrow<NoSuchFieldException> { c.send("lost") }.message shouldBe "k"
        log shouldBe listOf("bad raises")
        c.balance shouldBe 0
        c.queue shouldBe null
        Stackless.main.blocked shouldBe 0
        Stackless.runCount shouldBe 2
        Stackless.run()
        log shouldBe listOf("bad raises", "other runs")
    } }

    test("S#97 Tasklet deadlock is raised in the tasklet") { fresh {
        val log = mutableListOf<String>()
        val mc = Channel<String>()
        Tasklet {
            try {
                Channel<Int>().receive()
                log += "task no error"
            } catch (e: IllegalStateException) {
                log += "task ${exE(e)}"
            }
            mc.send("done")
        }.setup()
        log += "main got ${mc.receive()}"
        log shouldBe listOf(
            "task DeadlockException(Deadlock: the last runnable tasklet cannot be blocked.)",
            "main got done",
        )
    } }

    test("S#98 (from docs/stackless.md §4.8, §4.9) an uncaught deadlock in a tasklet goes to the blocked watchdog") { fresh {
        val mc = Channel<String>()
        val c2 = Channel<Int>()
        val task = Tasklet { c2.receive() }.also { it.name = "task" }.setup()
        val e = shouldThrow<DeadlockException> { mc.receive() }
        e.message!!.lines().first() shouldBe "Deadlock: the last runnable tasklet cannot be blocked."
        e.message!! shouldContain "task is blocked receiving on Channel@"
        task.alive shouldBe false
        c2.balance shouldBe 0
        mc.balance shouldBe 0
        Stackless.main.blocked shouldBe 0
        Stackless.runCount shouldBe 1
    } }

    test("S#99 Exception wakes a blocked main BEFORE other runnable tasklets") { fresh {
        val log = mutableListOf<String>()
        val c = Channel<Int>()
        Tasklet { log += "bad raises"; throw NoSuchFieldException("k") }.setup()
        Tasklet { log += "other runs" }.setup()
        shouldThrow<NoSuchFieldException> { c.receive() }.message shouldBe "k"
        log shouldBe listOf("bad raises")
        Stackless.runCount shouldBe 2
        c.balance shouldBe 0
        Stackless.run()
        log shouldBe listOf("bad raises", "other runs")
    } }

    // ---------------------------------------------------------------------------------------------
    // Further channel API: blockingIterable, closing/closed, queue chain, iteration ended by NoSuchElementException

    test("blockingIterable() from main: ends on a sent NoSuchElementException; the channel stays usable") { fresh {
        val log = mutableListOf<String>()
        val c = Channel<Int>()
        Tasklet {
            for (i in 0..2) c.send(i)
            c.sendException(NoSuchElementException())
            log += "sender after stop"
            c.send(99)
        }.setup()
        c.blockingIterable().toList() shouldBe listOf(0, 1, 2)
        c.closing shouldBe false
        c.receive() shouldBe 99
        Stackless.run()
        log shouldBe listOf("sender after stop")
    } }

    test("blockingIterable(): hasNext() receives once and is idempotent; next() without hasNext(); exhausted") { fresh {
        val c = Channel<String>()
        for (v in listOf("a", "b")) Tasklet { c.send(v) }.setup()
        Stackless.run()
        c.close()
        val it = c.blockingIterable().iterator()
        it.hasNext() shouldBe true
        it.hasNext() shouldBe true
        c.balance shouldBe 1
        it.next() shouldBe "a"
        it.next() shouldBe "b"
        it.hasNext() shouldBe false
        shouldThrow<NoSuchElementException> { it.next() }
        c.closed shouldBe true
        Stackless.run() // let the two woken senders end
        // an open, empty channel with nobody to send deadlocks the iterating main tasklet
        val d = Channel<Int>()
        val e = shouldThrow<DeadlockException> { d.blockingIterable().iterator().hasNext() }
        e.message!!.lines().first() shouldBe "Deadlock: the last runnable tasklet cannot be blocked."
    } }

    test("iteration in a tasklet ends by a NoSuchElementException sent through the channel; next(c) raises it") { fresh {
        val log = mutableListOf<String>()
        val c = Channel<Int>()
        Tasklet {
            for (v in c) log += "got $v"
            log += "loop ended"
            try {
                nextE(c)
            } catch (e: NoSuchElementException) {
                log += "next raised"
            }
            log += "then ${nextE(c)}"
        }.setup()
        c.send(1)
        c.sendException(NoSuchElementException())
        c.sendException(NoSuchElementException("again"))
        c.send(2)
        log shouldBe listOf("got 1", "loop ended", "next raised", "then 2")
        // a plain receive() raises the sent NoSuchElementException as any other exception
        Tasklet { c.sendException(NoSuchElementException("stop")) }.setup()
        shouldThrow<NoSuchElementException> { c.receive() }.message shouldBe "stop"
    } }

    test("closing / closed: flags, balance, open()") { fresh {
        val c = Channel<Int>()
        c.closing shouldBe false
        c.closed shouldBe false
        c.close()
        c.closing shouldBe true
        c.closed shouldBe true // closing and balance 0
        shouldThrow<NoSuchElementException> { nextE(c) }
        c.blockingIterable().toList() shouldBe emptyList()
        c.open()
        c.closing shouldBe false
        c.closed shouldBe false
        // with a waiting receiver: closing but not closed until it is served or leaves
        val r = Tasklet { c.receive() }.setup()
        Stackless.run()
        c.close()
        c.closing shouldBe true
        c.closed shouldBe false
        r.kill()
        c.balance shouldBe 0
        c.closed shouldBe true
        c.close() // idempotent
        c.closing shouldBe true
        c.toString() shouldContain "closing"
    } }

    test("queue / next chain of waiting senders, with values in their tempvals") { fresh {
        val c = Channel<String>()
        val ss = listOf("a", "b", "c").map { v -> Tasklet { c.send(v) }.also { it.name = "s$v" }.setup() }
        c.queue shouldBe null
        Stackless.run()
        c.balance shouldBe 3
        var t = c.queue
        val chain = mutableListOf<String>()
        while (t != null) {
            chain += "${t.name}:${t.tempval}:${t.blocked}"
            t = t.next
        }
        chain shouldBe listOf("sa:a:1", "sb:b:1", "sc:c:1")
        ss[0].prev shouldBe null
        c.receive() shouldBe "a"
        c.queue shouldBe ss[1]
        ss[1].prev shouldBe null
        ss[0].blocked shouldBe 0
        ss[0].next shouldBe Stackless.main // woken: appended to the run queue before main
        ss[2].kill()
        ss[1].next shouldBe null
        c.balance shouldBe 1
        c.receive() shouldBe "b"
        c.queue shouldBe null
        c.balance shouldBe 0
        Stackless.run()
        Stackless.runCount shouldBe 1
    } }
})

/** Throws from a named function, so that the stack trace shows where the exception came from (S#77). */
private fun raiseForE(): Nothing = throw IllegalStateException("raised")
