package dev.stackless

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe

class SmokeTest : FunSpec({
    test("round robin") { fresh {
        val log = mutableListOf<String>()
        for (n in listOf("A", "B", "C")) Tasklet { for (i in 0..2) { log += "$n$i"; Stackless.schedule() } }.setup()
        Stackless.run()
        log.joinToString(" ") shouldBe "A0 B0 C0 A1 B1 C1 A2 B2 C2"
        Stackless.runCount shouldBe 1
    } }
    test("ping pong") { fresh {
        val a = Channel<Int>(); val b = Channel<Int>()
        var sum = 0
        Tasklet { repeat(1000) { a.send(it); sum += b.receive() } }.setup()
        Tasklet { repeat(1000) { b.send(a.receive() * 2) } }.setup()
        Stackless.run()
        sum shouldBe 999 * 1000
    } }
    test("main blocking receive and hard tasklet") { fresh {
        val ch = Channel<String>()
        Tasklet.of { ch.sendBlocking("hi"); ch.sendBlocking("there") }.setup()
        ch.receiveBlocking() shouldBe "hi"
        ch.receive() shouldBe "there"
        Stackless.runCount shouldBe 2
        Stackless.run()
        Stackless.runCount shouldBe 1
    } }
    test("deadlock") { fresh {
        val ch = Channel<String>()
        val e = runCatching { ch.receiveBlocking() }.exceptionOrNull()!!
        e::class shouldBe DeadlockException::class
        e.message!!.lines().first() shouldBe "Deadlock: the last runnable tasklet cannot be blocked."
    } }
})
