package dev.stackless

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.shouldBe

/**
 * Section D of the scenarios: `Stackless.run()` and the watchdog. Python's bytecode ticks become
 * explicit switch points: busy loops call [Stackless.tick]. Nested `run()` inside tasklet bodies is
 * [Stackless.runNested]. S#57/S#58 (threadblock, other threads) belong to the threads work.
 */
class WatchdogTest : FunSpec({
    fun st(t: Tasklet) = listOf(t.alive, t.scheduled, t.blocked != 0, t.paused)
    val tttf = listOf(true, true, false, false)
    val tfft = listOf(true, false, false, true)

    test("S#36 (from docs/stackless.md §4.4) run() with nothing else runnable returns null at once") {
        fresh {
            Stackless.run() shouldBe null
            Stackless.run(100) shouldBe null
            Stackless.runCount shouldBe 1
        }
    }

    test("S#37 state of the caller during run()") {
        fresh {
            val log = mutableListOf<String>()
            val main = Stackless.main
            repeat(2) {
                Tasklet { log += "${main.paused} ${main.scheduled} ${main.alive} ${Stackless.runCount}" }.setup()
            }
            Stackless.run() shouldBe null
            log shouldBe listOf("true false true 2", "true false true 1")
        }
    }

    test("S#39 queue order after an exception escapes run()") {
        fresh {
            val log = mutableListOf<String>()
            fun other(n: String) = Tasklet { log += "$n runs"; Stackless.schedule(); log += "$n again" }
            other("o1").setup()
            Tasklet { log += "bad raises"; throw IllegalArgumentException("k") }.setup()
            other("o2").setup()
            shouldThrow<IllegalArgumentException> { Stackless.run() }.message shouldBe "k"
            log shouldBe listOf("o1 runs", "bad raises")
            Stackless.runCount shouldBe 3
            log.clear()
            Stackless.run() shouldBe null
            log shouldBe listOf("o2 runs", "o1 again", "o2 again")
        }
    }

    test("S#40 (from docs/stackless.md §4.4) run() returns when the last runnable tasklet blocks") {
        fresh {
            val ch = Channel<Int>()
            val t = Tasklet { ch.receive() }.setup()
            Stackless.run() shouldBe null
            t.blocked shouldBe -1
            ch.balance shouldBe -1
            t.kill()
        }
    }

    test("S#41 run(timeout) hard interrupt returns the busy tasklet, removed from the queue") {
        fresh {
            var i = 0
            val busy = Tasklet { while (true) { i++; Stackless.tick() } }.setup()
            Stackless.run(100) shouldBe busy
            st(busy) shouldBe tfft
            Stackless.runCount shouldBe 1
            i shouldBe 100
            busy.insert()
            Stackless.run(100) shouldBe busy
            i shouldBe 200
            busy.kill()
        }
    }

    test("S#42 (from docs/stackless.md §4.4) a soft timeout returns null at the next switch and removes nothing") {
        fresh {
            var i = 0
            val busy = Tasklet { while (true) { i++; Stackless.tick(); if (i % 250 == 0) Stackless.schedule() } }.setup()
            Stackless.run(100, soft = true) shouldBe null
            st(busy) shouldBe tttf
            Stackless.runCount shouldBe 2
            i shouldBe 100 // tick() is the busy loop's switch point: the soft interrupt happens there
            busy.kill()
        }
    }

    test("S#43 atomic defers a hard interrupt until the atomic section is over") {
        fresh {
            val log = mutableListOf<String>()
            val busy = Tasklet {
                Stackless.atomic { repeat(5000) { Stackless.tick() } }
                log += "atomic section done"
                while (true) Stackless.tick()
            }.setup()
            Stackless.run(100) shouldBe busy
            log shouldBe listOf("atomic section done")
            busy.kill()
        }
    }

    test("S#44 (from docs/stackless.md §2.12) under switchTrap the interrupt also waits for the next switch point") {
        fresh {
            var ticks = 0
            val busy = Tasklet {
                Stackless.switchTrap(1)
                repeat(300) { ticks++; Stackless.tick() }
                Stackless.switchTrap(-1)
                while (true) { ticks++; Stackless.tick() }
            }.setup()
            Stackless.run(100) shouldBe busy
            ticks shouldBe 301
            busy.kill()
        }
    }

    test("S#45 pre-emptive pumping round robin") {
        fresh {
            val log = mutableListOf<String>()
            val interrupted = mutableListOf<String>()
            fun w(n: String) = Tasklet { repeat(3000) { Stackless.tick() }; log += "$n done" }.apply { name = n }
            w("A").setup()
            w("B").setup()
            while (Stackless.runCount > 1) {
                val r = Stackless.run(500)
                if (r != null) {
                    interrupted += r.name
                    r.insert()
                }
            }
            log shouldBe listOf("A done", "B done")
            // Interrupted at ticks 500, 1000, … 3000 each, alternately.
            interrupted shouldBe List(6) { listOf("A", "B") }.flatten()
        }
    }

    test("S#46 (from docs/stackless.md §4.4) the budget is per timeslice unless totaltimeout") {
        fresh {
            fun coop() = Tasklet { repeat(20) { repeat(50) { Stackless.tick() }; Stackless.schedule() } }
            coop().setup()
            coop().setup()
            Stackless.run(100) shouldBe null // each slice ends at a schedule() after 51 ticks
            coop().setup()
            val b = coop().setup()
            // 100 ticks in all: 50 in the first tasklet, its schedule(), then 49 in the second.
            Stackless.run(100, totaltimeout = true) shouldBe b
            Stackless.run()
            b.insert()
            Stackless.run()
            b.alive shouldBe false
        }
    }

    test("S#47 nested run(): the inner one returns first") {
        fresh {
            val log = mutableListOf<String>()
            val main = Stackless.main
            Tasklet {
                log += "inner start"
                val r = Stackless.runNested()
                log += "inner returned $r ${main.paused}"
            }.setup()
            Tasklet { log += "w1"; Stackless.schedule(); log += "w1 end" }.setup()
            Stackless.run() shouldBe null
            log shouldBe listOf("inner start", "w1", "w1 end", "inner returned null true")
        }
    }

    test("S#48 (from docs/stackless.md §4.4) an uncaught exception goes to the innermost run()") {
        fresh {
            val log = mutableListOf<String>()
            Tasklet {
                val e = runCatching { Stackless.runNested() }.exceptionOrNull()
                log += "runner got ${e?.message}"
            }.setup()
            Tasklet { throw IllegalStateException("bad") }.setup()
            Stackless.run() shouldBe null
            log shouldBe listOf("runner got bad")
        }
    }

    test("S#49 run() from a worker while main keeps calling schedule()") {
        fresh {
            val log = mutableListOf<String>()
            Tasklet { Stackless.schedule(); log += "worker done" }.setup()
            val runner = Tasklet { log += "runner calls run"; Stackless.runNested(); log += "runner run returned" }.setup()
            for (i in 0..3) {
                Stackless.scheduleBlocking()
                log += "main tick $i ${runner.paused}"
            }
            log shouldBe listOf(
                "runner calls run", "main tick 0 true", "worker done",
                "main tick 1 true", "main tick 2 true", "main tick 3 true",
            )
            runner.runBlocking()
            log.last() shouldBe "runner run returned"
        }
    }

    test("S#51 manual wakeup of an outer run() by main.run()") {
        fresh {
            val log = mutableListOf<String>()
            val main = Stackless.main
            val wakeup = Tasklet { log += "wakeup: main.run()"; main.run(); log += "wakeup end" }
            Tasklet { Stackless.schedule(); log += "worker end" }.setup()
            Tasklet {
                wakeup.setup()
                log += "runner: run"
                Stackless.runNested()
                log += "runner: run returned"
            }.setup()
            Stackless.run()
            log += "main: first run returned"
            Stackless.run()
            log += "main: second run returned"
            log shouldBe listOf(
                "runner: run", "worker end", "wakeup: main.run()", "main: first run returned",
                "wakeup end", "runner: run returned", "main: second run returned",
            )
        }
    }

    test("S#53 inserting the run() caller makes run() return at its turn") {
        fresh {
            val log = mutableListOf<String>()
            val main = Stackless.main
            Tasklet { for (i in 0..2) { log += "a $i"; if (i == 0) main.insert(); Stackless.schedule() } }.setup()
            Tasklet { for (i in 0..2) { log += "b $i"; Stackless.schedule() } }.setup()
            Stackless.run() shouldBe null
            log shouldBe listOf("a 0", "b 0")
            Stackless.runCount shouldBe 3
            Stackless.run() shouldBe null
            log shouldBe listOf("a 0", "b 0", "a 1", "b 1", "a 2", "b 2")
        }
    }

    test("S#54 (from docs/stackless.md §4.4) a nested timed run() behaves as a plain run(): the first one wins") {
        fresh {
            var innerResult: Tasklet? = Stackless.main
            val busy = Tasklet { while (true) Stackless.tick() }
            Tasklet {
                busy.setup()
                innerResult = Stackless.runNested(10) // ignored budget: main's run(100) owns the timeout
            }.setup()
            Stackless.run(100) shouldBe busy // the outermost timed run is woken with the victim
            innerResult shouldBe Stackless.main // the inner run() has not returned
            Stackless.run() // the popped inner caller was made runnable: its run() returns now
            innerResult shouldBe null
            busy.kill()
        }
    }

    test("S#55 a watchdog in a tasklet receives the victim") {
        for (soft in listOf(false, true)) {
            fresh {
                val log = mutableListOf<String>()
                fun task() = Tasklet { while (true) { repeat(500) { Stackless.tick() }; Stackless.schedule() } }
                val t1 = task().apply { name = "t1" }.setup()
                val t2 = task().apply { name = "t2" }.setup()
                Tasklet {
                    val r = Stackless.runNested(150, soft = soft, totaltimeout = true)
                    log += "${r?.name} ${Stackless.runCount}"
                    if (!soft) Stackless.runCount shouldBe 2 else Stackless.runCount shouldBeGreaterThan 0
                    t1.kill()
                    t2.kill()
                }.setup()
                Stackless.run() shouldBe null
                log shouldBe listOf(if (soft) "null 3" else "t1 2")
            }
        }
    }

    test("S#56 (from docs/stackless.md §4.4) the outermost timed run() is woken, not the inner ones") {
        fresh {
            val log = mutableListOf<String>()
            val busy = Tasklet { while (true) Stackless.tick() }
            val runner = Tasklet {
                busy.setup()
                Stackless.runNested()
                log += "inner returned"
            }.setup()
            Stackless.run(50) shouldBe busy
            log shouldBe emptyList()
            runner.paused shouldBe false // popped by the outer return and made runnable
            Stackless.run()
            log shouldBe listOf("inner returned")
            busy.kill()
        }
    }

    test("S#59 run() under switch_trap") {
        fresh {
            Tasklet { }.setup()
            Stackless.switchTrap(1)
            shouldThrow<SwitchTrapException> { Stackless.run() }.message shouldBe "switch_trap"
            Stackless.switchTrap(-1)
            Stackless.run() shouldBe null
        }
    }

    test("run(Duration) interrupts a busy tasklet at a tick once its time is spent") {
        fresh {
            val busy = Tasklet { while (true) Stackless.tick() }.setup()
            Stackless.run(java.time.Duration.ofMillis(5)) shouldBe busy
            st(busy) shouldBe tfft
            busy.insert()
            Stackless.run(kotlin.time.Duration.parse("5ms"), soft = true) shouldBe null
            busy.kill()
        }
    }

    test("a channel rendezvous that completes without switching is a tick and can be interrupted, keeping its value") {
        fresh {
            val ch = Channel<Int>()
            ch.preference = 1 // the sender continues after each rendezvous
            val got = mutableListOf<Int>()
            val receiver = Tasklet { while (true) got += ch.receive() }.setup()
            val sender = Tasklet { var i = 0; while (true) ch.send(i++) }.setup()
            repeat(5) {
                val victim = Stackless.run(10, totaltimeout = true)!!
                victim.insert()
            }
            // every value sent was received, in order, exactly once
            got.size shouldBeGreaterThan 0
            got shouldBe got.indices.toList()
            sender.kill()
            receiver.kill()
        }
    }
})
