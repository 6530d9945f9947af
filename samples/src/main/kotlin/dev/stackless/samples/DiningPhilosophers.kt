package dev.stackless.samples

import dev.stackless.lib.Lock
import dev.stackless.lib.sleep
import dev.stackless.lib.stackless
import dev.stackless.Tasklet
import kotlin.random.Random
import kotlin.time.Duration.Companion.milliseconds

/**
 * Dijkstra's dining philosophers, one tasklet each, a [Lock] per fork. Every philosopher picks up
 * the left fork, then tries the right one with a time limit; if it times out, it puts the left fork
 * down and tries again later, so the table never deadlocks even though everyone starts with the
 * left fork. Every philosopher eats all its meals; how often one backs off depends on timing.
 */
fun main() {
    val seats = 5
    val meals = 20
    val forks = List(seats) { Lock() }
    val eaten = IntArray(seats)
    var backOffs = 0
    val random = Random(42)

    stackless {
        for (p in 0 until seats) {
            val left = forks[p]
            val right = forks[(p + 1) % seats]
            Tasklet {
                while (eaten[p] < meals) {
                    sleep(random.nextLong(0, 3).milliseconds) // think
                    left.withLock {
                        // Everyone holds a left fork now and then: waiting forever for the right one
                        // would be the classic deadlock. Give up after 2 ms instead.
                        if (right.acquire(timeout = 2.milliseconds)) {
                            try {
                                sleep(1.milliseconds) // eat
                                eaten[p]++
                            } finally {
                                right.release()
                            }
                        } else {
                            backOffs++
                        }
                    }
                }
            }.apply { name = "philosopher-$p" }.setup()
        }
    }

    println("meals eaten: ${eaten.toList()} (each wanted $meals); ${backOffs} times a philosopher put a fork back")
    check(eaten.all { it == meals }) { "somebody starved: ${eaten.toList()}" }
    check(forks.none { it.locked }) { "a fork was never put down" }
}
