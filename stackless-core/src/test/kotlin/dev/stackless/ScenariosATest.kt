package dev.stackless

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.types.shouldBeSameInstanceAs

/**
 * Section A of docs/scenarios.md (tasklet construction and state): S#1–S#11, plus the
 * even-numbered scenarios S#2–S#10 that docs/stackless.md describes.
 *
 * Not tests (prevented by the type system): "tasklet function must be a callable or None",
 * `bind(args=…, kwargs=…)` as a separate form (S#3: Kotlin bodies capture their arguments).
 * S#6: not cited anywhere in docs/stackless.md, so there is no behaviour to test.
 */
class ScenariosATest : FunSpec({

    fun st(t: Tasklet) = listOf(t.alive, t.scheduled, t.blocked != 0, t.paused)
    val F = false
    val T = true

    test("S#1 Fresh, bound and scheduled states") { fresh {
        val log = mutableListOf<String>()
        val t = Tasklet()
        st(t) shouldBe listOf(F, F, F, F)
        t.tempval shouldBe null
        t.next shouldBe null
        t.prev shouldBe null
        t.restorable shouldBe true

        val body: suspend () -> Unit = { log += "f 1" }
        val t2 = Tasklet(body)
        st(t2) shouldBe listOf(F, F, F, F)
        t2.tempval shouldBeSameInstanceAs body
        Stackless.runCount shouldBe 1

        t2.setup() shouldBeSameInstanceAs t2
        st(t2) shouldBe listOf(T, T, F, F)
        t2.tempval shouldBe null
        Stackless.runCount shouldBe 2
        log shouldBe emptyList<String>() // not started yet
        Stackless.run()
        log shouldBe listOf("f 1")
    } }

    test("S#2 (from docs/stackless.md §2.2) bind(f, args) creates the execution but does not queue it: paused") { fresh {
        val log = mutableListOf<String>()
        val t = Tasklet()
        t.bind({ log += "f 1 2" }, paused = true) shouldBeSameInstanceAs t
        st(t) shouldBe listOf(T, F, F, T)
        t.tempval shouldBe null
        Stackless.runCount shouldBe 1
        log shouldBe emptyList<String>()
        t.run()
        log shouldBe listOf("f 1 2")
        st(t) shouldBe listOf(F, F, F, F)
        Stackless.runCount shouldBe 1
    } }

    test("S#3 bind(None, args, kwargs) reuses the previously bound function") { fresh {
        val log = mutableListOf<String>()
        val t = Tasklet { log += "f (1, 2) {'k': 3}" }
        t.bind(null, paused = true) shouldBeSameInstanceAs t
        st(t) shouldBe listOf(T, F, F, T)
        t.run()
        log shouldBe listOf("f (1, 2) {'k': 3}")

        val e = shouldThrow<IllegalStateException> { Tasklet().bind(null, paused = true) }
        e.message shouldBe "the tasklet was not bound to a function"
    } }

    test("S#4 (from docs/stackless.md §2.5) insert() of a bound-only or dead tasklet fails") { fresh {
        val bound = Tasklet { }
        shouldThrow<IllegalStateException> { bound.insert() }.message shouldBe
            "You cannot run an unbound(dead) tasklet"
        shouldThrow<IllegalStateException> { Tasklet().insert() }.message shouldBe
            "You cannot run an unbound(dead) tasklet"
        val dead = Tasklet { }.setup()
        Stackless.run()
        st(dead) shouldBe listOf(F, F, F, F)
        shouldThrow<IllegalStateException> { dead.insert() }.message shouldBe
            "You cannot run an unbound(dead) tasklet"
        Stackless.runCount shouldBe 1
    } }

    test("S#5 setup/__call__ errors") { fresh {
        val log = mutableListOf<String>()
        lateinit var t: Tasklet
        val g: suspend () -> Unit = { }
        t = Tasklet {
            t.tempval = g
            try {
                t.setup()
                log += "no error"
            } catch (e: IllegalStateException) {
                log += "inside t: ${e.message}"
            }
        }
        t() shouldBeSameInstanceAs t
        shouldThrow<IllegalStateException> { t() }.message shouldBe "tasklet is alive"
        shouldThrow<IllegalStateException> { Tasklet()() }.message shouldBe
            "the tasklet was not bound to a function"
        shouldThrow<IllegalStateException> { Stackless.main.setup() }.message shouldBe "tasklet is alive"
        Stackless.run()
        log shouldBe listOf("inside t: tasklet is alive")
    } }

    // S#6: not described in docs/stackless.md (no `S#6` citation).

    test("S#7 Unbinding a bound/paused tasklet") { fresh {
        val t0 = Tasklet()
        t0.bind({ })
        t0.bind(null)
        st(t0) shouldBe listOf(F, F, F, F)
        t0.tempval shouldBe null

        val log = mutableListOf<String>()
        val t = Tasklet {
            try {
                log += "part1"
                Stackless.scheduleRemove()
                log += "part2"
            } finally {
                log += "finally"
            }
        }.setup()
        Stackless.run() shouldBe null
        st(t) shouldBe listOf(T, F, F, T)
        t.bind(null)
        st(t) shouldBe listOf(F, F, F, F)
        Stackless.run()
        log shouldBe listOf("part1")
    } }

    test("S#8 (from docs/stackless.md §2.2) rebinding a paused tasklet discards its execution silently") { fresh {
        val log = mutableListOf<String>()
        val t = Tasklet {
            try {
                log += "part1"
                Stackless.scheduleRemove()
                log += "part2"
            } finally {
                log += "finally"
            }
        }.setup()
        Stackless.run()
        st(t) shouldBe listOf(T, F, F, T)
        t.bind({ log += "g" }, paused = true) shouldBeSameInstanceAs t
        st(t) shouldBe listOf(T, F, F, T)
        t.run()
        log shouldBe listOf("part1", "g")
        st(t) shouldBe listOf(F, F, F, F)
    } }

    test("S#9 Reusing a dead tasklet") { fresh {
        val log = mutableListOf<String>()
        fun f(args: List<Int>, kwargs: Map<String, Int>) {
            log += "f $args $kwargs"
        }
        val t = Tasklet { f(listOf(1, 2), mapOf("k" to 3)) }
        t.bind(null, paused = true)
        t.run()
        st(t) shouldBe listOf(F, F, F, F)
        t.bind({ f(listOf(9), emptyMap()) })
        t.setup()
        Stackless.run()
        t.bind({ f(emptyList(), mapOf("a" to 1)) }, paused = true)
        t.run()
        log shouldBe listOf("f [1, 2] {k=3}", "f [9] {}", "f [] {a=1}")
        st(t) shouldBe listOf(F, F, F, F)
    } }

    test("S#10 (from docs/stackless.md §2.4) a tasklet alone in the run queue is its own next/prev") { fresh {
        val main = Stackless.main
        main.next shouldBeSameInstanceAs main
        main.prev shouldBeSameInstanceAs main
        val t = Tasklet { }.setup()
        main.next shouldBeSameInstanceAs t
        main.prev shouldBeSameInstanceAs t
        t.next shouldBeSameInstanceAs main
        t.prev shouldBeSameInstanceAs main
        t.remove()
        t.next shouldBe null
        t.prev shouldBe null
        main.next shouldBeSameInstanceAs main
        t.insert()
        Stackless.run()
        t.next shouldBe null
        main.next shouldBeSameInstanceAs main
    } }

    test("S#11 runcount / get_thread_info") { fresh {
        val log = mutableListOf<Any?>()
        val main = Stackless.main
        lateinit var t: Tasklet
        t = Tasklet {
            log += Stackless.runCount
            log += (Stackless.getThreadInfo(Thread.currentThread().id) == ThreadInfo(main, t, 2))
            log += main.paused
            log += main.scheduled
        }.setup()
        Stackless.runCount shouldBe 2
        t.run()
        log shouldBe listOf(2, true, false, true)
        Stackless.runCount shouldBe 1

        log.clear()
        lateinit var t2: Tasklet
        t2 = Tasklet {
            log += Stackless.runCount
            log += (Stackless.getThreadInfo() == ThreadInfo(main, t2, 1))
            log += main.paused
        }.setup()
        Stackless.run()
        log shouldBe listOf(1, true, true)
        Stackless.runCount shouldBe 1

        var inThread: List<Any?> = emptyList()
        val th = Thread { inThread = listOf(Stackless.runCount, Stackless.main === Stackless.current) }
        th.start()
        th.join()
        inThread shouldBe listOf(1, true)
    } }
})
