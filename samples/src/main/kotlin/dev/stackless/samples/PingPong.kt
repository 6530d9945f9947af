package dev.stackless.samples

import dev.stackless.Channel
import dev.stackless.Stackless
import dev.stackless.Tasklet
import kotlin.system.measureNanoTime

/**
 * Two tasklets play ping-pong over a pair of channels: the first rounds are printed, then a
 * million rounds are timed. Everything runs on the main thread, one tasklet at a time.
 */
fun main() {
    val toPong = Channel<Int>()
    val toPing = Channel<Int>()

    val ping = Tasklet {
        for (i in 1..3) {
            println("ping sends $i")
            toPong.send(i)
            println("ping got ${toPing.receive()}")
        }
        toPong.send(-1)
    }.apply { name = "ping" }
    val pong = Tasklet {
        while (true) {
            val ball = toPong.receive()
            if (ball < 0) break
            println("pong got $ball, returns ${ball * 10}")
            toPing.send(ball * 10)
        }
        println("pong done")
    }.apply { name = "pong" }

    ping.setup()
    pong.setup()
    Stackless.run()

    val rounds = 1_000_000
    val nanos = measureNanoTime {
        Tasklet { repeat(rounds) { toPong.send(it); toPing.receive() } }.setup()
        Tasklet { repeat(rounds) { toPing.send(toPong.receive()) } }.setup()
        Stackless.run()
    }
    println("$rounds round trips (${2 * rounds} channel hops) in ${nanos / 1_000_000} ms: " +
        "${"%.1f".format(nanos.toDouble() / (2 * rounds))} ns per hop")
}
