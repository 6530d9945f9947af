package dev.stackless

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.longs.shouldBeLessThan
import io.kotest.matchers.shouldBe

/**
 * A million tasklets: they block cheaply, each value is received exactly once, nothing grows the
 * Java stack, and the heap is given back when they end. (Surefire runs with -Xmx2g -XX:+UseParallelGC.)
 */
class ScaleTest : FunSpec({
    test("1,000,000 tasklets block in receive() on one channel, then each receives exactly one value") { fresh {
        val n = 1_000_000
        val ch = Channel<Int>()
        var sum = 0L
        var count = 0
        val body: suspend () -> Unit = {
            val v = ch.receive() // not `sum += ch.receive()`: that reads `sum` before suspending
            sum += v
            count++
        }
        val s = Stackless.current.scheduler!!
        val start = usedHeap()
        val t0 = System.nanoTime()

        repeat(n) { Tasklet(body).setup() }
        Stackless.runCount shouldBe n + 1
        Stackless.run()
        val t1 = System.nanoTime()
        Stackless.runCount shouldBe 1
        ch.balance shouldBe -n
        aliveCount(s) shouldBe n + 1
        val blocked = usedHeap()

        for (i in 0 until n) ch.sendBlocking(i)
        val t2 = System.nanoTime()
        count shouldBe n
        sum shouldBe n.toLong() * (n - 1) / 2
        ch.balance shouldBe 0
        ch.queue shouldBe null
        Stackless.runCount shouldBe 1
        aliveCount(s) shouldBe 1
        val end = usedHeap()

        println(
            "ScaleTest: ${(blocked - start) / n} bytes per blocked tasklet " +
                "(heap: start ${mb(start)}, all blocked ${mb(blocked)}, end ${mb(end)}); " +
                "create+block ${(t1 - t0) / 1_000_000} ms, 1M sends ${(t2 - t1) / 1_000_000} ms",
        )
        (end - start) shouldBeLessThan 16L * 1024 * 1024
    } }

    test("a 1,000,000-deep chain of channels runs on the trampoline without growing the stack") { fresh {
        val n = 1_000_000
        val chans = Array(n + 1) { Channel<Int>() }
        val t0 = System.nanoTime()
        for (i in 0 until n) {
            val inbox = chans[i]
            val outbox = chans[i + 1]
            Tasklet { outbox.send(inbox.receive() + 1) }.setup()
        }
        Stackless.run()
        Stackless.runCount shouldBe 1
        chans.count { it.balance == -1 } shouldBe n
        chans[n].balance shouldBe 0

        // tasklet i receives from channel i and sends to channel i + 1: a million switches in a row,
        // each receiver preferred, before the main tasklet runs again.
        chans[0].sendBlocking(0)
        chans[n].balance shouldBe 1
        chans[n].receiveBlocking() shouldBe n
        Stackless.runCount shouldBe n + 1
        Stackless.run()
        Stackless.runCount shouldBe 1
        chans.all { it.balance == 0 } shouldBe true
        aliveCount(Stackless.current.scheduler!!) shouldBe 1
        println("ScaleTest: 1M-deep chain ${(System.nanoTime() - t0) / 1_000_000} ms")
    } }
})

private fun usedHeap(): Long {
    val rt = Runtime.getRuntime()
    repeat(4) { System.gc() }
    return rt.totalMemory() - rt.freeMemory()
}

private fun mb(bytes: Long) = "${bytes / (1024 * 1024)} MB"

/** The scheduler's registry of alive tasklets, walked through the internal links. */
private fun aliveCount(s: Scheduler): Int {
    var n = 0
    s.forEachTasklet { n++ }
    return n
}
