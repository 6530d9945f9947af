package dev.stackless.benchmarks

import dev.stackless.Stackless
import dev.stackless.Tasklet
import kotlinx.coroutines.channels.Channel as KChannel
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.yield
import dev.stackless.Channel as StacklessChannel

/**
 * What a real program does to the JIT's profile before [PollutedBenchmark] measures: many tasklet
 * bodies (each a continuation class of its own), channels of several element types and
 * preferences, exceptions through channels, iteration, the blocking twins from the main tasklet,
 * kills, and kotlinx.coroutines' switches and channels in the same JVM. Every workload checks its
 * result, so none is optimized away. (A counter is never updated as `n += receive()`: Kotlin reads
 * `n` before the call suspends, and another task's update in between would be lost.)
 */
internal object Pollution {
    private const val OPS = 5_000

    @Volatile private var sink: Long = 0

    fun run(rounds: Int) {
        repeat(rounds) {
            var total = 0L
            total += scheduleWithValues()
            total += scheduleInNestedFunctions()
            total += removeAndInsert()
            total += pingPong("s", "t")
            total += pingPong(1L, 2L)
            total += pingPong(1.5, 2.5)
            total += pingPong(Any(), Any())
            total += preferences()
            total += exceptionsAndIteration()
            total += ring()
            total += blockingFromMain()
            total += kills()
            total += kotlinx()
            sink += total
        }
    }

    private fun scheduleWithValues(): Long {
        var n = 0L
        Tasklet { repeat(OPS) { if (Stackless.schedule("x") == "x") n++ } }.setup()
        Tasklet { repeat(OPS) { if (Stackless.schedule(it) == it) n++ } }.setup()
        Stackless.run()
        return checked(n, 2L * OPS)
    }

    private suspend fun nestedYield(depth: Int): Int {
        if (depth == 0) {
            Stackless.schedule()
            return 1
        }
        return nestedYield(depth - 1) + 1
    }

    private fun scheduleInNestedFunctions(): Long {
        var n = 0L
        repeat(3) { d -> Tasklet { repeat(OPS / 3) { val k = nestedYield(d); n += k } }.setup() }
        Stackless.run()
        return n
    }

    private fun removeAndInsert(): Long {
        var n = 0L
        lateinit var sleeper: Tasklet
        sleeper = Tasklet {
            repeat(OPS) {
                Stackless.scheduleRemove()
                n++
            }
        }.setup()
        Tasklet {
            repeat(OPS) {
                Stackless.schedule()
                if (sleeper.alive && !sleeper.scheduled) sleeper.insert()
            }
            while (sleeper.alive) {
                if (!sleeper.scheduled) sleeper.insert()
                Stackless.schedule()
            }
        }.setup()
        Stackless.run()
        return n
    }

    private fun <T : Any> pingPong(first: T, second: T): Long {
        val ping = StacklessChannel<T>()
        val pong = StacklessChannel<T>()
        var n = 0L
        Tasklet { repeat(OPS) { pong.send(if (ping.receive() === first) second else first) } }.setup()
        Tasklet {
            repeat(OPS) {
                ping.send(first)
                if (pong.receive() === second) n++
            }
        }.setup()
        Stackless.run()
        return checked(n, OPS.toLong())
    }

    private fun preferences(): Long {
        var n = 0L
        for (pref in -1..1) {
            val ch = StacklessChannel<Int>().apply { preference = pref }
            Tasklet { repeat(OPS / 3) { val v = ch.receive(); n += v } }.setup()
            Tasklet { repeat(OPS / 3) { ch.send(1) } }.setup()
            Stackless.run()
        }
        return checked(n, 3L * (OPS / 3))
    }

    private fun exceptionsAndIteration(): Long {
        val ch = StacklessChannel<String>()
        var n = 0L
        Tasklet {
            repeat(OPS / 10) {
                try {
                    ch.receive()
                } catch (_: IllegalArgumentException) {
                    n++
                }
            }
            for (s in ch) n += s.length // the value is in hand before n is read
        }.setup()
        Tasklet {
            repeat(OPS / 10) { ch.sendException(IllegalArgumentException("poke")) }
            ch.sendSequence(List(OPS) { "ab" })
            ch.sendException(NoSuchElementException())
        }.setup()
        Stackless.run()
        return checked(n, OPS / 10L + 2L * OPS)
    }

    private fun ring(): Long {
        val size = 8
        val channels = List(size) { StacklessChannel<Int>() }
        var n = 0L
        for (i in 1 until size) Tasklet { repeat(OPS / size) { channels[(i + 1) % size].send(channels[i].receive() + 1) } }.setup()
        Tasklet {
            repeat(OPS / size) {
                channels[1].send(0)
                val v = channels[0].receive()
                n += v
            }
        }.setup()
        Stackless.run()
        return checked(n, (size - 1).toLong() * (OPS / size))
    }

    private fun blockingFromMain(): Long {
        val ch = StacklessChannel<Long>()
        Tasklet { repeat(OPS / 5) { ch.send(ch.receive() * 2) } }.setup()
        var n = 0L
        repeat(OPS / 5) {
            ch.sendBlocking(it.toLong())
            n += ch.receiveBlocking() // main alone: nothing else touches n
        }
        Stackless.run()
        return n
    }

    private fun kills(): Long {
        val ch = StacklessChannel<Int>()
        val victims = List(OPS / 50) { Tasklet { ch.receive() }.setup() }
        Stackless.run()
        victims.forEach { it.killBlocking() }
        return checked(victims.count { !it.alive }.toLong(), victims.size.toLong())
    }

    private fun kotlinx(): Long {
        var n = 0L
        runBlocking {
            val ping = KChannel<String>(KChannel.RENDEZVOUS)
            val buffered = KChannel<Long>(16)
            launch { repeat(OPS) { yield(); n++ } }
            launch { repeat(OPS) { yield(); n++ } }
            launch { repeat(OPS) { ping.send("p") } }
            launch { repeat(OPS) { val v = ping.receive(); n += v.length } }
            launch { repeat(OPS) { buffered.send(1L) } }
            launch { repeat(OPS) { val v = buffered.receive(); n += v } }
        }
        return checked(n, 4L * OPS)
    }
}
