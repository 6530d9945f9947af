package dev.stackless.lib

/**
 * What both executors remember of their jobs: the futures not yet done (for a waiting shutdown;
 * a done one is forgotten at once, so that finished jobs are not kept alive), and whether the
 * executor is shut down.
 */
internal class JobTracker : DoneListener {
    private val pending = HashSet<Future<*>>()
    private var shutDown = false

    val isShutdown: Boolean get() = synchronized(this) { shutDown }

    /**
     * Remembers [f], a new future, until it is done.
     *
     * @throws IllegalStateException after [shutdown].
     */
    fun track(f: Future<*>) {
        synchronized(this) {
            check(!shutDown) { "cannot schedule new futures after shutdown" }
            pending.add(f)
        }
        f.listen(this)
    }

    override fun onDone(f: Future<*>) {
        synchronized(this) { pending.remove(f) }
    }

    /** Refuses new jobs from now on and returns the futures still pending. */
    private fun close(): List<Future<Any?>> = synchronized(this) {
        shutDown = true
        @Suppress("UNCHECKED_CAST")
        pending.toList() as List<Future<Any?>>
    }

    suspend fun shutdown(wait: Boolean) {
        val left = close()
        if (wait) wait(left)
    }

    fun shutdownBlocking(wait: Boolean) {
        val left = close()
        if (wait) waitBlocking(left)
    }
}
