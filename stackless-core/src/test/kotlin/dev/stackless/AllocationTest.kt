package dev.stackless

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeLessThan
import java.lang.management.ManagementFactory

/**
 * The hot path allocates nothing: a switch, a channel hop under every preference, and an item of
 * `for (x in channel)`. The bodies send a preallocated object so that boxing is not counted. This
 * does not depend on the JIT: the code paths allocate nothing even when interpreted.
 */
class AllocationTest : FunSpec({
    val mx = ManagementFactory.getThreadMXBean() as com.sun.management.ThreadMXBean
    fun allocated(): Long = mx.getThreadAllocatedBytes(Thread.currentThread().id)
    val n = 200_000

    fun bytesPer(ops: Int, setup: () -> Unit): Double {
        setup()
        Stackless.run() // warm up, and let every class load
        setup()
        val before = allocated()
        Stackless.run()
        return (allocated() - before).toDouble() / ops
    }

    test("schedule() allocates nothing per switch") {
        fresh {
            bytesPer(2 * n) {
                Tasklet { repeat(n) { Stackless.schedule() } }.setup()
                Tasklet { repeat(n) { Stackless.schedule() } }.setup()
            } shouldBeLessThan 0.5
        }
    }

    test("a channel hop allocates nothing, whatever the preference") {
        fresh {
            val ball = Any()
            val ch = Channel<Any>()
            for (preference in -1..1) {
                ch.preference = preference
                bytesPer(n) {
                    Tasklet { repeat(n) { ch.send(ball) } }.setup()
                    Tasklet { repeat(n) { ch.receive() } }.setup()
                } shouldBeLessThan 0.5
            }
        }
    }

    test("iterating a channel allocates nothing per item") {
        fresh {
            val ball = Any()
            val ch = Channel<Any>()
            bytesPer(n) {
                ch.open()
                Tasklet { repeat(n) { ch.send(ball) }; ch.close() }.setup()
                Tasklet { for (x in ch) check(x === ball) }.setup()
            } shouldBeLessThan 0.5
        }
    }
})
