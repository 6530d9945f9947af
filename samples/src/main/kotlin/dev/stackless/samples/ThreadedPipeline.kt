package dev.stackless.samples

import dev.stackless.Channel
import dev.stackless.Stackless
import dev.stackless.Tasklet
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.CountDownLatch
import kotlin.concurrent.thread

/**
 * A pipeline spread over three threads, each with its own scheduler and several tasklets:
 *
 *     source thread      2 producers   ids 0 until ITEMS, half each      -> raw
 *     transform thread   4 workers     raw -> (id, id²) -> cooked       (fan-out: whoever is free)
 *     sink thread        3 collectors  cooked -> tally of every id       (fan-in)
 *
 * The stages are joined by rendezvous channels shared between threads. When a sender meets a
 * receiver of another thread, the value is handed over, the receiver is made runnable in its own
 * thread and the sender goes on without switching. Each stage thread runs its tasklets with
 * `Stackless.runAll()`: it parks (no CPU) while they all wait on the other threads and returns once
 * every one of them has ended. The main thread waits for the sink's report on a channel: its main
 * tasklet blocks in `receiveBlocking()`, parked until the sink thread sends.
 *
 * As in Pipeline.kt, a stage ends its readers' `for` loops by sending them one
 * [NoSuchElementException] (the JVM's `StopIteration`) each. Only main prints, and only figures that
 * do not depend on timing: which worker of a stage handled which item varies from run to run.
 */
fun main() {
    // Deadlock detection counts only the threads that have a scheduler, and a thread alone finds a
    // deadlock at once. So every thread gets its scheduler before anything may block: main here (it
    // then waits in plain code, which counts as able to make progress), each stage thread when it
    // creates its tasklets; neither main nor a stage blocks before all three stages have ([started]).
    Stackless.main
    val raw = Channel<Int>()
    val cooked = Channel<Item>()
    val reports = Channel<Report>()
    val failures = ConcurrentLinkedQueue<Throwable>()
    val started = CountDownLatch(3)

    val source = stage("source", started, failures) {
        val perProducer = ITEMS / PRODUCERS
        var finished = 0
        List(PRODUCERS) { p ->
            Tasklet {
                raw.sendSequence(p * perProducer until (p + 1) * perProducer)
                if (++finished == PRODUCERS) repeat(WORKERS) { raw.sendException(NoSuchElementException()) }
            }.apply { name = "producer-$p" }.setup()
        }
    }

    val transform = stage("transform", started, failures) {
        var finished = 0
        List(WORKERS) { w ->
            Tasklet {
                for (id in raw) cooked.send(Item(id, id.toLong() * id))
                if (++finished == WORKERS) repeat(COLLECTORS) { cooked.sendException(NoSuchElementException()) }
            }.apply { name = "worker-$w" }.setup()
        }
    }

    val sink = stage("sink", started, failures) {
        val seen = IntArray(ITEMS)
        var received = 0
        var wrongValues = 0
        var finished = 0
        List(COLLECTORS) { c ->
            Tasklet {
                for (item in cooked) {
                    seen[item.id]++
                    received++
                    if (item.square != item.id.toLong() * item.id) wrongValues++
                }
                if (++finished == COLLECTORS) {
                    reports.send(Report(
                        received = received,
                        distinct = seen.count { it > 0 },
                        missing = seen.count { it == 0 },
                        duplicated = seen.count { it > 1 },
                        wrongValues = wrongValues,
                    ))
                }
            }.apply { name = "collector-$c" }.setup()
        }
    }

    started.await()
    // The main thread's main tasklet parks here until the sink thread sends its report.
    val received: Report? = try {
        reports.receiveBlocking()
    } catch (e: Exception) {
        failures.forEach { e.addSuppressed(it) }
        throw e
    }
    val report = checkNotNull(received) { "receiveBlocking() returned null instead of the sink's report" }
    val stages = listOf(source, transform, sink)
    stages.forEach { it.thread.join() }
    failures.peek()?.let { throw IllegalStateException("a stage failed", it) }

    println("threaded pipeline: $ITEMS items through ${stages.size} stages, each on its own thread")
    for (s in stages) {
        println("  %-9s thread: %d tasklets, all ran on it and ended: %s".format(s.name, s.tasklets, s.ownedAndEnded))
    }
    println("  sink received ${report.received} items: ${report.distinct} distinct ids, " +
        "${report.missing} missing, ${report.duplicated} duplicated, ${report.wrongValues} wrong squares")
    val ok = report.received == ITEMS && report.distinct == ITEMS && report.missing == 0 &&
        report.duplicated == 0 && report.wrongValues == 0 && stages.all { it.ownedAndEnded }
    println(if (ok) "every item arrived exactly once" else "FAILED: items lost, duplicated or altered")
    check(ok) { "the threaded pipeline lost, duplicated or altered an item" }
}

private const val ITEMS = 30_000
private const val PRODUCERS = 2
private const val WORKERS = 4
private const val COLLECTORS = 3

private class Item(val id: Int, val square: Long)

private class Report(val received: Int, val distinct: Int, val missing: Int, val duplicated: Int, val wrongValues: Int)

/** A stage thread and what main reads after joining it. */
private class Stage(val name: String) {
    lateinit var thread: Thread
    @Volatile var tasklets = 0
    @Volatile var ownedAndEnded = false
}

/**
 * Starts a thread named [name] whose [setup] creates the stage's tasklets (they belong to that
 * thread), counts down [started] and waits for the other stages to do so, then runs them with
 * `Stackless.runAll()` until all have ended.
 */
private fun stage(
    name: String,
    started: CountDownLatch,
    failures: MutableCollection<Throwable>,
    setup: () -> List<Tasklet>,
): Stage {
    val stage = Stage(name)
    stage.thread = thread(name = name) {
        try {
            val tasklets = try {
                setup()
            } finally {
                started.countDown()
            }
            stage.tasklets = tasklets.size
            started.await()
            val me = Thread.currentThread().id
            val owned = tasklets.all { it.threadId == me }
            Stackless.runAll()
            stage.ownedAndEnded = owned && tasklets.none { it.alive }
        } catch (e: Throwable) {
            failures += e
        }
    }
    return stage
}
