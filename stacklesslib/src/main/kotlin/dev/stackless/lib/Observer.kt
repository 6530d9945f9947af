package dev.stackless.lib

import java.lang.ref.WeakReference

/**
 * A [Waitable] that passes on the signal of another waitable, [observed], when [filter] agrees
 * (stacklesslib's `Observer`). Subclasses add a condition by overriding [filter]; observers of
 * observers make chains, the signal going as far as the filters let it.
 *
 * The observer registers on [observed] through a weak reference: [observed] does not keep it
 * alive, and an observer nobody else refers to is collected (its callback left behind is then a
 * no-op, dropped later). [close] unregisters it at once.
 *
 * A signal of [observed] that [filter] rejects re-arms the observer, unless [observed] stays
 * signalled (the callback would come back at once): it goes on watching for a later signal.
 * If [observed] is already signalled, the observer gets its callback while it is constructed.
 */
public open class Observer(observed: Waitable) : WaitSite() {
    /** The waitable observed, or null once [close]d. */
    @Volatile public var observed: Waitable? = observed
        private set

    /** Whether [observed] has signalled since this observer was made. */
    @Volatile public var gotCallback: Boolean = false
        private set

    private val proxy = WeakObserverCallback(this)

    /** False while the constructor runs: nobody can wait on this observer yet, nor ask its [filter]. */
    private var constructed = false

    init {
        observed.addDoneCallback(proxy)
        constructed = true
    }

    /**
     * Whether a signal of [observed] reaches this observer's waiters; true here. It must not block
     * or switch: it runs inside the signal of [observed].
     */
    public open fun filter(): Boolean = true

    /** [gotCallback] and [filter] agrees. */
    override val isSignalled: Boolean get() = gotCallback && filter()

    /** Stops observing: later signals of [observed] no longer reach this observer. */
    public fun close() {
        val o = observed ?: return
        observed = null
        o.removeDoneCallback(proxy)
    }

    /** The signal of [source], as [proxy] passes it on. */
    @JvmSynthetic internal fun onObserved(source: Waitable) {
        if (observed !== source) return
        gotCallback = true
        if (!constructed) return
        if (filter()) {
            signal()
        } else if (!source.isSignalled && observed === source) {
            source.addDoneCallback(proxy)
        }
    }

    /** `Observer(<observed>)`, for deadlock reports. */
    override fun toString(): String = "${javaClass.simpleName}($observed)"
}

/** An [Observer] that passes on signals of a [WaitChannel] when a receive would not block: `balance > 0`. */
public open class Receivable(channel: WaitChannel<*>) : Observer(channel) {
    private val channel = channel

    /** Whether a sender is waiting in the channel. */
    override fun filter(): Boolean = channel.balance > 0
}

/** An [Observer] that passes on signals of a [WaitChannel] when a send would not block: `balance < 0`. */
public open class Sendable(channel: WaitChannel<*>) : Observer(channel) {
    private val channel = channel

    /** Whether a receiver is waiting in the channel. */
    override fun filter(): Boolean = channel.balance < 0
}

/**
 * The callback an [Observer] registers: it holds the observer weakly, so that what it observes
 * does not keep it alive, and does nothing once the observer is collected.
 */
internal class WeakObserverCallback(observer: Observer) : (Waitable) -> Unit {
    private val ref = WeakReference(observer)

    /** The observer was collected. */
    val isCleared: Boolean get() = ref.get() == null

    override fun invoke(source: Waitable) {
        ref.get()?.onObserved(source)
    }
}
