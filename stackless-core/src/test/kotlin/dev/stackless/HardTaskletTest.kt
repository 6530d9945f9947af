package dev.stackless

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe

/** Tasklets with Java bodies ([Tasklet.of]), switched by handing the scheduler's baton between threads. */
class HardTaskletTest : FunSpec({
    test("hard and soft tasklets interleave in queue order on one scheduler") {
        fresh {
            val log = mutableListOf<String>()
            Tasklet.of { repeat(3) { log += "hard$it"; Stackless.scheduleBlocking() } }.setup()
            Tasklet { repeat(3) { log += "soft$it"; Stackless.schedule() } }.setup()
            Stackless.run()
            log shouldBe listOf("hard0", "soft0", "hard1", "soft1", "hard2", "soft2")
        }
    }

    test("a hard tasklet sees itself as current and creates tasklets of its owner's scheduler") {
        fresh {
            val owner = Thread.currentThread()
            var seen: Tasklet? = null
            var childThreadId = 0L
            val hard = Tasklet.of {
                seen = Stackless.current
                childThreadId = Tasklet { }.threadId
            }.setup()
            Stackless.run()
            seen shouldBe hard
            childThreadId shouldBe owner.id
        }
    }

    test("killing a hard tasklet blocked in a channel raises TaskletExit on its thread and runs finally") {
        fresh {
            val ch = Channel<Int>()
            val log = mutableListOf<String>()
            val t = Tasklet.of {
                try {
                    ch.receiveBlocking()
                } catch (e: TaskletExit) {
                    log += "exit"
                    throw e
                } finally {
                    log += "finally"
                }
            }.setup()
            Stackless.run()
            ch.balance shouldBe -1
            t.kill()
            log shouldBe listOf("exit", "finally")
            t.alive shouldBe false
            ch.balance shouldBe 0
        }
    }

    test("killing an unstarted hard tasklet never starts its body") {
        fresh {
            var ran = false
            val t = Tasklet.of { ran = true }.setup()
            t.kill()
            ran shouldBe false
            t.alive shouldBe false
            Stackless.runCount shouldBe 1
        }
    }

    test("an uncaught exception of a hard tasklet goes to the watchdog") {
        fresh {
            Tasklet.of { throw IllegalArgumentException("boom") }.setup()
            val e = shouldThrow<IllegalArgumentException> { Stackless.run() }
            e.message shouldBe "boom"
        }
    }

    test("a started hard tasklet cannot be rebound: its frames live on a thread's stack") {
        fresh {
            val t = Tasklet.of { Stackless.scheduleRemoveBlocking() }.setup()
            Stackless.run()
            t.paused shouldBe true
            shouldThrow<IllegalStateException> { t.bind(null) }.message shouldBe "tasklet has C state on its stack"
            t.restorable shouldBe false
            t.kill()
            t.alive shouldBe false
        }
    }

    test("carriers are virtual threads on JDK 21 and later") {
        fresh {
            var carrier: Thread? = null
            Tasklet.of { carrier = Thread.currentThread() }.setup()
            Stackless.run()
            carrier shouldNotBe Thread.currentThread()
            val feature = Runtime.version().feature()
            val isVirtual = runCatching { Thread::class.java.getMethod("isVirtual").invoke(carrier) as Boolean }.getOrDefault(false)
            isVirtual shouldBe (feature >= 21)
        }
    }
})
