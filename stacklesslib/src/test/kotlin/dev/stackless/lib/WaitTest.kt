package dev.stackless.lib

import dev.stackless.InternalStacklessApi
import dev.stackless.SchedulerHooks
import dev.stackless.Tasklet
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.StringSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.types.shouldBeSameInstanceAs
import java.io.IOException
import java.util.concurrent.CancellationException
import kotlin.time.Duration
import kotlin.time.Duration.Companion.microseconds
import kotlin.time.Duration.Companion.milliseconds

/**
 * Futures that complete with their own delay (in microseconds) at `t0 + delay`: a delay of 0
 * completes at once, the others from timers of the calling thread. Timers run in deadline order
 * even when the loop is late, so the completion order is exact.
 */
@OptIn(InternalStacklessApi::class)
private fun delayed(vararg delaysMicros: Long): List<Future<Long>> {
    val t0 = System.nanoTime()
    return delaysMicros.map { d ->
        val f = Future<Long>()
        if (d == 0L) f.setResult(d) else SchedulerHooks.callAt(t0 + d * 1000, 0) { f.setResult(d) }
        f
    }
}

/** The delays of [fs], in their order. */
private fun delays(fs: Iterable<Future<Long>>): List<Long> = fs.map { it.resultBlocking(Duration.ZERO) }

