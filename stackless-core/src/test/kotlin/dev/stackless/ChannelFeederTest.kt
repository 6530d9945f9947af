package dev.stackless

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe

/** A channel fed on demand ([Channel.feeder]): what the feeder hears, and that its errors change nothing. */
@OptIn(InternalStacklessApi::class)
class ChannelFeederTest : FunSpec({
    test("the feeder hears each receiver before it waits, and one that leaves; a tasklet it sets up feeds it") {
        fresh {
            val log = mutableListOf<String>()
            val ch = Channel<Int>()
            var n = 0
            ch.feeder = object : ChannelFeeder {
                override fun receiverWaits() {
                    log += "waits (balance ${ch.balance})"
                    Tasklet { ch.send(++n) }.setup()
                }

                override fun receiverLeft() {
                    log += "left"
                }
            }
            Tasklet { log += "got ${ch.receive()}" }.setup()
            Stackless.run()
            log += "main got ${ch.receiveBlocking()}"
            val victim = Tasklet { ch.receive() }
            victim.setup()
            ch.feeder = object : ChannelFeeder {
                override fun receiverWaits() {
                    log += "waits again"
                }

                override fun receiverLeft() {
                    log += "left (balance ${ch.balance})"
                }
            }
            Stackless.run()
            ch.balance shouldBe -1
            victim.kill()
            log shouldBe listOf(
                "waits (balance 0)", "got 1", "waits (balance 0)", "main got 2", "waits again", "left (balance 0)",
            )
            Scheduler.forCurrentThread().checkInvariants()
            ch.checkInvariants()
        }
    }

    test("a feeder that throws fails the receive with the channel, the queue and the tempval as they were") {
        fresh {
            val ch = Channel<Int>()
            ch.feeder = object : ChannelFeeder {
                override fun receiverWaits() {
                    throw IllegalStateException("no more")
                }

                override fun receiverLeft() {}
            }
            val other = Tasklet { Stackless.schedule() }
            other.setup()
            val t = Tasklet {
                shouldThrow<IllegalStateException> { ch.receive() }.message shouldBe "no more"
                Stackless.current.tempval shouldBe null
            }
            t.setup()
            Stackless.run()
            t.alive shouldBe false
            ch.balance shouldBe 0
            Stackless.runCount shouldBe 1
            Scheduler.forCurrentThread().checkInvariants()
            ch.checkInvariants()
        }
    }
})
