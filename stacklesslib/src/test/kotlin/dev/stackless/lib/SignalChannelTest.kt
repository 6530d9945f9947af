package dev.stackless.lib

import dev.stackless.Stackless
import dev.stackless.Tasklet
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.StringSpec
import io.kotest.matchers.shouldBe
import kotlin.time.Duration.Companion.milliseconds

class SignalChannelTest : StringSpec({
    "a signal nobody waits for is lost" {
        fresh {
            val log = mutableListOf<String>()
            stackless {
                val sc = SignalChannel<String>()
                log += "signalled: ${sc.signal("lost")}"
                log += "all: ${sc.signalAll("lost too")}"
                val e = shouldThrow<TaskletTimeoutException> { timeout(5.milliseconds) { sc.receive() } }
                log += e.message!!
                log += "balance ${sc.balance}"
            }
            log shouldBe listOf("signalled: false", "all: 0", "timed out after 5ms", "balance 0")
        }
    }

    "signal wakes the first waiter only; the signaller goes on" {
        fresh {
            val log = mutableListOf<String>()
            stackless {
                val sc = SignalChannel<Int>()
                for (n in 1..2) Tasklet { log += "w$n got ${sc.receive()}" }.setup()
                Stackless.schedule()
                log += "balance ${sc.balance}"
                log += "woke ${sc.signal(1)}"
                log += "balance ${sc.balance}"
                Stackless.schedule()
                log += "woke ${sc.signal(2)}"
                Stackless.schedule()
                log += "woke ${sc.signal(3)}"
            }
            log shouldBe listOf(
                "balance -2", "woke true", "balance -1", "w1 got 1",
                "woke true", "w2 got 2", "woke false",
            )
        }
    }

    "signalAll wakes every waiter in the order they came; the signaller goes on" {
        fresh {
            val log = mutableListOf<String>()
            stackless {
                val sc = SignalChannel<String>()
                for (n in 1..3) Tasklet { log += "w$n ${sc.receive()}" }.setup()
                Stackless.schedule()
                log += "woke ${sc.signalAll("go")}"
                log += "balance ${sc.balance}"
                Stackless.schedule()
                log += "after"
            }
            log shouldBe listOf("woke 3", "balance 0", "w1 go", "w2 go", "w3 go", "after")
        }
    }

    "waiters that are killed or time out leave the channel" {
        fresh {
            val log = mutableListOf<String>()
            stackless {
                val sc = SignalChannel<Int>()
                val w = Tasklet { sc.receive() }.setup()
                Tasklet {
                    runCatching { timeout(1.milliseconds) { sc.receive() } }.onFailure { log += it.message!! }
                }.setup()
                Stackless.schedule()
                log += "balance ${sc.balance}"
                w.kill()
                log += "balance ${sc.balance}"
                sleep(5.milliseconds)
                log += "balance ${sc.balance}"
                log += "woke ${sc.signal(1)}"
            }
            log shouldBe listOf("balance -2", "balance -1", "timed out after 1ms", "balance 0", "woke false")
        }
    }

    "the main tasklet signals tasklets" {
        fresh {
            val log = mutableListOf<String>()
            val sc = SignalChannel<Int>()
            for (n in 1..2) Tasklet { log += "w$n got ${sc.receive()}" }.setup()
            Stackless.run()
            sc.signalBlocking(7) shouldBe true
            log += "signalled"
            sc.signalAllBlocking(8) shouldBe 1
            Stackless.run()
            log shouldBe listOf("signalled", "w1 got 7", "w2 got 8")
        }
    }

    "a tasklet waits with receiveBlocking" {
        fresh {
            val log = mutableListOf<String>()
            val sc = SignalChannel<Int>()
            Tasklet.of { log += "got ${sc.receiveBlocking()}" }.setup()
            Stackless.run()
            sc.balance shouldBe -1
            sc.signalBlocking(9) shouldBe true
            Stackless.run()
            log shouldBe listOf("got 9")
        }
    }
})
