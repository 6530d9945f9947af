package dev.stackless.lib

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.StringSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import java.lang.ref.WeakReference

private class Speaker(val word: String) {
    fun speak(): String = word
    fun shout(): String = word.uppercase()
    fun echo(other: Speaker): String = "$word ${other.word}"
}

/** Runs the collector until [probe] is cleared; false if it was not within 200 rounds. */
private fun collected(probe: WeakReference<*>): Boolean {
    repeat(200) {
        if (probe.get() == null) return true
        System.gc()
        Thread.sleep(5)
    }
    return probe.get() == null
}

/** Builds the object in a separate frame so that no local keeps it reachable. */
private fun <R> withTemporary(use: (Speaker) -> R): Pair<R, WeakReference<Speaker>> {
    val s = Speaker("hi")
    return use(s) to WeakReference(s)
}

class WeakMethodTest : StringSpec({
    "a weak method to a temporary's method is dead once it is collected" {
        val (wm, probe) = withTemporary { WeakMethod(it, Speaker::speak) }
        collected(probe) shouldBe true
        wm.get() shouldBe null
        wm.isAlive shouldBe false
        wm.target shouldBe null
    }

    "a weak method to a live object calls the bound method and equals an equivalent one until the object dies" {
        var s: Speaker? = Speaker("hi")
        val wm = WeakMethod(s!!, Speaker::speak)
        val same = WeakMethod(s, Speaker::speak)
        wm.get()!!() shouldBe "hi"
        wm shouldBe same
        wm.hashCode() shouldBe same.hashCode()
        wm shouldNotBe WeakMethod(s, Speaker::shout)
        wm shouldNotBe WeakMethod(Speaker("hi"), Speaker::speak)
        val hash = wm.hashCode()
        val probe = WeakReference(s)
        s = null
        collected(probe) shouldBe true
        wm.get() shouldBe null
        (wm == same) shouldBe false
        wm shouldBe wm
        wm.hashCode() shouldBe hash
    }

    "a method reference bound to the target is rejected: it would keep the target alive" {
        val s = Speaker("hi")
        val e = shouldThrow<IllegalArgumentException> { WeakMethod(s, s::echo) }
        e.message shouldBe "method must not be bound to its target"
        WeakMethod(s, Speaker("ho")::echo).get()!!() shouldBe "ho hi"
    }

    "a proxy forwards while alive, then throws and calls its callback once" {
        val calls = mutableListOf<String>()
        val (proxy, probe) = withTemporary { s ->
            val p = WeakMethodProxy(s, Speaker::speak, callback = { calls += it.toString() })
            p() shouldBe "hi"
            p.isAlive shouldBe true
            p
        }
        collected(probe) shouldBe true
        val e = shouldThrow<IllegalStateException> { proxy() }
        e.message shouldBe "weakly-referenced object no longer exists"
        calls shouldBe listOf("WeakMethodProxy(dead)")
        shouldThrow<IllegalStateException> { proxy() }
        proxy.isAlive shouldBe false
        calls shouldBe listOf("WeakMethodProxy(dead)")
    }

    "a proxy with a fallback calls it instead of throwing" {
        var deaths = 0
        val (proxy, probe) = withTemporary { s ->
            WeakMethodProxy(s, Speaker::speak, callback = { deaths++ }, fallback = { "gone" })
        }
        collected(probe) shouldBe true
        proxy() shouldBe "gone"
        proxy() shouldBe "gone"
        deaths shouldBe 1
    }

    "proxies compare by target and method" {
        val s = Speaker("hi")
        val p = WeakMethodProxy(s, Speaker::speak)
        p shouldBe WeakMethodProxy(s, Speaker::speak)
        p.hashCode() shouldBe WeakMethodProxy(s, Speaker::speak).hashCode()
        p shouldNotBe WeakMethodProxy(Speaker("hi"), Speaker::speak)
        p shouldNotBe WeakMethodProxy(s, Speaker::shout)
    }
})
