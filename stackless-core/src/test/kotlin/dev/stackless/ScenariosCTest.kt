package dev.stackless

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.types.shouldBeSameInstanceAs

/**
 * Section C of docs/scenarios.md (schedule / schedule_remove): S#27–S#35, plus the
 * even-numbered scenarios S#28–S#32 that docs/stackless.md describes.
 *
 * S#34: not described in docs/stackless.md (no `S#34` citation), so there is no behaviour to test.
 * S#35: `sys.exc_info()` per tasklet has no JVM equivalent (a caught exception is a local variable of
 * its catch block); the test below only checks that analogue.
 */
class ScenariosCTest : FunSpec({

    fun st(t: Tasklet) = listOf(t.alive, t.scheduled, t.blocked != 0, t.paused)
    val F = false
    val T = true

    test("S#27 Round robin") { fresh {
        val log = mutableListOf<String>()
        for (n in listOf("A", "B", "C")) {
            Tasklet {
                for (i in 0..2) {
                    log += "$n$i"
                    Stackless.schedule()
                }
            }.setup()
        }
        Stackless.run() shouldBe null
        log shouldBe listOf("A0", "B0", "C0", "A1", "B1", "C1", "A2", "B2", "C2")
        Stackless.runCount shouldBe 1
    } }

    test("S#28 (from docs/stackless.md §4.2) schedule() by the only runnable tasklet returns retval at once") { fresh {
        val main = Stackless.main
        Stackless.schedule() shouldBeSameInstanceAs main
        Stackless.schedule("x") shouldBe "x"
        Stackless.schedule(null) shouldBe null
        Stackless.runCount shouldBe 1
        Stackless.current shouldBeSameInstanceAs main

        val log = mutableListOf<Any?>()
        lateinit var t: Tasklet
        t = Tasklet {
            log += Stackless.schedule("y")
            log += (Stackless.schedule() === t)
        }.setup()
        Stackless.run()
        log shouldBe listOf("y", true)
    } }

    test("S#29 Main \"pumping\" with schedule()") { fresh {
        val log = mutableListOf<String>()
        for (n in listOf("t1", "t2")) {
            Tasklet {
                log += "$n a"
                Stackless.schedule()
                log += "$n b"
            }.setup()
        }
        log += "main 1"
        Stackless.schedule()
        log += "main 2"
        Stackless.schedule()
        log += "main 3 ${Stackless.runCount}"
        log shouldBe listOf("main 1", "t1 a", "t2 a", "main 2", "t1 b", "t2 b", "main 3 1")
    } }

    test("S#30 (from docs/stackless.md §4.3) schedule_remove(): tempval shows retval while paused and can be replaced") { fresh {
        val log = mutableListOf<String>()
        val t = Tasklet {
            val r = Stackless.scheduleRemove("rv")
            log += "t got $r"
        }.setup()
        lateinit var u: Tasklet
        u = Tasklet {
            val r = Stackless.scheduleRemove()
            log += "u got itself ${r === u}"
        }.setup()
        Stackless.run() shouldBe null
        st(t) shouldBe listOf(T, F, F, T)
        st(u) shouldBe listOf(T, F, F, T)
        t.tempval shouldBe "rv"
        u.tempval shouldBeSameInstanceAs u
        Stackless.runCount shouldBe 1

        t.tempval = "replaced"
        t.insert()
        u.insert()
        Stackless.run()
        log shouldBe listOf("t got replaced", "u got itself true")
        st(t) shouldBe listOf(F, F, F, F)
        st(u) shouldBe listOf(F, F, F, F)
    } }

    test("S#31 schedule_remove by the last runnable tasklet under run()") { fresh {
        val log = mutableListOf<String>()
        val t = Tasklet {
            Stackless.scheduleRemove()
            log += "never"
        }.setup()
        Stackless.run() shouldBe null
        st(t) shouldBe listOf(T, F, F, T)
        Stackless.runCount shouldBe 1
        log shouldBe emptyList<String>()
    } }

    test("S#32 (from docs/stackless.md §4.3) schedule_remove by main outside run(): re-inserted, returns at once") { fresh {
        val main = Stackless.main
        Stackless.scheduleRemove("x") shouldBe "x"
        st(main) shouldBe listOf(T, T, F, F)
        Stackless.current shouldBeSameInstanceAs main
        Stackless.runCount shouldBe 1
        Stackless.scheduleRemove() shouldBeSameInstanceAs main
        st(main) shouldBe listOf(T, T, F, F)
        Stackless.runCount shouldBe 1
    } }

    test("S#33 schedule_remove by last runnable while main is blocked -> Deadlock error in that tasklet") { fresh {
        val log = mutableListOf<String>()
        val chan = Channel<String>()
        var error: Throwable? = null
        val t = Tasklet {
            try {
                Stackless.scheduleRemove()
                log += "no error"
            } catch (e: IllegalStateException) {
                error = e
                log += e.message!!.lines().first()
            }
            chan.send("x")
        }.setup()
        log += "main got ${chan.receive()}"
        log shouldBe listOf("Deadlock: the last runnable tasklet cannot be blocked.", "main got x")
        error!!::class shouldBe DeadlockException::class
        error!!.message!! shouldContain "main is blocked receiving on Channel@"
        st(t) shouldBe listOf(T, T, F, F)
        Stackless.run()
        st(t) shouldBe listOf(F, F, F, F)
    } }

    // S#34: not described in docs/stackless.md (no `S#34` citation).

    test("S#35 Exception state is per tasklet (JVM analogue: a caught exception stays with its tasklet)") { fresh {
        // sys.exc_info() has no JVM equivalent; check that each tasklet keeps its own caught exception across switches.
        val log = mutableListOf<String>()
        Tasklet {
            log += "f sees None"
            try {
                throw IllegalArgumentException("KeyError")
            } catch (e: IllegalArgumentException) {
                Stackless.schedule()
                log += "f after schedule sees ${e.message}"
            }
        }.setup()
        try {
            throw IndexOutOfBoundsException("ValueError")
        } catch (e: IndexOutOfBoundsException) {
            Stackless.schedule()
            log += "main sees ${e.message}"
            Stackless.schedule()
        }
        log shouldBe listOf("f sees None", "main sees ValueError", "f after schedule sees KeyError")
    } }
})
