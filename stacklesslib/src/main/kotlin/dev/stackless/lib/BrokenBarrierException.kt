package dev.stackless.lib

/**
 * A [Barrier] is broken, or was reset while the tasklet waited: thrown by [Barrier.await]
 * (Python's `BrokenBarrierError`).
 */
public class BrokenBarrierException(message: String = "barrier is broken") : RuntimeException(message)
