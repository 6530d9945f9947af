package dev.stackless.benchmarks

import dev.stackless.Stackless
import dev.stackless.Tasklet
import dev.stackless.lib.Lock
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.yield
import org.openjdk.jmh.annotations.Benchmark
import org.openjdk.jmh.annotations.BenchmarkMode
import org.openjdk.jmh.annotations.Fork
import org.openjdk.jmh.annotations.Measurement
import org.openjdk.jmh.annotations.Mode
import org.openjdk.jmh.annotations.OperationsPerInvocation
import org.openjdk.jmh.annotations.OutputTimeUnit
import org.openjdk.jmh.annotations.Scope
import org.openjdk.jmh.annotations.State
import org.openjdk.jmh.annotations.Warmup

/**
 * stacklesslib's [Lock], side by side with kotlinx's [Mutex] and `java.util.concurrent` locks.
 *
 * - `uncontended*`: ns per `tryAcquire`/`acquireBlocking` + `release` on a free lock from the main
 *   tasklet (target ≤ 20 ns); `Mutex.tryLock` + `unlock`; `ReentrantLock.lock` + `unlock`.
 * - `handOff*`: ns per hand-off between two tasklets that take turns holding the lock: the holder
 *   releases (handing the lock to the other, which waits in `acquire`) and waits in its own next
 *   `acquire`, so every iteration is one hand-off and one switch, like one channel hop.
 *   Target: ≤ 2 × a channel hop ([PingPongBenchmark.stackless], same run). kotlinx: two coroutines
 *   doing the same with a `Mutex` in `runBlocking`.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgs = [HEAP])
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
open class LockBenchmark {
    @JvmField val lock: Lock = Lock()
    @JvmField val mutex: Mutex = Mutex()
    @JvmField val reentrant: java.util.concurrent.locks.ReentrantLock = java.util.concurrent.locks.ReentrantLock()
    @JvmField var count: Long = 0

    @Benchmark
    fun uncontendedTryAcquire(): Long {
        if (lock.tryAcquire()) count++
        lock.release()
        return count
    }

    @Benchmark
    fun uncontendedAcquireBlocking(): Long {
        if (lock.acquireBlocking()) count++
        lock.release()
        return count
    }

    @Benchmark
    fun uncontendedKotlinxMutex(): Long {
        if (mutex.tryLock()) count++
        mutex.unlock()
        return count
    }

    @Benchmark
    fun uncontendedReentrantLock(): Long {
        reentrant.lock()
        count++
        reentrant.unlock()
        return count
    }

    @Benchmark
    @OperationsPerInvocation(HAND_OFFS)
    fun handOffStackless(): Long {
        count = 0
        val lock = Lock()
        repeat(2) { n ->
            Tasklet {
                lock.acquire()
                // The first holder lets the other one run into acquire and wait there.
                if (n == 0) Stackless.schedule()
                repeat(HAND_OFFS / 2) {
                    count++
                    lock.release() // hands the lock to the waiting tasklet
                    lock.acquire() // waits: the other one runs, and hands it back
                }
                lock.release()
            }.setup()
        }
        Stackless.run()
        return checked(count, HAND_OFFS.toLong())
    }

    @Benchmark
    @OperationsPerInvocation(HAND_OFFS)
    fun handOffKotlinxMutex(): Long {
        count = 0
        val mutex = Mutex()
        runBlocking {
            repeat(2) { n ->
                launch {
                    mutex.lock()
                    if (n == 0) yield()
                    repeat(HAND_OFFS / 2) {
                        count++
                        mutex.unlock()
                        mutex.lock()
                    }
                    mutex.unlock()
                }
            }
        }
        return checked(count, HAND_OFFS.toLong())
    }

    companion object {
        const val HAND_OFFS = 200_000
    }
}
