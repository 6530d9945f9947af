package dev.stackless.benchmarks

import java.lang.invoke.MethodHandles
import java.lang.invoke.MethodType
import java.util.concurrent.SynchronousQueue
import java.util.concurrent.ThreadFactory

/**
 * Virtual threads for code compiled with `release 17`: `Thread.ofVirtual().factory()` looked up once
 * through [MethodHandles], so the module never references a JDK 21 API. The factory is safe for
 * concurrent use (skynet's virtual threads start their children from several carriers) and its
 * threads are plain [Thread]s, so the benchmarks call `start()`/`join()` directly.
 *
 * On JDK 17 (and on 19/20 without `--enable-preview`) [factory] throws
 * `UnsupportedOperationException("virtual threads need JDK 21+")`; the CI smoke run on JDK 17
 * excludes those benchmarks with `-e virtualThreads`.
 */
object VirtualThreads {
    private val factoryOrNull: ThreadFactory? = try {
        val lookup = MethodHandles.publicLookup()
        val builder = Class.forName("java.lang.Thread\$Builder")
        val ofVirtualType = Class.forName("java.lang.Thread\$Builder\$OfVirtual")
        val ofVirtual = lookup.findStatic(Thread::class.java, "ofVirtual", MethodType.methodType(ofVirtualType))
        val factory = lookup.findVirtual(builder, "factory", MethodType.methodType(ThreadFactory::class.java))
        factory.invoke(ofVirtual.invoke()) as ThreadFactory
    } catch (_: Throwable) { // ClassNotFoundException on 17, UnsupportedOperationException (preview) on 19/20
        null
    }

    /** True on JDK 21+. */
    val supported: Boolean get() = factoryOrNull != null

    /** A factory of unstarted virtual threads. */
    fun factory(): ThreadFactory = factoryOrNull ?: throw UnsupportedOperationException("virtual threads need JDK 21+")

    /** Starts [task] on a new virtual thread. */
    fun start(task: Runnable): Thread = factory().newThread(task).also { it.start() }

    /**
     * [roundTrips] round trips of [ball] between two new virtual threads over two
     * [SynchronousQueue]s (`ping` one way, `pong` back); returns how many times the ball came back.
     */
    fun pingPong(roundTrips: Int, ball: Any): Long {
        val ping = SynchronousQueue<Any>()
        val pong = SynchronousQueue<Any>()
        var received = 0L
        val echo = factory().newThread {
            repeat(roundTrips) {
                pong.put(ping.take())
            }
        }
        val server = factory().newThread {
            var n = 0L
            repeat(roundTrips) {
                ping.put(ball)
                if (pong.take() === ball) n++
            }
            received = n
        }
        echo.start()
        server.start()
        echo.join()
        server.join()
        return received
    }
}
