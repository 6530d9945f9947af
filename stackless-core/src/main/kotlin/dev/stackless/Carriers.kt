package dev.stackless

import java.lang.invoke.MethodHandle
import java.lang.invoke.MethodHandles
import java.lang.invoke.MethodType

/**
 * Threads that carry hard-switched tasklets: virtual threads on JDK 21+, platform daemon threads
 * on JDK 17 (the build targets 17, so the virtual-thread factory is looked up reflectively).
 */
internal object Carriers {
    private val virtualBuilder: MethodHandle? = try {
        val builderType = Class.forName("java.lang.Thread\$Builder\$OfVirtual")
        MethodHandles.publicLookup().findStatic(Thread::class.java, "ofVirtual", MethodType.methodType(builderType))
    } catch (_: ReflectiveOperationException) {
        null
    }

    private val unstarted: MethodHandle? = virtualBuilder?.let {
        val builder = Class.forName("java.lang.Thread\$Builder")
        MethodHandles.publicLookup().findVirtual(
            builder, "unstarted", MethodType.methodType(Thread::class.java, Runnable::class.java),
        )
    }

    private val named: MethodHandle? = virtualBuilder?.let {
        val builder = Class.forName("java.lang.Thread\$Builder")
        MethodHandles.publicLookup().findVirtual(
            builder, "name", MethodType.methodType(builder, String::class.java),
        )
    }

    /** True when carriers are virtual threads. */
    val virtual: Boolean get() = virtualBuilder != null

    /** A new, unstarted carrier thread. */
    fun newThread(name: String, body: Runnable): Thread {
        if (virtualBuilder != null) {
            val builder = named!!.invoke(virtualBuilder.invoke(), name)
            return unstarted!!.invoke(builder, body) as Thread
        }
        return Thread(body, name).apply { isDaemon = true }
    }
}
