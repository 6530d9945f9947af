package dev.stackless.samples

import dev.stackless.Channel
import dev.stackless.Stackless
import dev.stackless.Tasklet

/**
 * A producer/consumer pipeline: a producer emits numbers, three workers square them, a consumer
 * sums them. Stages are joined by rendezvous channels.
 *
 * A reader already blocked in a channel is not woken by `close()` (Stackless semantics), so each
 * stage ends its readers' `for` loops by sending them a [NoSuchElementException], the JVM's
 * `StopIteration`: one per reader.
 */
fun main() {
    val numbers = Channel<Int>()
    val squares = Channel<Long>()
    val workers = 3
    val count = 10_000

    Tasklet {
        numbers.sendSequence(1..count)
        repeat(workers) { numbers.sendException(NoSuchElementException()) }
    }.apply { name = "producer" }.setup()

    var finished = 0
    repeat(workers) { w ->
        Tasklet {
            var handled = 0
            for (n in numbers) {
                squares.send(n.toLong() * n)
                handled++
            }
            println("worker $w squared $handled numbers")
            if (++finished == workers) squares.sendException(NoSuchElementException())
        }.apply { name = "worker-$w" }.setup()
    }

    var sum = 0L
    var received = 0
    Tasklet {
        for (s in squares) {
            sum += s
            received++
        }
    }.apply { name = "consumer" }.setup()

    Stackless.run()
    val expected = count.toLong() * (count + 1) * (2L * count + 1) / 6
    println("consumer received $received squares, sum $sum (expected $expected)")
    check(sum == expected && received == count) { "pipeline lost or duplicated a value" }
}
