package dev.stackless.lib

import dev.stackless.Stackless
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.StringSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.types.shouldBeSameInstanceAs

private class SomeError : RuntimeException("some error")

class GreenletTest : StringSpec({
    "switch ping-pong yields 0..4 and a finished greenlet is dead" {
        fresh {
            val lst = mutableListOf<Int>()
            val g = Greenlet({
                lst += 1
                Greenlet.current.parent!!.switch()
                lst += 3
                null
            })
            lst += 0
            g.switchBlocking()
            lst += 2
            g.dead shouldBe false
            g.active shouldBe true
            g.switchBlocking()
            lst += 4
            lst shouldBe listOf(0, 1, 2, 3, 4)
            g.dead shouldBe true
            g.active shouldBe false
        }
    }

    "two children run independently" {
        fresh {
            val lst = mutableListOf<Int>()
            val f: suspend (Any?) -> Any? = {
                lst += 1
                Greenlet.current.parent!!.switch()
                lst += listOf(1, 1)
                null
            }
            val g = Greenlet(f)
            val h = Greenlet(f)
            g.switchBlocking()
            lst.size shouldBe 1
            h.switchBlocking()
            lst.size shouldBe 2
            h.switchBlocking()
            lst.size shouldBe 4
            h.dead shouldBe true
            g.dead shouldBe false
            g.switchBlocking()
            lst.size shouldBe 6
            g.dead shouldBe true
        }
    }

    "an exception in a child propagates to its parent's pending switch" {
        fresh {
            val seen = mutableListOf<String>()
            val root = Greenlet.current
            val fmain: suspend (Any?) -> Any? = {
                try {
                    root.switch()
                } catch (e: SomeError) {
                    seen += e.message!!
                    throw e
                }
                throw SomeError()
            }
            val g1 = Greenlet(fmain)
            g1.switchBlocking()
            val g2 = Greenlet(fmain, parent = g1)
            g2.switchBlocking()
            seen shouldBe emptyList()
            val e = shouldThrow<SomeError> { g2.switchBlocking() }
            e.message shouldBe "some error"
            seen shouldBe listOf("some error")
            g1.dead shouldBe true
            g2.dead shouldBe true
            // A dead greenlet hands the switch on to its nearest live parent: the caller itself.
            g2.switchBlocking("back") shouldBe "back"
            seen shouldBe listOf("some error")
        }
    }

    "values travel both ways and the result of run goes to the parent" {
        fresh {
            val echo = Greenlet({ first ->
                var v = first as Int
                while (v < 3) v = Greenlet.current.parent!!.switch(v * 10) as Int
                "done at $v"
            })
            echo.switchBlocking(1) shouldBe 10
            echo.switchBlocking(2) shouldBe 20
            echo.switchBlocking(3) shouldBe "done at 3"
            echo.dead shouldBe true
        }
    }

    "current is the root greenlet on the main tasklet and the running greenlet inside one" {
        fresh {
            val root = Greenlet.current
            Greenlet.current shouldBeSameInstanceAs root
            root.parent shouldBe null
            root.dead shouldBe false
            var inside: Greenlet? = null
            val g = Greenlet({ inside = Greenlet.current; null })
            g.parent shouldBeSameInstanceAs root
            g.switchBlocking()
            inside shouldBeSameInstanceAs g
            root.switchBlocking("self") shouldBe "self"
        }
    }

    "throwException raises in the pending switch, or skips run for an unstarted greenlet" {
        fresh {
            val log = mutableListOf<String>()
            val g = Greenlet({
                try {
                    Greenlet.current.parent!!.switch()
                } catch (e: SomeError) {
                    log += "caught ${e.message}"
                }
                "recovered"
            })
            g.switchBlocking()
            g.throwExceptionBlocking(SomeError()) shouldBe "recovered"
            log shouldBe listOf("caught some error")

            val never = Greenlet({ log += "ran"; null })
            val e = shouldThrow<SomeError> { never.throwExceptionBlocking(SomeError()) }
            e.message shouldBe "some error"
            never.dead shouldBe true
            log shouldBe listOf("caught some error")
        }
    }

    "greenlets switch with suspend calls inside tasklets" {
        fresh {
            val lst = mutableListOf<Int>()
            stackless {
                val g = Greenlet({ x ->
                    lst += x as Int
                    val y = Greenlet.current.parent!!.switch(x + 1) as Int
                    lst += y
                    y + 1
                })
                lst += 0
                lst += g.switch(1) as Int
                lst += g.switch(3) as Int
                g.dead shouldBe true
            }
            lst shouldBe listOf(0, 1, 2, 3, 4)
        }
    }

    "misuse: no run function, another thread" {
        fresh {
            val e = shouldThrow<IllegalStateException> { Greenlet().switchBlocking() }
            e.message shouldBe "greenlet has no run function"
            val g = Greenlet({ null })
            var failure: Throwable? = null
            val other = Thread { failure = runCatching { g.switchBlocking() }.exceptionOrNull() }
            other.start()
            other.join()
            (failure as IllegalStateException).message shouldBe "cannot switch to a different thread"
        }
    }
})
