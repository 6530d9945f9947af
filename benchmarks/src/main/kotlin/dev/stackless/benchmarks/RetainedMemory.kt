@file:JvmName("RetainedMemoryKt")

package dev.stackless.benchmarks

import dev.stackless.Stackless
import dev.stackless.Tasklet
import java.lang.management.ManagementFactory
import java.util.concurrent.SynchronousQueue
import javax.management.ObjectName
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.cancelChildren
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import dev.stackless.Channel as StacklessChannel
import kotlinx.coroutines.channels.Channel as KChannel

/**
 * Retained heap per task blocked in `receive()` on one shared channel, [DEFAULT_TASKS] tasks:
 *
 * - Stackless: N tasklets `{ ch.receive() }`, set up and run with `Stackless.run()`, which returns
 *   once all of them are blocked; released by a tasklet sending N values.
 * - kotlinx: N coroutines launched in `runBlocking` with `start = UNDISPATCHED` (each runs at once
 *   into `receive()` of a shared rendezvous channel); released by cancelling them.
 * - Virtual threads (JDK 21+; skipped with a message on older JDKs): N virtual threads blocked in
 *   `take()` of a shared `SynchronousQueue`; released by interrupting them. Their `Thread` references
 *   are kept in an array allocated before the baseline reading, so it is not counted.
 *
 * Used heap is read after repeated System.gc() before and while the tasks are blocked; the
 * difference / N is the figure. A class histogram (DiagnosticCommand gcClassHistogram, the same as
 * `jcmd <pid> GC.class_histogram`) before and while blocked gives the per-class breakdown.
 *
 * The last lines are machine-readable, one per system measured: `RESULT memory <system> <bytes-per-task>`
 * with system `stackless`, `kotlinxRunBlocking` or `virtualThreads` (absent when skipped).
 *
 * Run: java -Xmx2g -cp benchmarks/target/benchmarks.jar dev.stackless.benchmarks.RetainedMemoryKt [N]
 */
fun main(args: Array<String>) {
    val n = args.getOrNull(0)?.toInt() ?: DEFAULT_TASKS
    println("Retained heap per task blocked in receive(), N = $n, ${System.getProperty("java.vm.name")} ${System.getProperty("java.version")}")
    // A small warm-up of every path, so that class loading and scheduler creation are not counted.
    stackless(1000, report = false)
    kotlinx(1000, report = false)
    if (VirtualThreads.supported) virtualThreads(1000, report = false)
    val results = LinkedHashMap<String, Double>()
    results["stackless"] = stackless(n, report = true)
    results["kotlinxRunBlocking"] = kotlinx(n, report = true)
    if (VirtualThreads.supported) {
        results["virtualThreads"] = virtualThreads(n, report = true)
    } else {
        println()
        println("Virtual threads: skipped, they need JDK 21+ (running ${System.getProperty("java.version")})")
    }
    println()
    for ((system, bytes) in results) println("RESULT memory $system ${"%.1f".format(java.util.Locale.ROOT, bytes)}")
}

private const val DEFAULT_TASKS = 1_000_000

/** Returns the retained bytes per blocked task (0 when not [report]ing). */
private fun stackless(n: Int, report: Boolean): Double {
    var perTask = 0.0
    val ch = StacklessChannel<Any>()
    val before = usedAfterGc()
    val histBefore = if (report) histogram() else emptyMap()
    repeat(n) {
        Tasklet { ch.receive() }.setup()
    }
    Stackless.run()
    check(ch.balance == -n) { "expected $n blocked receivers, balance ${ch.balance}" }
    if (report) {
        val blocked = usedAfterGc()
        perTask = printResult("Stackless", n, before, blocked, histBefore, histogram())
    }
    // Release: one tasklet feeds every receiver; each receiver then ends.
    val token = Any()
    Tasklet {
        repeat(n) { ch.send(token) }
    }.setup()
    Stackless.run()
    check(ch.balance == 0) { "balance ${ch.balance} after release" }
    if (report) println("  after release: used heap ${fmt(usedAfterGc() - before)} bytes above baseline")
    return perTask
}

private fun kotlinx(n: Int, report: Boolean): Double {
    var perTask = 0.0
    var before = 0L
    runBlocking {
        val ch = KChannel<Any>(KChannel.RENDEZVOUS)
        before = usedAfterGc()
        val histBefore = if (report) histogram() else emptyMap()
        repeat(n) {
            launch(start = CoroutineStart.UNDISPATCHED) { ch.receive() }
        }
        if (report) {
            val blocked = usedAfterGc()
            perTask = printResult("kotlinx", n, before, blocked, histBefore, histogram())
        }
        coroutineContext.cancelChildren()
    }
    if (report) println("  after release: used heap ${fmt(usedAfterGc() - before)} bytes above baseline")
    return perTask
}

