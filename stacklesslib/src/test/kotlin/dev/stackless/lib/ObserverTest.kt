package dev.stackless.lib

import dev.stackless.Tasklet
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.StringSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.types.shouldBeSameInstanceAs
import java.lang.ref.WeakReference
import kotlin.time.Duration.Companion.milliseconds

/** A waitable with a flag, signalled for good once [set]. */
private class FlagSite : WaitSite() {
    @Volatile var flag = false
    override val isSignalled: Boolean get() = flag

    fun set() {
        flag = true
        signal()
    }
}

/** An observer whose filter is [pass]. */
private class FilterGate(observed: Waitable) : Observer(observed) {
    var pass = false
    override fun filter(): Boolean = pass
}

/** An observer of [source] that nobody refers to, and a weak reference to see it collected. */
private fun droppedObserver(source: Waitable): WeakReference<Observer> = WeakReference(Observer(source))

/** Runs [body] in a new tasklet after [delayMs] milliseconds of sleep. */
private fun later(delayMs: Long, body: suspend () -> Unit): Tasklet = Tasklet {
    sleep(delayMs.milliseconds)
    body()
}.setup()

class ObserverTest : StringSpec({
    "WaitSite calls its callbacks once, in order, and goes on after a failing one" {
        val events = mutableListOf<String>()
        val site = object : WaitSite() {
            override fun handleException(e: Exception) {
                events += "handled ${e.message}"
            }
        }
        site.addDoneCallback { events += "a" }
        site.addDoneCallback { throw IllegalStateException("boom") }
        val c: (Waitable) -> Unit = { events += "c" }
        site.addDoneCallback(c)
        site.addDoneCallback { events += "d" }
        site.removeDoneCallback(c)
        site.signal()
        site.signal()
        events shouldBe listOf("a", "handled boom", "d")
    }

    "a callback added to a signalled waitable is called at once and not kept" {
        val f = FlagSite()
        f.set()
        var calls = 0
        f.addDoneCallback { calls++ }
        calls shouldBe 1
        f.signal()
        calls shouldBe 1
    }

    "scenario 69: an observer gets the callback and chains propagate" {
        val src = WaitSite()
        val o1 = Observer(src)
        val o2 = Observer(o1)
        o1.gotCallback shouldBe false
        o1.isSignalled shouldBe false
        src.signal()
        o1.gotCallback shouldBe true
        o2.gotCallback shouldBe true
        o2.isSignalled shouldBe true
    }

    "scenario 69: an observer nobody refers to is collected" {
        val src = WaitSite()
        val ref = droppedObserver(src)
        var tries = 0
        while (ref.get() != null && tries < 50) {
            System.gc()
            Thread.sleep(10)
            tries++
        }
        ref.get() shouldBe null
        // Its callback, left behind, does nothing.
        src.signal()
    }

    "scenario 69: close() stops delivery" {
        val src = WaitSite()
        val o1 = Observer(src)
        val o2 = Observer(o1)
        o1.close()
        o1.observed shouldBe null
        src.signal()
        o1.gotCallback shouldBe false
        o2.gotCallback shouldBe false
    }

    "scenario 69: a rejecting filter stops the signal at its level" {
        val src = WaitSite()
        val gate = FilterGate(src)
        val next = Observer(gate)
        src.signal()
        gate.gotCallback shouldBe true
        gate.isSignalled shouldBe false
        next.gotCallback shouldBe false
        // Re-armed: the next signal, accepted, goes through.
        gate.pass = true
        src.signal()
        next.gotCallback shouldBe true
    }

    "scenario 69: observing a signalled waitable calls back at construction" {
        val f = FlagSite()
        f.set()
        val o = Observer(f)
        o.gotCallback shouldBe true
        o.isSignalled shouldBe true
        Observer(o).gotCallback shouldBe true
    }

    "scenario 69: swait(observer) returns it" {
        fresh {
            stackless {
                val src = WaitSite()
                val o = Observer(Observer(src))
                later(1) { src.signal() }
                swait(o) shouldBeSameInstanceAs o
                swait(o) shouldBeSameInstanceAs o // signalled now: at once
            }
        }
    }

    "swait times out with TaskletTimeoutException" {
        fresh {
            stackless {
                val t0 = System.nanoTime()
                val e = shouldThrow<TaskletTimeoutException> { swait(WaitSite(), 5.milliseconds) }
                e.message shouldBe "timed out after 5ms"
                (System.nanoTime() - t0 >= 5_000_000) shouldBe true
            }
        }
    }

    "swaitBlocking on the main tasklet, with a java.time.Duration" {
        fresh {
            val src = WaitSite()
            later(1) { src.signal() }
            swaitBlocking(src, java.time.Duration.ofSeconds(30)) shouldBeSameInstanceAs src
            shouldThrow<TaskletTimeoutException> { swaitBlocking(WaitSite(), java.time.Duration.ofMillis(2)) }
                .message shouldBe "timed out after 2ms"
        }
    }

    "scenario 71: swait(c) returns when a sender blocks, balance 1" {
        fresh {
            stackless {
                val c = WaitChannel<Int>()
                later(1) { c.send(7) }
                swait(c) shouldBeSameInstanceAs c
                c.balance shouldBe 1
                c.receive() shouldBe 7
                c.balance shouldBe 0
            }
        }
    }

    "scenario 71: swait(c) returns when a receiver blocks, balance -1" {
        fresh {
            stackless {
                val c = WaitChannel<Int>()
                val got = mutableListOf<Int>()
                later(1) { got += c.receive() }
                swait(c) shouldBeSameInstanceAs c
                c.balance shouldBe -1
                c.send(8)
                got shouldBe listOf(8)
            }
        }
    }

    "scenario 71: Receivable wakes on a pending send, Sendable on a pending receive" {
        fresh {
            stackless {
                val c = WaitChannel<String>()
                val r = Receivable(c)
                later(1) { c.send("x") }
                swait(r) shouldBeSameInstanceAs r
                c.balance shouldBe 1
                c.receive() shouldBe "x"

                val s = Sendable(c)
                val got = mutableListOf<String>()
                later(1) { got += c.receive() }
                swait(s) shouldBeSameInstanceAs s
                c.balance shouldBe -1
                c.send("y")
                got shouldBe listOf("y")
            }
        }
    }

    "scenario 71: Receivable with only a pending receive times out, and Sendable with a pending send" {
        fresh {
            stackless {
                val c = WaitChannel<Int>()
                val got = mutableListOf<Int>()
                later(1) { got += c.receive() }
                val t0 = System.nanoTime()
                shouldThrow<TaskletTimeoutException> { swait(Receivable(c), 5.milliseconds) }
                    .message shouldBe "timed out after 5ms"
                (System.nanoTime() - t0 >= 5_000_000) shouldBe true
                c.balance shouldBe -1
                c.send(1)
                got shouldBe listOf(1)

                later(1) { c.send(2) }
                val t1 = System.nanoTime()
                shouldThrow<TaskletTimeoutException> { swait(Sendable(c), 5.milliseconds) }
                    .message shouldBe "timed out after 5ms"
                (System.nanoTime() - t1 >= 5_000_000) shouldBe true
                c.balance shouldBe 1
                c.receive() shouldBe 2
            }
        }
    }

    "Receivable keeps watching after a change it rejects" {
        fresh {
            stackless {
                val c = WaitChannel<Int>()
                val r = Receivable(c)
                val got = mutableListOf<Int>()
                later(1) { got += c.receive() }
                later(2) {
                    c.send(1) // meets the receiver: no signal
                    c.send(2) // blocks: receivable
                }
                swait(r) shouldBeSameInstanceAs r
                got shouldBe listOf(1)
                c.balance shouldBe 1
                c.receive() shouldBe 2
            }
        }
    }
})
