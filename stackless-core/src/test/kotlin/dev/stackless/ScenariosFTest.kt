package dev.stackless

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe

// Section F of docs/scenarios.md: kill / throw / raise_exception / uncaught exceptions, plus the
// even-numbered S#102–S#120 that docs/stackless.md cites, the error handler (§4.10) and TaskletExit being an Error.
//
// Prevented by the type system (no tests): t.throw() without an exception, t.throw(IndexError(1), 2),
// t.raise_exception(42), t.throw(42) (S#111); TaskletExit().code and the SystemExit MRO (S#119: TaskletExit is an
// Error here, checked below).
// Skipped: S#119 SystemExit in a tasklet of a non-main thread / interpreter exit (no SystemExit on the JVM,
// threads are later work).

private fun st(t: Tasklet) = listOf(t.alive, t.scheduled, t.blocked != 0, t.paused)

/** Throws from a named frame, so that the stack trace of the exception names it (S#111). */
private fun errfunc(): Nothing = throw IndexOutOfBoundsException("from errfunc")

class ScenariosFTest : FunSpec({

    test("S#102 (from docs/stackless.md §3.2) a waiter of an unreferenced channel stays blocked and can still be killed") { fresh {
        // CPython unlinks the waiters of a destroyed channel (they become paused). On the JVM a channel cannot be
        // collected while a tasklet waits on it (the waiter references it), so the waiter simply stays blocked.
        val log = mutableListOf<String>()
        var ch: Channel<Int>? = Channel()
        val t = Tasklet {
            try { ch!!.receive() } catch (e: TaskletExit) { log += "killed"; throw e }
        }.setup()
        t.run()
        ch = null
        System.gc()
        st(t) shouldBe listOf(true, true, true, false)
        t.blocked shouldBe -1
        t.kill()
        log shouldBe listOf("killed")
        st(t) shouldBe listOf(false, false, false, false)
        Stackless.runCount shouldBe 1
        ch shouldBe null
    } }

    test("S#103 kill() an unstarted tasklet") { fresh {
        val log = mutableListOf<String>()
        val t = Tasklet { log += "f" }.setup()
        t.kill() shouldBe Unit
        log shouldBe emptyList()
        st(t) shouldBe listOf(false, false, false, false)
        Stackless.runCount shouldBe 1
        shouldThrow<IllegalStateException> { t.run() }.message shouldBe "You cannot run an unbound(dead) tasklet"

        // also t.throw(TaskletExit) on an unstarted tasklet
        val t2 = Tasklet { log += "f2" }.setup()
        t2.throwException(TaskletExit())
        log shouldBe emptyList()
        st(t2) shouldBe listOf(false, false, false, false)
        Stackless.runCount shouldBe 1
    } }

    test("S#104 (from docs/stackless.md §2.11) a TaskletExit that escapes the body ends the tasklet silently, finally blocks run") { fresh {
        val log = mutableListOf<String>()
        val t = Tasklet {
            try {
                Stackless.schedule()
                log += "t after schedule"
            } finally {
                log += "t finally"
            }
        }.setup()
        val o = Tasklet { log += "o1"; Stackless.schedule(); log += "o2" }.setup()
        t.run() // t starts and schedules; o runs to its schedule; main resumes
        log shouldBe listOf("o1")
        t.kill() // no exception reaches the killer
        log shouldBe listOf("o1", "t finally", "o2")
        t.alive shouldBe false
        o.alive shouldBe false
        Stackless.runCount shouldBe 1
        Stackless.run() shouldBe null
    } }

    test("S#105 kill() order: target runs immediately, then the killer") { fresh {
        val log = mutableListOf<String>()
        val t1 = Tasklet {
            try {
                while (true) Stackless.schedule()
            } catch (e: TaskletExit) {
                log += "t1 TaskletExit"
                throw e
            }
        }.setup()
        Tasklet { log += "killer kills t1"; t1.kill(); log += "killer continues" }.setup()
        Tasklet { log += "other" }.setup()
        Stackless.run() shouldBe null
        log shouldBe listOf("killer kills t1", "t1 TaskletExit", "killer continues", "other")
        t1.alive shouldBe false
        Stackless.runCount shouldBe 1
    } }

    test("S#106 (from docs/stackless.md §1.2, §11) kill() of a queued tasklet rotates the queue like run()") { fresh {
        val log = mutableListOf<String>()
        val target = Tasklet {
            try {
                log += "T start"
                Stackless.schedule()
                log += "T not killed"
            } catch (e: TaskletExit) {
                log += "T exit"
                throw e
            }
        }.setup()
        Tasklet { log += "Z1"; Stackless.schedule(); log += "Z2" }.setup()
        Tasklet { log += "K kills"; target.kill(); log += "K continues" }.setup()
        Tasklet { log += "Y" }.setup()
        // when K kills, the queue is K, Y, T, Z: T runs, then the tasklets after T (Z), then K, then Y
        Stackless.run()
        log shouldBe listOf("T start", "Z1", "K kills", "T exit", "Z2", "K continues", "Y")
    } }

    test("S#107 kill(pending=True)") { fresh {
        val log = mutableListOf<String>()
        // a started tasklet (in schedule())
        val t = Tasklet {
            try {
                Stackless.schedule()
                log += "not killed"
            } catch (e: TaskletExit) {
                log += "killed"
                throw e
            }
        }.setup()
        t.run()
        t.kill(pending = true)
        log shouldBe emptyList()
        st(t) shouldBe listOf(true, true, false, false)
        t.run()
        log shouldBe listOf("killed")
        t.alive shouldBe false
        Stackless.runCount shouldBe 1

        // a paused bound tasklet
        val p = Tasklet().bind({ log += "p body" }, paused = true)
        st(p) shouldBe listOf(true, false, false, true)
        p.kill(pending = true)
        st(p) shouldBe listOf(true, true, false, false)
        Stackless.runCount shouldBe 2
        Stackless.run()
        p.alive shouldBe false
        Stackless.runCount shouldBe 1

        // pending=False: killed during the call
        log.clear()
        val u = Tasklet {
            try {
                Stackless.schedule()
                log += "not killed"
            } catch (e: TaskletExit) {
                log += "killed"
                throw e
            }
        }.setup()
        u.run()
        u.kill(pending = false)
        log shouldBe listOf("killed")
        u.alive shouldBe false
        Stackless.runCount shouldBe 1
    } }

    test("S#108 (from docs/stackless.md §2.9, §2.11) throw/kill to the current tasklet raises immediately in the caller") { fresh {
        val log = mutableListOf<String>()
        Tasklet {
            try {
                Stackless.current.throwException(IndexOutOfBoundsException("self"))
                log += "not reached"
            } catch (e: IndexOutOfBoundsException) {
                log += "caught ${e.message}"
            }
            try {
                Stackless.current.raiseException(IllegalArgumentException("k"))
                log += "not reached"
            } catch (e: IllegalArgumentException) {
                log += "caught ${e.message}"
            }
            try {
                Stackless.current.kill()
                log += "not reached"
            } catch (e: TaskletExit) {
                log += "caught TaskletExit"
            }
            log += "still alive ${Stackless.current.alive}"
        }.setup()
        Stackless.run()
        log shouldBe listOf("caught self", "caught k", "caught TaskletExit", "still alive true")

        // the main tasklet too
        shouldThrow<IndexOutOfBoundsException> { Stackless.main.throwException(IndexOutOfBoundsException("m")) }
            .message shouldBe "m"
        shouldThrow<TaskletExit> { Stackless.main.kill() }
        Stackless.main.alive shouldBe true
        Stackless.runCount shouldBe 1
    } }

    test("S#109 kill/throw/raise_exception on dead or never-started tasklets") { fresh {
        val t = Tasklet { }.setup()
        Stackless.run()
        t.alive shouldBe false
        t.kill() shouldBe Unit
        t.throwException(TaskletExit()) shouldBe Unit
        t.raiseException(TaskletExit()) shouldBe Unit
        shouldThrow<IllegalStateException> { t.throwException(IndexOutOfBoundsException()) }
            .message shouldBe "You cannot throw to a dead tasklet"
        shouldThrow<IllegalStateException> { t.raiseException(IndexOutOfBoundsException()) }
            .message shouldBe "You cannot throw to a dead tasklet"
        Tasklet().kill() shouldBe Unit
        Tasklet { }.kill() shouldBe Unit
        Stackless.runCount shouldBe 1
    } }

    test("S#110 (from docs/stackless.md §2.11) a tasklet that catches TaskletExit lives on") { fresh {
        val log = mutableListOf<String>()
        val t = Tasklet {
            try {
                Stackless.schedule()
            } catch (e: TaskletExit) {
                log += "ignored kill"
            }
            Stackless.schedule()
            log += "lives on"
        }.setup()
        t.run()
        t.kill()
        log shouldBe listOf("ignored kill")
        st(t) shouldBe listOf(true, true, false, false)
        Stackless.run()
        log shouldBe listOf("ignored kill", "lives on")
        t.alive shouldBe false
    } }

    test("S#111 throw() variants (target blocked in receive, handler loops)") { fresh {
        val log = mutableListOf<String>()
        val ch = Channel<Any?>()
        var caught: Throwable? = null
        val t = Tasklet {
            while (true) {
                try {
                    log += "received ${ch.receive()}"
                } catch (e: IndexOutOfBoundsException) {
                    caught = e
                    log += "IndexError ${e.message}"
                } catch (e: IllegalArgumentException) {
                    caught = e
                    log += "KeyError ${e.message}"
                }
            }
        }.setup()
        t.run()
        t.blocked shouldBe -1

        t.throwException(IndexOutOfBoundsException()) shouldBe Unit
        log shouldBe listOf("IndexError null")
        t.throwException(IndexOutOfBoundsException("1, 2")) shouldBe Unit
        log.last() shouldBe "IndexError 1, 2"
        val three = IndexOutOfBoundsException("3")
        t.throwException(three) shouldBe Unit
        log.last() shouldBe "IndexError 3"
        (caught === three) shouldBe true
        t.raiseException(IllegalArgumentException("a, b")) shouldBe Unit
        log.last() shouldBe "KeyError a, b"
        log.size shouldBe 4
        // the target went back to receive() each time
        t.blocked shouldBe -1
        ch.balance shouldBe -1

        // throw(*sys.exc_info()) keeps the traceback: the same exception object, with its stack trace
        val e = try { errfunc() } catch (x: IndexOutOfBoundsException) { x }
        t.throwException(e)
        (caught === e) shouldBe true
        caught!!.stackTrace.any { it.methodName.contains("errfunc") } shouldBe true

        t.kill()
        t.alive shouldBe false
        ch.balance shouldBe 0
        Stackless.runCount shouldBe 1
    } }

    test("S#112 (from docs/stackless.md §2.9, §11) throw: non-pending runs the target first, pending puts it at the end of the round") { fresh {
        for (pending in listOf(false, true)) {
            val log = mutableListOf<String>()
            val target = Tasklet {
                try {
                    Stackless.scheduleRemove()
                    log += "T not thrown"
                } catch (e: IndexOutOfBoundsException) {
                    log += "T got IndexError"
                }
            }.setup()
            Tasklet {
                log += "K throws"
                target.throwException(IndexOutOfBoundsException(), pending)
                log += "K continues"
                Stackless.schedule()
                log += "K after"
            }.setup()
            Tasklet { log += "X" }.setup()
            Stackless.run()
            log shouldBe if (pending) {
                listOf("K throws", "K continues", "X", "T got IndexError", "K after")
            } else {
                listOf("K throws", "T got IndexError", "K continues", "X", "K after")
            }
            target.alive shouldBe false
            Stackless.runCount shouldBe 1
        }
    } }

    test("S#113 throw() into an unstarted tasklet") { fresh {
        val log = mutableListOf<String>()
        fun foo(): suspend () -> Unit = {
            try {
                log += "foo body"
            } catch (e: Throwable) {
                log += "never"
            }
        }
        val s = Tasklet(foo()).setup()
        shouldThrow<IndexOutOfBoundsException> { s.throwException(IndexOutOfBoundsException()) }
        s.alive shouldBe false
        log shouldBe emptyList()
        Stackless.runCount shouldBe 1

        val s2 = Tasklet(foo()).setup()
        s2.throwException(IndexOutOfBoundsException(), pending = true) shouldBe Unit
        s2.scheduled shouldBe true
        shouldThrow<IndexOutOfBoundsException> { Stackless.run() }
        s2.alive shouldBe false
        log shouldBe emptyList()

        val s3 = Tasklet(foo()).setup()
        shouldThrow<IllegalArgumentException> { s3.raiseException(IllegalArgumentException("z")) }.message shouldBe "z"
        s3.alive shouldBe false
        log shouldBe emptyList()
        Stackless.runCount shouldBe 1
    } }

    test("S#114 (from docs/stackless.md §2.9) pending throw to a blocked tasklet: off the channel, end of the round, caller continues") { fresh {
        val log = mutableListOf<String>()
        val ch = Channel<Int>()
        val t = Tasklet {
            try {
                log += "T got ${ch.receive()}"
            } catch (e: IndexOutOfBoundsException) {
                log += "T got IndexError"
            }
        }.setup()
        t.run()
        t.blocked shouldBe -1
        ch.balance shouldBe -1
        val o = Tasklet { log += "O" }.setup()
        t.throwException(IndexOutOfBoundsException(), pending = true)
        log += "main continues"
        ch.balance shouldBe 0
        ch.queue shouldBe null
        st(t) shouldBe listOf(true, true, false, false)
        Stackless.runCount shouldBe 3
        (Stackless.main.next === o) shouldBe true
        (o.next === t) shouldBe true
        Stackless.run()
        log shouldBe listOf("main continues", "O", "T got IndexError")
        t.alive shouldBe false
    } }

    test("S#115 Uncaught exception from a tasklet started by main's t.run()") { fresh {
        val log = mutableListOf<String>()
        val t = Tasklet { log += "bad runs"; throw IllegalArgumentException("v") }.setup()
        shouldThrow<IllegalArgumentException> { t.run() }.message shouldBe "v"
        log shouldBe listOf("bad runs")
        t.alive shouldBe false
        Stackless.runCount shouldBe 1
    } }

    test("S#116 (from docs/stackless.md §4.9) the tasklet that switched to the failing one is not notified; the watchdog is") { fresh {
        val log = mutableListOf<String>()
        val bad = Tasklet().bind({ log += "bad runs"; throw IllegalArgumentException("v") }, paused = true)
        val a = Tasklet {
            log += "A runs bad"
            try {
                bad.run()
                log += "A continues"
            } catch (e: IllegalArgumentException) {
                log += "A notified"
            }
        }.setup()
        shouldThrow<IllegalArgumentException> { Stackless.run() }.message shouldBe "v"
        log shouldBe listOf("A runs bad", "bad runs")
        bad.alive shouldBe false
        st(a) shouldBe listOf(true, true, false, false)
        Stackless.run()
        log shouldBe listOf("A runs bad", "bad runs", "A continues")
    } }

    test("S#117 Exception while main is paused via switch()") { fresh {
        val log = mutableListOf<String>()
        val t = Tasklet { log += "bad runs"; throw IllegalArgumentException("v") }.setup()
        shouldThrow<IllegalArgumentException> { t.switch() }.message shouldBe "v"
        log shouldBe listOf("bad runs")
        Stackless.main.scheduled shouldBe true
        t.alive shouldBe false
        Stackless.runCount shouldBe 1
    } }

    test("S#118 (from docs/stackless.md §2.11) killing main raises TaskletExit in main at its suspension point, not silenced") {
        fresh {
            val log = mutableListOf<String>()
            val k = Tasklet { log += "k kills main"; Stackless.main.kill(); log += "k continues" }.setup()
            try {
                Stackless.schedule()
                log += "not reached"
            } catch (e: TaskletExit) {
                log += "main got TaskletExit"
            }
            log shouldBe listOf("k kills main", "main got TaskletExit")
            Stackless.main.alive shouldBe true
            k.alive shouldBe true
            Stackless.run()
            log shouldBe listOf("k kills main", "main got TaskletExit", "k continues")
        }
        // uncaught, it ends the main tasklet (the thread), unlike in other tasklets
        shouldThrow<TaskletExit> {
            fresh {
                Tasklet { Stackless.main.kill() }.setup()
                Stackless.schedule()
            }
        }
    }

    test("S#119 TaskletExit in a non-main tasklet is silent") { fresh {
        val log = mutableListOf<String>()
        val a = Tasklet { throw TaskletExit() }.setup()
        Tasklet { log += "c runs" }.setup()
        Stackless.run() shouldBe null
        log shouldBe listOf("c runs")
        a.alive shouldBe false
        Stackless.runCount shouldBe 1
        // TaskletExit, SystemExit, BaseException: here TaskletExit is an Error, not an Exception
        val x: Throwable = TaskletExit()
        (x is Error) shouldBe true
        (x is Exception) shouldBe false
    } }

    test("S#120 (from docs/stackless.md §4.10) an exception raised by the error handler goes to the watchdog") { fresh {
        val log = mutableListOf<String>()
        try {
            Stackless.setErrorHandler { _, e ->
                log += "handler ${e.message}"
                throw IllegalStateException("from handler")
            }
            val bad = Tasklet { throw IllegalArgumentException("v") }.setup()
            Tasklet { log += "other" }.setup()
            val e = shouldThrow<IllegalStateException> { Stackless.run() }
            e.message shouldBe "from handler"
            log shouldBe listOf("handler v")
            bad.alive shouldBe false
            // the other tasklet is still queued, after main
            Stackless.runCount shouldBe 2
            Stackless.run()
            log shouldBe listOf("handler v", "other")
        } finally {
            Stackless.setErrorHandler(null)
        }
    } }

    test("error handler: runs in the dying tasklet, swallows the exception; set returns the previous one") { fresh {
        val log = mutableListOf<String>()
        val h1 = ErrorHandler { t, e ->
            log += "handler ${t.name} ${e::class.simpleName} ${e.message} current=${Stackless.current === t}"
        }
        val h2 = ErrorHandler { _, _ -> }
        try {
            Stackless.setErrorHandler(h1) shouldBe null
            Stackless.getErrorHandler() shouldBe h1
            val bad = Tasklet { log += "bad"; throw IllegalArgumentException("v") }.apply { name = "bad" }.setup()
            Tasklet { log += "other" }.setup()
            Stackless.run() shouldBe null
            log shouldBe listOf("bad", "handler bad IllegalArgumentException v current=true", "other")
            bad.alive shouldBe false
            Stackless.runCount shouldBe 1
            Stackless.setErrorHandler(h2) shouldBe h1
            Stackless.setErrorHandler(null) shouldBe h2
            Stackless.getErrorHandler() shouldBe null
        } finally {
            Stackless.setErrorHandler(null)
        }
    } }

    test("error handler: exceptions thrown into an unstarted tasklet, pending throws, TaskletExit") { fresh {
        val log = mutableListOf<String>()
        try {
            Stackless.setErrorHandler { t, e -> log += "handler ${t.name} ${e.message}" }
            // early throw: the handler is called, the body never ran, the caller sees nothing
            val s = Tasklet { log += "s body" }.apply { name = "s" }.setup()
            s.throwException(IndexOutOfBoundsException("early"))
            log shouldBe listOf("handler s early")
            s.alive shouldBe false

            // pending throw: only when the tasklet actually runs
            log.clear()
            val p = Tasklet { log += "p body" }.apply { name = "p" }.setup()
            p.throwException(IndexOutOfBoundsException("pending"), pending = true)
            log shouldBe emptyList()
            Stackless.run() shouldBe null
            log shouldBe listOf("handler p pending")
            p.alive shouldBe false

            // TaskletExit is silent: the handler is not called
            log.clear()
            val k = Tasklet { Stackless.schedule(); log += "k not killed" }.setup()
            k.run()
            k.kill()
            log shouldBe emptyList()
            k.alive shouldBe false
            Stackless.runCount shouldBe 1
        } finally {
            Stackless.setErrorHandler(null)
        }
    } }

    test("TaskletExit is an Error that catch (e: Exception) does not catch") { fresh {
        val log = mutableListOf<String>()
        val t = Tasklet {
            try {
                Stackless.schedule()
                log += "not killed"
            } catch (e: Exception) {
                log += "caught by catch Exception"
            } finally {
                log += "finally"
            }
            log += "after try"
        }.setup()
        t.run()
        t.kill() // silent: nothing reaches main
        log shouldBe listOf("finally")
        t.alive shouldBe false
        val x: Throwable = TaskletExit()
        (x is Error) shouldBe true
        (x is Exception) shouldBe false
        Stackless.runCount shouldBe 1
    } }
})