private fun virtualThreads(n: Int, report: Boolean): Double {
    var perTask = 0.0
    val factory = VirtualThreads.factory()
    val queue = SynchronousQueue<Any>()
    val threads = arrayOfNulls<Thread>(n) // before the baseline: not counted
    val body = Runnable {
        try {
            queue.take()
        } catch (_: InterruptedException) {
            // released
        }
    }
    val before = usedAfterGc()
    val histBefore = if (report) histogram() else emptyMap()
    for (i in 0 until n) threads[i] = factory.newThread(body).also { it.start() }
    awaitWaiting(threads)
    if (report) {
        val blocked = usedAfterGc()
        perTask = printResult("Virtual threads", n, before, blocked, histBefore, histogram())
    }
    for (t in threads) t!!.interrupt()
    for (i in 0 until n) {
        threads[i]!!.join()
        threads[i] = null
    }
    if (report) println("  after release: used heap ${fmt(usedAfterGc() - before)} bytes above baseline")
    return perTask
}

/** Waits until every thread of [threads] is parked (WAITING), i.e. blocked in `take()`. */
private fun awaitWaiting(threads: Array<Thread?>) {
    var from = 0
    while (from < threads.size) {
        if (threads[from]!!.state == Thread.State.WAITING) from++ else Thread.sleep(10)
    }
}

/** Prints the retained heap and its histogram breakdown; returns the bytes per task. */
private fun printResult(
    name: String,
    n: Int,
    before: Long,
    blocked: Long,
    h0: Map<String, LongArray>,
    h1: Map<String, LongArray>,
): Double {
    val delta = blocked - before
    println()
    println("$name: used heap ${fmt(before)} -> ${fmt(blocked)} bytes, retained ${fmt(delta)} bytes = %.1f bytes per blocked task".format(delta.toDouble() / n))
    // Per-class growth, largest first; classes adding < 0.5 byte per task are left out.
    val rows = h1.mapNotNull { (cls, v) ->
        val old = h0[cls] ?: LongArray(2)
        val dInst = v[0] - old[0]
        val dBytes = v[1] - old[1]
        if (dBytes.toDouble() / n >= 0.5) Triple(cls, dInst, dBytes) else null
    }.sortedByDescending { it.third }
    println("  histogram growth (GC.class_histogram, blocked minus baseline):")
    println("  %12s %14s %10s %8s  %s".format("instances", "bytes", "B/instance", "B/task", "class"))
    var sum = 0L
    for ((cls, dInst, dBytes) in rows) {
        sum += dBytes
        val per = if (dInst != 0L) "%.1f".format(dBytes.toDouble() / dInst) else "-"
        println("  %12d %14d %10s %8.1f  %s".format(dInst, dBytes, per, dBytes.toDouble() / n, cls))
    }
    println("  %12s %14d %10s %8.1f  %s".format("", sum, "", sum.toDouble() / n, "(sum of the rows above)"))
    return delta.toDouble() / n
}

/** Used heap after GCs, once two readings in a row agree within 64 KB (at most 10 rounds). */
private fun usedAfterGc(): Long {
    val mem = ManagementFactory.getMemoryMXBean()
    var last = Long.MAX_VALUE
    repeat(10) {
        System.gc()
        Thread.sleep(100)
        val used = mem.heapMemoryUsage.used
        if (kotlin.math.abs(used - last) < 64 * 1024) return used
        last = used
    }
    return last
}

/** class name -> [instances, bytes], from the in-process `GC.class_histogram` (a full GC first). */
private fun histogram(): Map<String, LongArray> {
    val text = ManagementFactory.getPlatformMBeanServer().invoke(
        ObjectName("com.sun.management:type=DiagnosticCommand"),
        "gcClassHistogram",
        arrayOf<Any>(arrayOf<String>()),
        arrayOf("[Ljava.lang.String;"),
    ) as String
    val row = Regex("""^\s*\d+:\s+(\d+)\s+(\d+)\s+(\S+)""")
    val out = HashMap<String, LongArray>()
    for (line in text.lineSequence()) {
        val m = row.find(line) ?: continue
        out[m.groupValues[3]] = longArrayOf(m.groupValues[1].toLong(), m.groupValues[2].toLong())
    }
    return out
}

private fun fmt(v: Long): String = "%,d".format(v)
