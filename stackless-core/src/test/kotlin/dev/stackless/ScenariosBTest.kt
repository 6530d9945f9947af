package dev.stackless

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.types.shouldBeSameInstanceAs

/**
 * Section B of docs/scenarios.md (run / switch / insert / remove): S#13–S#25, plus the
 * even-numbered scenarios S#12–S#26 that docs/stackless.md describes.
 *
 * S#18: not described in docs/stackless.md (no `S#18` citation), so there is no behaviour to test.
 */
class ScenariosBTest : FunSpec({

    fun st(t: Tasklet) = listOf(t.alive, t.scheduled, t.blocked != 0, t.paused)
    val F = false
    val T = true

    test("S#12 (from docs/stackless.md §1.3) the result of a finished tasklet is discarded: tempval None afterwards") { fresh {
        val log = mutableListOf<String>()
        val t = Tasklet {
            log += "t runs"
            Stackless.current.tempval = "result"
        }.setup()
        t.run() shouldBe null
        log shouldBe listOf("t runs")
        t.tempval shouldBe null
        st(t) shouldBe listOf(F, F, F, F)
    } }

    test("S#13 Doc example: t1.run() with t1,t2,t3 scheduled") { fresh {
        val log = mutableListOf<String>()
        val main = Stackless.main
        fun mk(name: String) = Tasklet {
            repeat(2) {
                log += "$name next=${Stackless.current.next?.name} ${main.scheduled}"
                Stackless.schedule()
            }
        }.also { it.name = name }.setup()
        val t1 = mk("t1")
        mk("t2")
        mk("t3")
        t1.run()
        log += "main back"
        t1.run()
        log += "main back 2"
        log shouldBe listOf(
            "t1 next=t2 true", "t2 next=t3 true", "t3 next=main true", "main back",
            "t1 next=t2 true", "t2 next=t3 true", "t3 next=main true", "main back 2",
        )
        Stackless.run()
        log.size shouldBe 8
        Stackless.runCount shouldBe 1
    } }

    test("S#14 (from docs/stackless.md §1.2, §11) t.run() on a queued t: t, after t, the caller, then the ones between") { fresh {
        val log = mutableListOf<String>()
        fun mk(n: String) = Tasklet {
            log += "${n}1"
            Stackless.schedule()
            log += "${n}2"
        }.also { it.name = n }.setup()
        mk("a")
        mk("b")
        val c = mk("c")
        mk("d")
        c.run()
        log += "main"
        Stackless.schedule()
        log += "main2"
        Stackless.run()
        log shouldBe listOf("c1", "d1", "main", "a1", "b1", "c2", "d2", "main2", "a2", "b2")
        Stackless.runCount shouldBe 1
    } }

    test("S#15 run() on a removed tasklet inserts it just before the caller") { fresh {
        val log = mutableListOf<String>()
        val main = Stackless.main
        fun mk(n: String) = Tasklet {
            log += "$n next ${Stackless.current.next?.name}"
            Stackless.schedule()
            log += "$n again"
        }.also { it.name = n }.setup()
        mk("t1")
        val t2 = mk("t2")
        mk("t3")
        t2.remove()
        t2.run()
        log += "main back ${t2.scheduled} ${main.next?.name}"
        Stackless.run()
        log shouldBe listOf(
            "t2 next main", "main back true t1",
            "t1 next t3", "t3 next t2", "t2 again", "t1 again", "t3 again",
        )
    } }

    test("S#16 (from docs/stackless.md §2.8) switch(): the caller is paused while away and woken as watchdog") { fresh {
        val log = mutableListOf<String>()
        val main = Stackless.main
        val t = Tasklet {
            log += "t: main scheduled=${main.scheduled} paused=${main.paused} runCount=${Stackless.runCount}"
        }.setup()
        val r = t.switch()
        log += "main back"
        r shouldBe null
        log shouldBe listOf("t: main scheduled=false paused=true runCount=1", "main back")
        st(main) shouldBe listOf(T, T, F, F)
        Stackless.runCount shouldBe 1
    } }

    test("S#17 switch(): target re-inserts the caller") { fresh {
        val log = mutableListOf<String>()
        val main = Stackless.main
        val t = Tasklet {
            log += "${main.paused}"
            main.insert()
            log += "${main.paused}"
            Stackless.schedule()
            log += "f end"
        }.setup()
        t.switch()
        log += "main back ${st(t)}"
        Stackless.run()
        log shouldBe listOf("true", "false", "main back [true, true, false, false]", "f end")
    } }

    // S#18: not described in docs/stackless.md (no `S#18` citation).

    test("S#19 switch()/run() to self is a no-op") { fresh {
        val cur = Stackless.current
        cur.tempval = "tv"
        cur.switch() shouldBe "tv"
        cur.run() shouldBe null
        Stackless.runCount shouldBe 1

        // With other tasklets runnable (C-Stackless bug): a pure no-op here.
        val log = mutableListOf<String>()
        Tasklet { log += "t" }.setup()
        cur.tempval = "tv2"
        cur.switch() shouldBe "tv2"
        Stackless.current shouldBeSameInstanceAs cur
        cur.run() shouldBe null
        Stackless.current shouldBeSameInstanceAs cur
        Stackless.runCount shouldBe 2
        log shouldBe emptyList<String>()
        Stackless.run()
        log shouldBe listOf("t")
    } }

    test("S#20 (from docs/stackless.md §2.8) switch() errors leave the caller runnable") { fresh {
        val log = mutableListOf<String>()
        val main = Stackless.main
        val ch = Channel<String>()
        val b = Tasklet { log += "b got ${ch.receive()}" }.setup()
        Stackless.schedule()
        b.blocked shouldBe -1
        shouldThrow<IllegalStateException> { b.switch() }.message shouldBe "You cannot run a blocked tasklet"
        Stackless.current shouldBeSameInstanceAs main
        st(main) shouldBe listOf(T, T, F, F)
        Stackless.runCount shouldBe 1

        val dead = Tasklet { }.setup()
        Stackless.run()
        shouldThrow<IllegalStateException> { dead.switch() }.message shouldBe
            "You cannot run an unbound(dead) tasklet"
        Stackless.current shouldBeSameInstanceAs main
        st(main) shouldBe listOf(T, T, F, F)
        Stackless.runCount shouldBe 1

        ch.send("x")
        log shouldBe listOf("b got x")
    } }

    test("S#21 remove()/insert() edge cases") { fresh {
        shouldThrow<IllegalStateException> { Stackless.current.remove() }.message shouldBe
            "The current tasklet cannot be removed."
        val dead = Tasklet { }.setup()
        Stackless.run()
        shouldThrow<IllegalStateException> { dead.insert() }.message shouldBe "You cannot run an unbound(dead) tasklet"
        shouldThrow<IllegalStateException> { dead.run() }.message shouldBe "You cannot run an unbound(dead) tasklet"
        shouldThrow<IllegalStateException> { dead.switch() }.message shouldBe "You cannot run an unbound(dead) tasklet"
        dead.remove() shouldBeSameInstanceAs dead
        Stackless.runCount shouldBe 1

        val q = Tasklet { }.setup()
        Stackless.runCount shouldBe 2
        q.insert() shouldBeSameInstanceAs q
        Stackless.runCount shouldBe 2
        q.remove() shouldBeSameInstanceAs q
        q.remove() shouldBeSameInstanceAs q
        Stackless.runCount shouldBe 1
        st(q) shouldBe listOf(T, F, F, T)
    } }

    test("S#22 (from docs/stackless.md §2.7) run()/switch() return the caller's tempval") { fresh {
        val log = mutableListOf<String>()
        val t = Tasklet { log += "t" }.setup()
        Stackless.current.tempval = "OBJ"
        t.run() shouldBe "OBJ"
        val t2 = Tasklet { log += "t2" }.setup()
        Stackless.current.tempval = "OBJ2"
        t2.switch() shouldBe "OBJ2"
        log shouldBe listOf("t", "t2")
    } }

    test("S#23 insert() appends at the END (just before the current tasklet)") { fresh {
        val log = mutableListOf<String>()
        val x = Tasklet().bind({ log += "x" }, paused = true)
        Tasklet {
            log += "a inserts x"
            x.insert()
            Stackless.schedule()
            log += "a again"
        }.setup()
        Tasklet {
            log += "b"
            Stackless.schedule()
            log += "b again"
        }.setup()
        Stackless.run()
        log shouldBe listOf("a inserts x", "b", "x", "a again", "b again")
    } }

    test("S#24 (from docs/stackless.md §1.2, §11) rotation: a worker's run() of a queued tasklet skips the ones between") { fresh {
        val log = mutableListOf<String>()
        lateinit var c: Tasklet
        Tasklet {
            log += "a runs c"
            c.run()
            log += "a back"
        }.setup()
        fun mk(n: String) = Tasklet {
            log += n
            Stackless.schedule()
            log += "${n}2"
        }.setup()
        mk("b")
        c = mk("c")
        mk("d")
        Stackless.run()
        log shouldBe listOf("a runs c", "c", "d", "a back", "b", "c2", "d2", "b2")
    } }

    test("S#25 switch() from a worker: the worker stays paused forever") { fresh {
        val log = mutableListOf<String>()
        val t = Tasklet().bind({ log += "target runs" }, paused = true)
        val a = Tasklet {
            log += "a switches"
            t.switch()
            log += "a resumed"
        }.setup()
        Tasklet { log += "b runs" }.setup()
        Stackless.run() shouldBe null
        log shouldBe listOf("a switches", "target runs", "b runs")
        st(a) shouldBe listOf(T, F, F, T)
        Stackless.runCount shouldBe 1
    } }

    test("S#26 (from docs/stackless.md §2.8) main's switch(): main comes back only when the queue empties") { fresh {
        val log = mutableListOf<String>()
        val main = Stackless.main
        Tasklet { log += "a" }.setup()
        Tasklet { log += "b" }.setup()
        val t = Tasklet().bind({
            log += "t main paused=${main.paused}"
            Stackless.schedule()
            log += "t2"
        }, paused = true)
        t.switch() shouldBe null
        log += "main back"
        log shouldBe listOf("t main paused=true", "a", "b", "t2", "main back")
        Stackless.runCount shouldBe 1
    } }
})
