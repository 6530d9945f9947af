package dev.stackless

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe

/**
 * The preference table of docs/stackless.md §3.2, in full: send to a waiting receiver and receive from a waiting
 * sender, for preference -1 / 0 / 1, each with and without scheduleAll (which overrides preference).
 *
 * Set-up of every case: the partner P blocks first; then the active tasklet A and two others o1, o2
 * are queued (A, o1, o2) and run. Two others tell "inserted right after A" (P, o1, o2, A) from
 * "appended at the end" (A continues, o1, o2, P).
 */
class ChannelPreferenceTest : FunSpec({

    fun scenario(send: Boolean, preference: Int, scheduleAll: Boolean): Pair<List<String>, Int> {
        val log = mutableListOf<String>()
        var balanceSeen = 99
        fresh {
            val c = Channel<String>()
            c.preference = preference
            c.scheduleAll = scheduleAll
            if (send) {
                Tasklet { log += "P got ${c.receive()}" }.setup()
            } else {
                Tasklet { c.send("X"); log += "P send returned" }.setup()
            }
            Stackless.run()
            if (send) {
                Tasklet { log += "A sends"; c.send("X"); log += "A continues" }.setup()
            } else {
                Tasklet { log += "A receives"; val v = c.receive(); log += "A got $v" }.setup()
            }
            Tasklet { log += "o1" }.setup()
            Tasklet { log += "o2" }.setup()
            Stackless.run()
            balanceSeen = c.balance
            Stackless.runCount shouldBe 1
        }
        return log to balanceSeen
    }

    val sendPartnerNow = listOf("A sends", "P got X", "o1", "o2", "A continues")
    val sendCallerContinues = listOf("A sends", "A continues", "o1", "o2", "P got X")
    val sendAll = listOf("A sends", "o1", "o2", "P got X", "A continues")
    val receiveCallerContinues = listOf("A receives", "A got X", "o1", "o2", "P send returned")
    val receivePartnerNow = listOf("A receives", "P send returned", "o1", "o2", "A got X")
    val receiveAll = listOf("A receives", "o1", "o2", "P send returned", "A got X")

    test("send to waiting receiver, preference -1 (default): receiver runs now, sender after the rest") {
        scenario(send = true, preference = -1, scheduleAll = false) shouldBe (sendPartnerNow to 0)
    }
    test("send to waiting receiver, preference 0: sender continues, receiver at end") {
        scenario(send = true, preference = 0, scheduleAll = false) shouldBe (sendCallerContinues to 0)
    }
    test("send to waiting receiver, preference 1: sender continues, receiver at end") {
        scenario(send = true, preference = 1, scheduleAll = false) shouldBe (sendCallerContinues to 0)
    }
    test("receive from waiting sender, preference -1 (default): receiver continues, sender at end") {
        scenario(send = false, preference = -1, scheduleAll = false) shouldBe (receiveCallerContinues to 0)
    }
    test("receive from waiting sender, preference 0: receiver continues, sender at end") {
        scenario(send = false, preference = 0, scheduleAll = false) shouldBe (receiveCallerContinues to 0)
    }
    test("receive from waiting sender, preference 1: sender runs now, receiver after the rest") {
        scenario(send = false, preference = 1, scheduleAll = false) shouldBe (receivePartnerNow to 0)
    }
    for (p in listOf(-1, 0, 1)) {
        test("send to waiting receiver, scheduleAll, preference $p: others first, then receiver, then sender") {
            scenario(send = true, preference = p, scheduleAll = true) shouldBe (sendAll to 0)
        }
        test("receive from waiting sender, scheduleAll, preference $p: others first, then sender, then receiver") {
            scenario(send = false, preference = p, scheduleAll = true) shouldBe (receiveAll to 0)
        }
    }

    test("main as the active side: preference decides whether main is switched away") { fresh {
        val log = mutableListOf<String>()
        val c = Channel<Int>()
        // preference 1, main sends to a waiting receiver: main continues, nothing runs yet
        c.preference = 1
        Tasklet { log += "R got ${c.receive()}" }.setup()
        Stackless.run()
        c.send(1)
        log shouldBe emptyList()
        Stackless.runCount shouldBe 2
        Stackless.run()
        log shouldBe listOf("R got 1")
        // preference 1, main receives from a waiting sender: the sender runs before main continues
        log.clear()
        Tasklet { c.send(2); log += "S send returned" }.setup()
        Stackless.run()
        c.receive() shouldBe 2
        log shouldBe listOf("S send returned")
        Stackless.runCount shouldBe 1
        // preference 0 both ways: main always continues
        c.preference = 0
        log.clear()
        Tasklet { log += "R got ${c.receive()}" }.setup()
        Stackless.run()
        c.send(3)
        log shouldBe emptyList()
        Stackless.run()
        Tasklet { c.send(4); log += "S send returned" }.setup()
        Stackless.run()
        c.receive() shouldBe 4
        log shouldBe listOf("R got 3")
        Stackless.run()
        log shouldBe listOf("R got 3", "S send returned")
        // scheduleAll: main yields to everything queued, partner first
        c.scheduleAll = true
        log.clear()
        Tasklet { log += "R got ${c.receive()}" }.setup()
        Stackless.run()
        Tasklet { log += "other" }.setup()
        c.send(5)
        log shouldBe listOf("other", "R got 5")
        Stackless.runCount shouldBe 1
    } }

    test("preference clamps; a rendezvous that does not switch is allowed under switchTrap, one that switches is not") { fresh {
        val log = mutableListOf<String>()
        val c = Channel<Int>()
        c.preference = 42
        c.preference shouldBe 1
        Tasklet { log += "R got ${c.receive()}" }.setup()
        Stackless.run()
        Stackless.switchTrap(1) shouldBe 0
        try {
            c.send(1) // preference 1: the sender continues, no switch
            c.balance shouldBe 0
            Tasklet { log += "R2 got ${c.receive()}" }.setup()
            c.preference = -1
            Stackless.switchTrap(-1)
            Stackless.run()
            Stackless.switchTrap(1)
            // R2 blocked receiving; preference -1 send would switch to it
            shouldThrow<SwitchTrapException> { c.send(2) }.message shouldBe "switch_trap"
            c.balance shouldBe -1
            c.scheduleAll = true
            shouldThrow<SwitchTrapException> { c.send(2) }.message shouldBe "switch_trap"
            c.balance shouldBe -1
        } finally {
            Stackless.switchTrap(-1)
        }
        c.scheduleAll = false
        c.send(2)
        log shouldBe listOf("R got 1", "R2 got 2")
    } }
})
