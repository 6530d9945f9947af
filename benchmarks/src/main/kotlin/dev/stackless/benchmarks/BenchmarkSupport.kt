package dev.stackless.benchmarks

/*
 * Shared by the benchmark classes: JVM options (annotation arguments must be compile-time constants)
 * and a result check.
 *
 * Every class: @Fork(value = 1, jvmArgs = [HEAP]). The `virtualThreadsOneCarrier` methods fork with
 * @Fork(value = 1, jvmArgs = [HEAP], jvmArgsAppend = [ONE_CARRIER, ONE_CARRIER_MAX]): a method-level
 * @Fork replaces the class-level one, so it repeats the heap size. SkynetBenchmark adds [HEAP_FIXED] and
 * [YOUNG_1G] to both.
 */

/** Heap of every forked benchmark JVM (skynet keeps about a million tasks alive at its peak). */
const val HEAP = "-Xmx2g"

/**
 * Skynet only: a fixed heap with a 1 GB young generation. Skynet keeps up to 1.1 M tasks (300-800 MB)
 * alive at its peak; with G1's default sizing (young generation grown from a 1/64-of-RAM heap) every
 * young collection copies that live set, and a cold invocation under `runBlocking` or on virtual
 * threads took 2.5-3.5 s instead of 1-1.5 s. The same options apply to every system of the class.
 */
const val HEAP_FIXED = "-Xms2g"

/** See [HEAP_FIXED]. */
const val YOUNG_1G = "-Xmn1g"

/** One carrier thread for virtual threads (JDK 21+; ignored by JDK 17). */
const val ONE_CARRIER = "-Djdk.virtualThreadScheduler.parallelism=1"

/** ...and no compensating carriers either. */
const val ONE_CARRIER_MAX = "-Djdk.virtualThreadScheduler.maxPoolSize=1"

/** Returns [actual], or fails the benchmark when the workload did not compute [expected]. */
internal fun checked(actual: Long, expected: Long): Long {
    if (actual != expected) throw IllegalStateException("expected $expected, got $actual")
    return actual
}