class WaitTest : StringSpec({
    "scenario 65: wait(ALL) and asCompleted give the completion order" {
        fresh {
            stackless {
                val input = longArrayOf(1000, 2000, 0, 100, 0, 2500)
                val w = wait(delayed(*input))
                delays(w.done) shouldBe listOf(0L, 0, 100, 1000, 2000, 2500)
                w.notDone shouldBe emptySet()
                val order = mutableListOf<Long>()
                for (f in asCompleted(delayed(*input))) order += f.result()
                order shouldBe listOf(0L, 0, 100, 1000, 2000, 2500)
            }
        }
    }

    "scenario 65: the first four of asCompleted are the four smallest" {
        fresh {
            stackless {
                val fs = delayed(1000, 2000, 0, 100, 0, 3000, 25_000)
                val iter = asCompleted(fs).iterator()
                val firstFour = mutableListOf<Long>()
                repeat(4) {
                    iter.hasNext() shouldBe true
                    firstFour += iter.next().result()
                }
                firstFour shouldBe listOf(0L, 0, 100, 1000)
                // Read to the end: the futures left keep their timers, which the loop waits for.
                while (iter.hasNext()) iter.next()
            }
        }
    }

    "asCompleted read partly, or not at all, leaves nothing blocked: the loop ends" {
        fresh {
            val never = Future<Int>()
            val done = Future<Int>().apply { setResult(1) }
            var partly: dev.stackless.Channel<Future<Int>>? = null
            stackless {
                asCompleted(listOf(never, done))
                val ch = asCompleted(listOf(never, done))
                partly = ch
                val iter = ch.iterator()
                iter.hasNext() shouldBe true
                iter.next() shouldBeSameInstanceAs done
            }
            // A reader that comes back later waits for the rest, which here a timeout ends; the
            // feeding tasklet stops waiting with it, so the loop ends again.
            stackless {
                val e = shouldThrow<TaskletTimeoutException> {
                    timeout(5.milliseconds) { for (f in partly!!) f.result() }
                }
                e.message shouldBe "timed out after 5ms"
            }
        }
    }

    "scenario 67: the budget is for the whole iteration" {
        fresh {
            stackless {
                // The last one never completes.
                val fs = delayed(1000, 2000, 0, 3000, 0, 4000) + Future()
                val got = mutableListOf<Long>()
                val t0 = System.nanoTime()
                val e = shouldThrow<TaskletTimeoutException> {
                    for (f in asCompleted(fs, 3500.microseconds)) got += f.result()
                }
                (System.nanoTime() - t0 >= 3_500_000) shouldBe true
                e.message shouldBe "timed out after 3.5ms"
                // How many came in time depends on the machine; their order does not.
                got shouldBe listOf(0L, 0, 1000, 2000, 3000, 4000).take(got.size)
                (got.size >= 2 && got.size < fs.size) shouldBe true
                // Without raising: wait() gives the partial answer.
                val never = Future<Long>()
                val w = wait(delayed(0, 1000) + never, 50.milliseconds)
                delays(w.done) shouldBe listOf(0L, 1000)
                w.notDone shouldBe setOf(never)
            }
        }
    }

    "scenario 67: a zero budget delivers the futures already done, then raises" {
        fresh {
            stackless {
                val fs = delayed(0, 0, 0, 1000)
                val got = mutableListOf<Future<Long>>()
                val e = shouldThrow<TaskletTimeoutException> { for (f in asCompleted(fs, Duration.ZERO)) got += f }
                e.message shouldBe "timed out after 0s"
                got shouldBe fs.take(3)
                wait(fs)
            }
        }
    }

    "asCompleted delivers the done ones first in input order, each future once, then ends" {
        fresh {
            val done1 = Future<Int>().apply { setResult(1) }
            val done2 = Future<Int>().apply { cancel() }
            val later = Future<Int>()
            val got = mutableListOf<Future<Int>>()
            stackless {
                Tasklet { sleep(5.milliseconds); later.setResult(3) }.setup()
                for (f in asCompleted(listOf(later, done2, done1, done2))) got += f
            }
            got shouldBe listOf(done2, done1, later)
        }
    }

    "asCompleted of nothing ends at once; a budget that ends while waiting raises after it" {
        fresh {
            stackless {
                var n = 0
                for (f in asCompleted(emptyList<Future<Int>>())) n++
                n shouldBe 0
                val never = Future<Int>()
                val done = Future<Int>().apply { setResult(1) }
                val got = mutableListOf<Future<Int>>()
                val t0 = System.nanoTime()
                shouldThrow<TaskletTimeoutException> {
                    for (f in asCompleted(listOf(never, done), 20.milliseconds)) got += f
                }.message shouldBe "timed out after 20ms"
                (System.nanoTime() - t0 >= 20_000_000) shouldBe true
                got shouldBe listOf(done)
            }
        }
    }

    "asCompleted from the main tasklet with blockingIterable" {
        fresh {
            val fs = delayed(2000, 0, 1000)
            delays(asCompleted(fs).blockingIterable().toList()) shouldBe listOf(0L, 1000, 2000)
        }
    }

    "a kill of the reader loses no future: the next reader gets the rest" {
        fresh {
            val fs = delayed(0, 1000, 2000)
            val got = mutableListOf<Long>()
            stackless {
                val ch = asCompleted(fs)
                val first = Tasklet {
                    for (f in ch) got += f.result()
                }.setup()
                // It runs once the first reader has its first future and waits for the next one.
                Tasklet {
                    first.kill()
                    for (f in ch) got += -f.result()
                }.setup()
            }
            got shouldBe listOf(0L, -1000, -2000)
        }
    }

    "wait(FIRST_COMPLETED) returns all the futures already done" {
        fresh {
            stackless {
                val fs = delayed(5000, 0, 0, 10_000)
                val w = wait(fs, returnWhen = ReturnWhen.FIRST_COMPLETED)
                w shouldBe DoneAndNotDone(setOf(fs[1], fs[2]), setOf(fs[0], fs[3]))
                val never = Future<Long>()
                val gs = listOf(never) + delayed(1000) + never
                val v = wait(gs, returnWhen = ReturnWhen.FIRST_COMPLETED)
                delays(v.done) shouldBe listOf(1000L)
                v.notDone shouldBe setOf(never)
                wait(fs)
            }
        }
    }

    "wait(FIRST_EXCEPTION) stops at a failure, not at a cancellation" {
        fresh {
            stackless {
                val cancelled = Future<Long>().apply { cancel() }
                val failing = Future<Long>()
                val fs = delayed(1000, 100_000)
                Tasklet { sleep(2.milliseconds); failing.setException(IOException("x")) }.setup()
                val w = wait(listOf(cancelled, fs[0], failing, fs[1]), returnWhen = ReturnWhen.FIRST_EXCEPTION)
                w.done shouldBe setOf(cancelled, fs[0], failing)
                w.notDone shouldBe setOf(fs[1])
                // Without a failure it waits for all.
                val gs = delayed(1000, 2000)
                wait(gs + cancelled, returnWhen = ReturnWhen.FIRST_EXCEPTION).notDone shouldBe emptySet()
                wait(fs)
            }
        }
    }

    "wait with a zero timeout does not wait; wait of nothing is empty" {
        fresh {
            stackless {
                val fs = delayed(0, 1000)
                wait(fs, Duration.ZERO) shouldBe DoneAndNotDone(setOf(fs[0]), setOf(fs[1]))
                wait(emptyList<Future<Long>>()) shouldBe DoneAndNotDone(emptySet(), emptySet())
                wait(fs)
            }
        }
    }

    "waitBlocking from the main tasklet, with a java.time.Duration" {
        fresh {
            val third = Future<Long>()
            val fs = delayed(1000, 0) + third
            val w = waitBlocking(fs, java.time.Duration.ofMillis(20))
            delays(w.done) shouldBe listOf(0L, 1000)
            w.notDone shouldBe setOf(third)
            third.setResult(3)
            waitBlocking(fs, ReturnWhen.ALL_COMPLETED).notDone shouldBe emptySet()
            waitBlocking(fs).done shouldBe fs.toSet()
        }
    }

    "a waiter killed or timed out in wait() leaves the futures to the others" {
        fresh {
            val f = Future<Int>()
            val log = mutableListOf<String>()
            stackless {
                val victim = Tasklet { wait(listOf(f)); log += "not reached" }.setup()
                Tasklet {
                    try {
                        timeout(5.milliseconds) { wait(listOf(f)) }
                    } catch (e: TaskletTimeoutException) {
                        log += e.message!!
                    }
                }.setup()
                Tasklet { log += "all " + wait(listOf(f)).done.size }.setup()
                Tasklet {
                    sleep(10.milliseconds)
                    victim.kill()
                    f.setResult(1)
                }.setup()
            }
            log shouldBe listOf("timed out after 5ms", "all 1")
        }
    }

    "scenario 59: allResults in input order, anyResult the first one" {
        fresh {
            stackless {
                allResults(delayed(2000, 1000, 0)) shouldBe listOf(2000L, 1000, 0)
                anyResult(delayed(2000, 1000, 3000)) shouldBe 1000L
                anyResult(delayed(2000, 0, 0)) shouldBe 0L
                val boom = IOException("boom")
                val failed = Future<Long>().apply { setException(boom) }
                shouldThrow<IOException> { anyResult(listOf(Future(), failed)) } shouldBeSameInstanceAs boom
                shouldThrow<IOException> { allResults(delayed(0) + failed) } shouldBeSameInstanceAs boom
                shouldThrow<CancellationException> { allResults(listOf(Future<Long>().apply { cancel() })) }
                shouldThrow<TaskletTimeoutException> { allResults(delayed(0) + Future(), 10.milliseconds) }.message shouldBe
                    "timed out after 10ms"
                shouldThrow<TaskletTimeoutException> { anyResult(listOf(Future<Long>()), 10.milliseconds) }.message shouldBe
                    "timed out after 10ms"
                shouldThrow<NoSuchElementException> { anyResult(emptyList<Future<Long>>()) }.message shouldBe
                    "anyResult() of no futures"
            }
            allResultsBlocking(delayed(1000, 0)) shouldBe listOf(1000L, 0)
            anyResultBlocking(delayed(1000, 500)) shouldBe 500L
        }
    }
})
