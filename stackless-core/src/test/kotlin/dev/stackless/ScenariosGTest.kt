package dev.stackless

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import java.io.ByteArrayOutputStream
import java.io.PrintStream

// Section G of docs/scenarios.md: atomic, switch_trap, schedule callback, plus the even-numbered
// S#122–S#128 that docs/stackless.md cites.
//
// Prevented by the type system (no tests): set_atomic('x') (S#121), set_schedule_callback(5) (S#127).
// No JVM counterpart: set_ignore_nesting / ignore_nesting (S#121; docs/stackless.md §2.13, §4.12: no nesting levels).

private fun st(t: Tasklet) = listOf(t.alive, t.scheduled, t.blocked != 0, t.paused)

/** The runnables queue from the current tasklet round the circle, by name. */
private fun queueNames(): List<String> {
    val first = Stackless.current
    val names = mutableListOf(first.name)
    var t = first.next
    while (t != null && t !== first) {
        names += t.name
        t = t.next
    }
    return names
}

private fun describe(v: Any?): String = if (v is Tasklet) "tasklet ${v.name}" else v.toString()

class ScenariosGTest : FunSpec({

    test("S#121 atomic flag & context manager") { fresh {
        val c = Stackless.current
        c.atomic shouldBe false
        c.setAtomic(true) shouldBe false
        c.atomic shouldBe true
        c.setAtomic(true) shouldBe true
        c.setAtomic(false) shouldBe true
        c.atomic shouldBe false

        Stackless.atomic {
            c.atomic shouldBe true
            Stackless.atomic {
                c.atomic shouldBe true
            }
            c.atomic shouldBe true // after nested still true
        }
        c.atomic shouldBe false // after outer false

        // a tasklet created inside an atomic block is not atomic
        val t = Stackless.atomic { Tasklet { } }
        t.atomic shouldBe false

        // the block's value is returned; an exception is not suppressed and the flag is restored
        Stackless.atomic { 42 } shouldBe 42
        shouldThrow<IllegalArgumentException> { Stackless.atomic { throw IllegalArgumentException("x") } }
        c.atomic shouldBe false

        // nesting inside an already atomic tasklet leaves it atomic
        c.setAtomic(true)
        Stackless.atomic { c.atomic shouldBe true }
        c.atomic shouldBe true
        c.setAtomic(false)

        // in a tasklet body, atomic applies to that tasklet, not to main
        val log = mutableListOf<String>()
        Tasklet {
            Stackless.atomic {
                Stackless.atomic { log += "inner ${Stackless.current.atomic} main ${Stackless.main.atomic}" }
                log += "outer ${Stackless.current.atomic}"
            }
            log += "after ${Stackless.current.atomic}"
        }.setup()
        Stackless.run()
        log shouldBe listOf("inner true main false", "outer true", "after false")
    } }

    test("S#122 (from docs/stackless.md §2.12) atomic does not block explicit switches") { fresh {
        val log = mutableListOf<String>()
        val ch = Channel<String>()
        Tasklet {
            Stackless.atomic {
                log += "A1"
                Stackless.schedule()
                log += "A2 atomic=${Stackless.current.atomic}"
                log += "A got ${ch.receive()}"
                log += "A3 atomic=${Stackless.current.atomic}"
            }
            log += "A4 atomic=${Stackless.current.atomic}"
        }.apply { name = "A" }.setup()
        Tasklet {
            log += "B1 atomic=${Stackless.current.atomic}"
            Stackless.schedule()
            log += "B2"
            ch.send("x")
            log += "B3"
        }.apply { name = "B" }.setup()
        Stackless.run()
        log shouldBe listOf(
            "A1", "B1 atomic=false", "A2 atomic=true", "B2", "A got x", "A3 atomic=true", "A4 atomic=false", "B3",
        )

        // main, atomic, runs another tasklet and switches
        val t = Tasklet { log += "t runs" }.setup()
        log.clear()
        Stackless.atomic {
            t.run()
            log += "main back"
        }
        log shouldBe listOf("t runs", "main back")
    } }

    test("S#123 switch_trap: every operation that would switch fails and changes nothing") { fresh {
        val log = mutableListOf<String>()
        val chR = Channel<String>() // rcv waits receiving
        val chS = Channel<String>() // snd waits sending "v"
        val chN = Channel<String>() // nobody waits
        val rcv = Tasklet { log += "rcv got ${chR.receive()}" }.apply { name = "rcv" }.setup()
        val snd = Tasklet { chS.send("v"); log += "snd sent" }.apply { name = "snd" }.setup()
        val r = Tasklet { log += "r1"; Stackless.schedule(); log += "r2" }.apply { name = "r" }.setup()
        Stackless.schedule() // rcv and snd block, r runs to its schedule(), main resumes
        val p = Tasklet().apply { name = "p" }.bind({ log += "p runs" }, paused = true)
        val main = Stackless.main
        main.tempval = "M"
        log shouldBe listOf("r1")
        queueNames() shouldBe listOf("main", "r")
        st(r) shouldBe listOf(true, true, false, false)
        st(p) shouldBe listOf(true, false, false, true)
        rcv.blocked shouldBe -1
        snd.blocked shouldBe 1
        snd.tempval shouldBe "v"

        fun snap(): String = listOf(
            "current=${Stackless.current.name}", "queue=${queueNames()}", "runCount=${Stackless.runCount}",
            listOf(main, r, p, rcv, snd).map { "${it.name} ${st(it)} blocked=${it.blocked} tempval=${describe(it.tempval)}" },
            listOf(chR, chS, chN).map { "balance=${it.balance} queue=${it.queue?.name} pref=${it.preference} all=${it.scheduleAll}" },
            "log=$log",
        ).toString()

        suspend fun trapped(what: String, op: suspend () -> Unit) {
            val before = snap()
            withClue(what) {
                val e = shouldThrow<SwitchTrapException> { op() }
                e.message shouldBe "switch_trap"
                (e is IllegalStateException) shouldBe true
                snap() shouldBe before
            }
        }

        Stackless.switchTrap(0) shouldBe 0
        Stackless.switchTrap(1) shouldBe 0
        trapped("schedule()") { Stackless.schedule() }
        trapped("schedule(retval)") { Stackless.schedule("x") }
        trapped("scheduleRemove()") { Stackless.scheduleRemove() }
        trapped("run()") { Stackless.run() }
        trapped("r.run() queued") { r.run() }
        trapped("p.run() paused") { p.run() }
        trapped("r.switch() queued") { r.switch() }
        trapped("p.switch() paused") { p.switch() }
        trapped("r.kill()") { r.kill() }
        trapped("p.kill()") { p.kill() }
        trapped("rcv.kill() blocked") { rcv.kill() }
        trapped("snd.kill() blocked") { snd.kill() }
        trapped("r.throw()") { r.throwException(IndexOutOfBoundsException()) }
        trapped("rcv.throw() blocked") { rcv.throwException(IndexOutOfBoundsException()) }
        trapped("p.raise_exception()") { p.raiseException(IllegalArgumentException("k")) }
        trapped("r.raise_exception()") { r.raiseException(IllegalArgumentException("k")) }
        trapped("send to a waiting receiver (preference -1: receiver runs)") { chR.send("x") }
        trapped("send_exception to a waiting receiver") { chR.sendException(IndexOutOfBoundsException()) }
        chS.preference = 1
        trapped("receive from a waiting sender (preference 1: sender runs)") { chS.receive() }
        chS.preference = -1
        chR.scheduleAll = true
        trapped("send with schedule_all") { chR.send("x") }
        chR.scheduleAll = false
        chS.scheduleAll = true
        trapped("receive with schedule_all") { chS.receive() }
        chS.scheduleAll = false
        trapped("receive without partner while r is runnable") { chN.receive() }
        trapped("send without partner while r is runnable") { chN.send("x") }
        trapped("send_exception without partner while r is runnable") { chN.sendException(IndexOutOfBoundsException()) }
        // the blocking twins
        trapped("scheduleBlocking()") { Stackless.scheduleBlocking() }
        trapped("r.runBlocking()") { r.runBlocking() }
        trapped("p.switchBlocking()") { p.switchBlocking() }
        trapped("r.killBlocking()") { r.killBlocking() }
        trapped("chN.receiveBlocking()") { chN.receiveBlocking() }

        // switching to self is allowed and returns the caller's tempval
        main.switch() shouldBe "M"
        main.tempval = "M"
        main.run() shouldBe "M"

        // levels nest
        Stackless.switchTrap(1) shouldBe 1
        Stackless.switchTrap(-1) shouldBe 2
        trapped("schedule() at level 1") { Stackless.schedule() }
        Stackless.switchTrap(-1) shouldBe 1
        Stackless.switchTrap(0) shouldBe 0

        // untrapped, everything still works from the state left untouched
        main.tempval = null
        p.insert()
        Stackless.run()
        log shouldBe listOf("r1", "r2", "p runs")
        chR.send("late")
        chS.receive() shouldBe "v"
        Stackless.run()
        log shouldBe listOf("r1", "r2", "p runs", "rcv got late", "snd sent")
        Stackless.runCount shouldBe 1

        // inside a tasklet body (the suspend forms), with main runnable
        val inner = mutableListOf<String>()
        Tasklet {
            Stackless.switchTrap(1)
            try {
                for ((what, op) in listOf<Pair<String, suspend () -> Unit>>(
                    "schedule" to { Stackless.schedule() },
                    "scheduleRemove" to { Stackless.scheduleRemove() },
                    "main.run" to { Stackless.main.run() },
                    "main.switch" to { Stackless.main.switch() },
                    "receive" to { chN.receive() },
                    "send" to { chN.send("y") },
                )) {
                    try {
                        op()
                        inner += "$what switched"
                    } catch (e: SwitchTrapException) {
                        inner += "$what ${e.message}"
                    }
                }
                inner += "self ${Stackless.current.switch() === null}"
            } finally {
                Stackless.switchTrap(-1)
            }
        }.setup().run()
        inner shouldBe listOf(
            "schedule switch_trap", "scheduleRemove switch_trap", "main.run switch_trap", "main.switch switch_trap",
            "receive switch_trap", "send switch_trap", "self true",
        )
        chN.balance shouldBe 0
        Stackless.runCount shouldBe 1

        // nothing else runnable: no real switch, so no trap error; a deadlock is still a deadlock
        Stackless.switchTrap(1) shouldBe 0
        try {
            (Stackless.schedule() === main) shouldBe true
            (Stackless.scheduleRemove() === main) shouldBe true
            Stackless.run() shouldBe null
            val d = shouldThrow<DeadlockException> { chN.receive() }
            d.message!!.lines().first() shouldBe "Deadlock: the last runnable tasklet cannot be blocked."
            chN.balance shouldBe 0
            st(main) shouldBe listOf(true, true, false, false)
            Stackless.runCount shouldBe 1
        } finally {
            Stackless.switchTrap(-1) shouldBe 1
        }
    } }

    test("S#124 (from docs/stackless.md §4.7) switch_trap allows operations that do not switch") { fresh {
        val log = mutableListOf<String>()
        val ch = Channel<String>()
        val rcv = Tasklet { log += "rcv got ${ch.receive()}" }.apply { name = "rcv" }.setup()
        val snd = Tasklet { ch.send("v"); log += "snd sent" }.apply { name = "snd" }
        val thrown = Tasklet {
            try { Stackless.scheduleRemove() } catch (e: IndexOutOfBoundsException) { log += "thrown got IndexError" }
        }.apply { name = "thrown" }.setup()
        val killed = Tasklet {
            try { Stackless.scheduleRemove() } catch (e: TaskletExit) { log += "killed got TaskletExit"; throw e }
        }.apply { name = "killed" }.setup()
        Stackless.schedule() // rcv blocks; thrown and killed pause themselves
        rcv.blocked shouldBe -1
        st(thrown) shouldBe listOf(true, false, false, true)
        st(killed) shouldBe listOf(true, false, false, true)
        val r = Tasklet { log += "r runs" }.apply { name = "r" }.setup()
        val p = Tasklet().apply { name = "p" }.bind({ log += "p runs" }, paused = true)
        queueNames() shouldBe listOf("main", "r")

        Stackless.switchTrap(1) shouldBe 0
        try {
            // preference 1 send to a waiting receiver: the sender continues
            ch.preference = 1
            ch.send("x")
            ch.balance shouldBe 0
            queueNames() shouldBe listOf("main", "r", "rcv")
            // insert / remove
            p.insert()
            queueNames() shouldBe listOf("main", "r", "rcv", "p")
            r.remove()
            queueNames() shouldBe listOf("main", "rcv", "p")
            r.insert()
            // pending throw and kill
            thrown.throwException(IndexOutOfBoundsException(), pending = true)
            killed.kill(pending = true)
            queueNames() shouldBe listOf("main", "rcv", "p", "r", "thrown", "killed")
            // setup appends without switching
            ch.preference = -1
            snd.setup()
            queueNames() shouldBe listOf("main", "rcv", "p", "r", "thrown", "killed", "snd")
            log shouldBe emptyList()
            Stackless.runCount shouldBe 7
        } finally {
            Stackless.switchTrap(-1) shouldBe 1
        }
        Stackless.run()
        log shouldBe listOf("rcv got x", "p runs", "r runs", "thrown got IndexError", "killed got TaskletExit")
        snd.blocked shouldBe 1
        // a receive from a waiting sender where the receiver continues (default preference)
        Stackless.switchTrap(1)
        try {
            ch.receive() shouldBe "v"
            queueNames() shouldBe listOf("main", "snd")
        } finally {
            Stackless.switchTrap(-1)
        }
        Stackless.run()
        log.last() shouldBe "snd sent"
        Stackless.runCount shouldBe 1
    } }

    test("S#125 Schedule callback sequence") { fresh {
        val log = mutableListOf<String>()
        Tasklet { Stackless.schedule() }.apply { name = "A" }.setup()
        Tasklet { Stackless.schedule() }.apply { name = "B" }.setup()
        try {
            Stackless.setScheduleCallback { prev, next -> log += "(${prev?.name},${next?.name})" }
            Stackless.run()
        } finally {
            Stackless.setScheduleCallback(null)
        }
        // the dying tasklet is passed as prev, next is the target (not null)
        log shouldBe listOf("(main,A)", "(A,B)", "(B,A)", "(A,B)", "(B,main)")
    } }

    test("S#126 (from docs/stackless.md §4.5) schedule callback on channel, kill and end switches; none without a real switch") { fresh {
        val log = mutableListOf<String>()
        val ch = Channel<Int>()
        Stackless.main // this thread's scheduler exists before the callback is set (no cb(null, main) here)
        try {
            Stackless.setScheduleCallback { prev, next -> log += "(${prev?.name},${next?.name})" }
            // no real switch: no callback
            Stackless.schedule()
            Stackless.main.switch()
            Stackless.run()
            val rcv = Tasklet { log += "R got ${ch.receive()}" }.apply { name = "R" }.setup()
            log shouldBe emptyList()
            rcv.run() // R blocks in receive
            ch.send(5) // receiver runs first, then ends
            val k = Tasklet {
                try { Stackless.schedule() } catch (e: TaskletExit) { log += "K killed"; throw e }
            }.apply { name = "K" }.setup()
            k.run()
            k.kill()
            val th = Tasklet {
                try { Stackless.schedule() } catch (e: IndexOutOfBoundsException) { log += "X got IndexError" }
            }.apply { name = "X" }.setup()
            th.run()
            th.throwException(IndexOutOfBoundsException(), pending = true) // no switch yet
            log += "pending thrown"
            Stackless.run()
        } finally {
            Stackless.setScheduleCallback(null)
        }
        log shouldBe listOf(
            "(main,R)", "(R,main)",
            "(main,R)", "R got 5", "(R,main)",
            "(main,K)", "(K,main)", "(main,K)", "K killed", "(K,main)",
            "(main,X)", "(X,main)", "pending thrown", "(main,X)", "X got IndexError", "(X,main)",
        )
    } }

    test("S#127 Schedule callback at thread start / current during callback") { fresh {
        val log = mutableListOf<String>()
        val a = ScheduleCallback { _, _ -> log += "a" }
        Stackless.main // this thread's scheduler exists before any callback is set
        try {
            Stackless.getScheduleCallback() shouldBe null
            Stackless.setScheduleCallback(a) shouldBe null
            Stackless.getScheduleCallback() shouldBe a
            Stackless.setScheduleCallback(null) shouldBe a
            Stackless.getScheduleCallback() shouldBe null

            // first use in a new thread: cb(null, that thread's main); no callback when the thread ends
            val calls = mutableListOf<Pair<Tasklet?, Tasklet?>>()
            var callbackThread: Thread? = null
            Stackless.setScheduleCallback { prev, next -> calls += prev to next; callbackThread = Thread.currentThread() }
            var threadMain: Tasklet? = null
            val th = Thread { threadMain = Stackless.main }
            th.start()
            th.join()
            calls.size shouldBe 1
            calls[0].first shouldBe null
            (calls[0].second === threadMain) shouldBe true
            (callbackThread === th) shouldBe true
            threadMain!!.isMain shouldBe true

            // during the callback, the current tasklet is prev
            Stackless.setScheduleCallback { prev, next ->
                log += "(${prev?.name},${next?.name}) current=${Stackless.current.name}"
            }
            Tasklet { Stackless.schedule() }.apply { name = "A" }.setup()
            Tasklet { Stackless.schedule() }.apply { name = "B" }.setup()
            Stackless.run()
            log shouldBe listOf(
                "(main,A) current=main", "(A,B) current=A", "(B,A) current=B", "(A,B) current=A", "(B,main) current=B",
            )
        } finally {
            Stackless.setScheduleCallback(null)
        }
    } }

    test("S#128 (from docs/stackless.md §4.5) an exception in the schedule callback is printed and ignored") { fresh {
        val log = mutableListOf<String>()
        val err = ByteArrayOutputStream()
        val oldErr = System.err
        Stackless.main // this thread's scheduler exists before the callback is set
        try {
            System.setErr(PrintStream(err, true))
            Stackless.setScheduleCallback { prev, next ->
                log += "cb ${prev?.name}->${next?.name}"
                throw IllegalArgumentException("cb boom")
            }
            Tasklet { log += "A1"; Stackless.schedule(); log += "A2" }.apply { name = "A" }.setup()
            Tasklet { log += "B" }.apply { name = "B" }.setup()
            Stackless.run() shouldBe null
        } finally {
            Stackless.setScheduleCallback(null)
            System.setErr(oldErr)
        }
        log shouldBe listOf("cb main->A", "A1", "cb A->B", "B", "cb B->A", "A2", "cb A->main")
        Stackless.runCount shouldBe 1
        val text = err.toString()
        text.contains("Exception ignored in: 'Error in scheduling callback'") shouldBe true
        text.contains("cb boom") shouldBe true
    } }
})
