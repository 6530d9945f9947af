package dev.stackless

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldStartWith

private suspend fun waitForWork(ch: Channel<String>): String = ch.receive() + "!"

class DiagnosticsTest : FunSpec({
    test("dump lists every tasklet with its state, its channel and its suspended stack") {
        fresh {
            val ch = Channel<String>()
            val worker = Tasklet { waitForWork(ch) }.apply { name = "worker" }.setup()
            worker.runBlocking()
            val idle = Tasklet { }.apply { name = "idle" }.setup()
            val dump = Stackless.dump()
            dump shouldContain "Tasklet(worker, blocked receiving on $ch)"
            dump shouldContain "Tasklet(idle, runnable)"
            dump shouldContain "Tasklet(main, current)"
            // The worker's stack is rebuilt from its continuation frames: it names the suspend function.
            dump shouldContain "waitForWork"
            dump.lines()[1] shouldBe "  Tasklet(main, current)"
            idle.kill()
            worker.kill()
        }
    }

    test("a deadlock names every blocked tasklet and the channel it waits on") {
        fresh {
            val a = Channel<Int>()
            val b = Channel<Int>()
            Tasklet { a.receive() }.apply { name = "reader-a" }.setup()
            Tasklet { b.send(1) }.apply { name = "writer-b" }.setup()
            Stackless.run()
            val e = shouldThrow<DeadlockException> { Channel<Int>().receive() }
            val lines = e.message!!.lines()
            lines[0] shouldBe "Deadlock: the last runnable tasklet cannot be blocked."
            lines.drop(1).sorted() shouldBe listOf(
                "  main is blocked receiving on ${e.message!!.lines().first { it.startsWith("  main") }.substringAfter("on ")}",
                "  reader-a is blocked receiving on $a",
                "  writer-b is blocked sending on $b",
            ).sorted()
            // The failed receive left main runnable and the other channels untouched.
            Stackless.runCount shouldBe 1
            a.balance shouldBe -1
            b.balance shouldBe 1
        }
    }

    test("misuse errors carry Stackless' message and name the tasklet and its state") {
        fresh {
            val t = Tasklet { }.apply { name = "lazy" }
            val e = shouldThrow<IllegalStateException> { t.insert() }
            e.message shouldBe "You cannot run an unbound(dead) tasklet"
            e.toString() shouldContain "Tasklet(lazy, bound)"
        }
    }

    test("a blocking call from a soft tasklet that would bury the main tasklet fails instead of hanging") {
        fresh {
            val ch = Channel<Int>()
            var seen: Throwable? = null
            Tasklet {
                // Non-suspend code inside a soft tasklet: the blocking twin pins this thread.
                seen = runCatching { Stackless.scheduleRemoveBlocking() }.exceptionOrNull()
            }.apply { name = "pinned" }.setup()
            Stackless.run()
            seen!!.message!! shouldStartWith "main cannot resume while pinned blocks above it"
            ch.balance shouldBe 0
            Stackless.runCount shouldBe 1
        }
    }

    test("a million chained switches do not grow the stack") {
        fresh {
            val n = 1_000_000
            var count = 0
            Tasklet { repeat(n) { count++; Stackless.schedule() } }.setup()
            Tasklet { repeat(n) { count++; Stackless.schedule() } }.setup()
            Stackless.run()
            count shouldBe 2 * n
        }
    }
})
