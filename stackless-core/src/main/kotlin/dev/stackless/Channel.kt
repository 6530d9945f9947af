package dev.stackless

import kotlin.coroutines.Continuation
import kotlin.coroutines.CoroutineContext
import kotlin.coroutines.intrinsics.COROUTINE_SUSPENDED
import kotlin.coroutines.intrinsics.suspendCoroutineUninterceptedOrReturn
import kotlin.coroutines.jvm.internal.CoroutineStackFrame

/**
 * A synchronous rendezvous channel with Stackless semantics: a [send] waits for a [receive] and the
 * other way round, tasklets waiting in FIFO order in the channel itself (not in the runnables
 * queue). Who runs after a rendezvous is set by [preference] and [scheduleAll] (docs/stackless.md §3.2).
 *
 * Values may be anything, `null` included; an exception sent with [sendException] is thrown by the
 * receiving side. A value is received exactly once: if a blocked sender is killed, its value is
 * dropped with it and the sender sees the [TaskletExit].
 *
 * Iterate it with `for (x in channel)` in a tasklet, or [blockingIterable] from Java: iteration ends
 * when the channel is [closing] and no sender is waiting, or when a [NoSuchElementException] is
 * sent (the JVM's `StopIteration`).
 *
 * A channel may be shared by tasklets of different threads. When the partner of a rendezvous
 * belongs to another thread, the values are exchanged, the partner is made runnable in its own
 * thread and the caller goes on without switching; [preference] and [scheduleAll] apply only
 * between tasklets of the same thread. A channel used by one thread takes no lock; the first time
 * another thread uses it, its first thread hands it over to a locked mode at its next switch or
 * when it is idle (at once if it has ended), and the other thread's operation waits for that.
 */
public class Channel<T> : java.io.Serializable {
    @JvmField @JvmSynthetic internal var head: Tasklet? = null
    @JvmField @JvmSynthetic internal var tail: Tasklet? = null
    @JvmField @JvmSynthetic internal var balanceField: Int = 0
    private var preferenceField: Int = -1
    @Volatile @JvmField @JvmSynthetic internal var closingField: Boolean = false

    /**
     * The scheduler that uses this channel without a lock (the first to use it), [SHARED] once
     * another thread has used it too (every operation then locks the channel), or null before use.
     */
    @Volatile @Transient @JvmField @JvmSynthetic internal var owner: Any? = null

    /**
     * [owner] as its owner last saw it, read without a fence on the hot path. Only the owner makes
     * [owner] point to itself or hands it over, both on its own thread, so this plain copy is exact
     * for the question the owner asks ("is it mine?"); any other thread finds it is not theirs.
     */
    @Transient @JvmField @JvmSynthetic internal var biasedOwner: Scheduler? = null

    /**
     * What a tasklet waiting here is waiting for, when the channel stands in for something else (a
     * lock's or a condition's queue of waiters): deadlock reports and tasklet descriptions name it
     * instead of the channel.
     */
    @InternalStacklessApi
    @Transient
    public var waitingFor: Any? = null

    /** The producer that feeds this channel on demand, told when receivers come and go; null: none. */
    @InternalStacklessApi
    @Transient
    public var feeder: ChannelFeeder? = null

    /** Waiting senders (positive) or receivers (negative). */
    public val balance: Int get() = if (owner === SHARED) synchronized(this) { balanceField } else balanceField

    /**
     * Who runs after a rendezvous: -1 (default) the receiver, 1 the sender, 0 the caller continues.
     * Any value is clamped to -1, 0 or 1.
     */
    public var preference: Int
        get() = preferenceField
        set(value) {
            preferenceField = value.coerceIn(-1, 1)
        }

    /** When true, both parties of a rendezvous go to the end of the runnables queue, partner first. */
    public var scheduleAll: Boolean = false

    /** [close] was called: an operation that would block throws [ChannelClosedException]. */
    public val closing: Boolean get() = closingField

    /** [closing] and nobody waits: every blocking operation fails. */
    public val closed: Boolean get() = closingField && balanceField == 0

    /** The first waiting tasklet (follow [Tasklet.next]), or null. */
    public val queue: Tasklet? get() = head

    /** Marks the channel closing. Waiting tasklets stay and can still be served; nobody is woken. */
    public fun close() {
        guard(Scheduler.forCurrentThreadOrNull()) { closingField = true }
    }

    /** Clears [closing]. */
    public fun open() {
        guard(Scheduler.forCurrentThreadOrNull()) { closingField = false }
    }

    /**
     * Sends [value], blocking until a receiver takes it.
     *
     * @throws ChannelClosedException if the send would block on a [closing] channel.
     * @throws DeadlockException if it would block and nothing could ever wake it.
     * @throws IllegalStateException "this tasklet does not like to be blocked." under [Tasklet.blockTrap].
     * @throws SwitchTrapException if it would switch under [Stackless.switchTrap].
     */
    public suspend fun send(value: T): Unit = suspendCoroutineUninterceptedOrReturn { cont ->
        val me = cont.taskletOrNull() ?: return@suspendCoroutineUninterceptedOrReturn sendBlocking(value)
        val result = me.suspendIf(action(me.ownerScheduler(), me, SEND, value), cont)
        if (result === COROUTINE_SUSPENDED) result else Unit
    }

    /** The blocking twin of [send]. */
    public fun sendBlocking(value: T) {
        Scheduler.blockingSwitchPoint { s, me -> action(s, me, SEND, value) }
    }

    /**
     * Receives a value, blocking until a sender offers one; throws the exception a sender sent with
     * [sendException]. Errors as for [send].
     */
    @Suppress("UNCHECKED_CAST")
    public suspend fun receive(): T = suspendCoroutineUninterceptedOrReturn<T> { cont ->
        val me = cont.taskletOrNull() ?: return@suspendCoroutineUninterceptedOrReturn receiveBlocking()
        me.suspendIf(action(me.ownerScheduler(), me, RECEIVE, null), cont)
    }

    /** The blocking twin of [receive]. */
    @Suppress("UNCHECKED_CAST")
    public fun receiveBlocking(): T = Scheduler.blockingSwitchPoint { s, me -> action(s, me, RECEIVE, null) } as T

    /**
     * Sends [e] to be thrown by the receiver, with the same rendezvous as [send]. (Stackless'
     * `send_exception`/`send_throw`; unlike Stackless, a sender blocked here while the queue empties
     * keeps its exception for the receiver instead of handing it to the watchdog.)
     */
    public suspend fun sendException(e: Throwable): Unit = suspendCoroutineUninterceptedOrReturn { cont ->
        val me = cont.taskletOrNull() ?: return@suspendCoroutineUninterceptedOrReturn sendExceptionBlocking(e)
        val result = me.suspendIf(action(me.ownerScheduler(), me, SEND, Bomb(e)), cont)
        if (result === COROUTINE_SUSPENDED) result else Unit
    }

    /** The blocking twin of [sendException]. */
    public fun sendExceptionBlocking(e: Throwable) {
        Scheduler.blockingSwitchPoint { s, me -> action(s, me, SEND, Bomb(e)) }
    }

    /**
     * Sends every value of [values] in turn, pulling each one only when the previous one has been
     * received, and returns how many were sent. An error (a closed channel, a kill) propagates and the
     * count is lost.
     */
    public suspend fun sendSequence(values: Iterable<T>): Int {
        var n = 0
        for (v in values) {
            send(v)
            n++
        }
        return n
    }

    /** The blocking twin of [sendSequence]. */
    public fun sendSequenceBlocking(values: Iterable<T>): Int {
        var n = 0
        for (v in values) {
            sendBlocking(v)
            n++
        }
        return n
    }

    /** Iterates in a tasklet: `for (x in channel)`; see the class comment for when it ends. */
    public operator fun iterator(): ChannelIterator<T> = SuspendIterator()

    /** Iterates with blocking receives, for Java: `for (T x : ch.blockingIterable())`. */
    @OptIn(InternalStacklessApi::class)
    public fun blockingIterable(): Iterable<T> = Iterable {
        BlockingReceiveIterator("channel") { if (closingField && balanceField <= 0) NONE else nextOrEnd { receiveBlocking() } }
    }

    /** `Channel@<identity>(balance=…, closing)`, as deadlock reports and dumps show it. */
    override fun toString(): String =
        "Channel@" + Integer.toHexString(System.identityHashCode(this)) + "(balance=$balanceField" +
            (if (closingField) ", closing)" else ")")

    // ---------------------------------------------------------------------------------------------

    /**
     * One send ([dir] 1) or receive ([dir] -1) by [me], the current tasklet of [s] (docs/stackless.md §3.2).
     * Returns true when [me] switched away. Every error leaves tempvals, the queue and the channel
     * as they were.
     */
    @JvmSynthetic internal fun action(s: Scheduler, me: Tasklet, dir: Int, value: Any?): Boolean {
        if (s.slowPath != 0) s.takeSlowPath(me, channelOp = true)
        if (biasedOwner !== s && !ownedBy(s)) return sharedAction(s, me, dir, value)
        val old = me.tempval
        me.tempval = if (dir > 0) value else null
        var canDo = canMatch(dir)
        val cb = Scheduler.channelCallback
        if (cb != null) {
            notifyChannel(s, cb, me, dir, canDo, old)
            // The callback may have killed or thrown to the partner, which then left the channel.
            canDo = canMatch(dir)
        }
        if (canDo) {
            val target = head!!
            if (target.scheduler !== s) {
                // Rebound to another thread while it waited here: from now on the channel is shared
                // (a channel callback then hears of this operation twice).
                share(s)
                me.tempval = old
                return sharedAction(s, me, dir, value)
            }
            return afterMatch(s, me, target, match(s, me, target, dir, old))
        }
        checkCanBlock(s, me, dir, old)
        val next = me.nextLink!!
        wait(s, me, dir)
        return switchAway(s, me, next, old)
    }

    /** Tells [feeder] that [me] is about to wait; a tasklet it sets up runs after [me] has switched away. */
    @OptIn(InternalStacklessApi::class)
    private fun askFeeder(s: Scheduler, me: Tasklet, old: Any?) {
        asChannelCallback(s, me, old) { feeder!!.receiverWaits() }
    }

    /** A waiter is there for an operation in direction [dir]. */
    @JvmSynthetic internal fun canMatch(dir: Int): Boolean = if (dir > 0) balanceField < 0 else balanceField > 0

    /**
     * [me] meets [target], a waiter of its own thread: it leaves the channel and the values are
     * exchanged. Returns whether [target] runs now (the preference). Under [Stackless.switchTrap] a
     * rendezvous that would switch fails with everything as it was.
     */
    @JvmSynthetic internal fun match(s: Scheduler, me: Tasklet, target: Tasklet, dir: Int, old: Any?): Boolean {
        val preferTarget = !scheduleAll && preferenceField == -dir
        if ((scheduleAll || preferTarget) && s.switchTrap != 0) {
            me.tempval = old
            throw SwitchTrapException()
        }
        removeWaiter(target)
        val mine = me.tempval
        me.tempval = target.tempval
        target.tempval = mine
        // Both hold a result now: a throw before either runs again must not replace it.
        target.opDone = true
        me.opDone = true
        return preferTarget
    }

    /** Who runs after [match] (docs/stackless.md §3.2); true when [me] switched away. */
    @JvmSynthetic internal fun afterMatch(s: Scheduler, me: Tasklet, target: Tasklet, preferTarget: Boolean): Boolean {
        if (preferTarget) {
            s.insertAfter(me, target)
            s.switchToPartner(me, target)
            return true
        }
        s.append(target)
        if (!scheduleAll) return false
        s.switchTo(me, me.nextLink!!)
        return true
    }

    /**
     * The errors of an operation in direction [dir] that would block, each leaving [me]'s tempval
     * as it was; then a receiver is announced to the [feeder], if any.
     */
    @OptIn(InternalStacklessApi::class)
    @JvmSynthetic internal fun checkCanBlock(s: Scheduler, me: Tasklet, dir: Int, old: Any?) {
        if (me.blockTrap) {
            me.tempval = old
            throw TaskletStateException("this tasklet does not like to be blocked.", me)
        }
        if (closingField) {
            me.tempval = old
            throw ChannelClosedException("Send/receive operation on a closed channel")
        }
        if (me.nextLink !== me && s.switchTrap != 0) {
            me.tempval = old
            throw SwitchTrapException()
        }
        if (dir < 0 && feeder != null) askFeeder(s, me, old)
    }

    /** [me] leaves the runnables queue to wait on this channel (the links serve both lists). */
    @JvmSynthetic internal fun wait(s: Scheduler, me: Tasklet, dir: Int) {
        s.unlink(me)
        addWaiter(me, dir)
    }

    /** [me] now waits on this channel: the scheduler goes on with [next], the tasklet that followed it. */
    @JvmSynthetic internal fun switchAway(s: Scheduler, me: Tasklet, next: Tasklet, old: Any?): Boolean {
        if (next !== me) {
            s.switchTo(me, next)
            return true
        }
        return s.blockOut(me, old)
    }


    @JvmSynthetic internal fun notifyChannel(s: Scheduler, cb: ChannelCallback, me: Tasklet, dir: Int, canDo: Boolean, old: Any?) {
        asChannelCallback(s, me, old) { cb.onChannel(this, me, dir > 0, !canDo) }
    }

    /** Runs [call] where no switch is allowed; if it throws, [me]'s tempval is [old] again. */
    private inline fun asChannelCallback(s: Scheduler, me: Tasklet, old: Any?, call: () -> Unit) {
        s.slowPath += IN_CHANNEL_CALLBACK
        try {
            call()
        } catch (e: Throwable) {
            me.tempval = old
            throw e
        } finally {
            s.slowPath -= IN_CHANNEL_CALLBACK
        }
    }

    @JvmSynthetic internal fun addWaiter(t: Tasklet, dir: Int) {
        val last = tail
        t.prevLink = last
        t.nextLink = null
        if (last == null) head = t else last.nextLink = t
        tail = t
        t.blocked = dir
        t.channel = this
        balanceField += dir
    }

    @JvmSynthetic internal fun removeWaiter(t: Tasklet) {
        unlinkWaiter(t)
        t.blocked = 0
        t.channel = null
    }

    /** Takes [t] out of the waiters' list and the balance, leaving its own fields to its thread. */
    @JvmSynthetic internal fun unlinkWaiter(t: Tasklet) {
        val n = t.nextLink
        val p = t.prevLink
        if (p == null) head = n else p.nextLink = n
        if (n == null) tail = p else n.prevLink = p
        balanceField -= t.blocked
        t.nextLink = null
        t.prevLink = null
    }

    /**
     * `for (x in channel)` in a tasklet. [hasNext] is a direct switch point, like [receive]: when it
     * blocks, this iterator stands in as the tasklet's frame and turns the value received into
     * `true` (kept for [next]) and a sent [NoSuchElementException] into `false`. Catching the
     * exception around a plain `receive()` instead would allocate a continuation per item.
     */
    private inner class SuspendIterator : ChannelIterator<T>, Continuation<Any?>, CoroutineStackFrame {
        private var value: Any? = NONE
        private var caller: Continuation<Boolean>? = null

        override suspend fun hasNext(): Boolean = suspendCoroutineUninterceptedOrReturn { cont ->
            if (closingField && balanceField <= 0) return@suspendCoroutineUninterceptedOrReturn false
            val me = cont.taskletOrNull() ?: return@suspendCoroutineUninterceptedOrReturn receivedBlocking()
            val s = me.ownerScheduler()
            if (s.afterSwitchPoint(me, action(s, me, RECEIVE, null))) {
                caller = cont
                me.frame = this
                COROUTINE_SUSPENDED
            } else {
                value = nextOrEnd { me.claim() }
                value !== NONE
            }
        }

        private fun receivedBlocking(): Boolean {
            value = nextOrEnd { receiveBlocking() }
            return value !== NONE
        }

        override val context: CoroutineContext get() = caller!!.context

        override fun resumeWith(result: Result<Any?>) {
            val c = caller!!
            caller = null
            val e = result.exceptionOrNull()
            when {
                e == null -> {
                    value = result.getOrNull()
                    c.resumeWith(Result.success(true))
                }
                e is NoSuchElementException -> c.resumeWith(Result.success(false))
                else -> c.resumeWith(Result.failure(e))
            }
        }

        override val callerFrame: CoroutineStackFrame? get() = caller as? CoroutineStackFrame

        override fun getStackTraceElement(): StackTraceElement? = null

        @OptIn(InternalStacklessApi::class)
        override fun next(): T {
            val v = value
            value = NONE
            return BlockingReceiveIterator.received(v)
        }
    }

    /** The value [receive] returns, or [NONE] when a sender ended the iteration with a [NoSuchElementException]. */
    private inline fun nextOrEnd(receive: () -> Any?): Any? = try {
        receive()
    } catch (_: NoSuchElementException) {
        NONE
    }

    private companion object {
        /** No value: the end of an iteration, or an iterator holding nothing yet. */
        @OptIn(InternalStacklessApi::class)
        val NONE: Any = BlockingReceiveIterator.END

        private const val serialVersionUID = 1L
    }
}

/** The direction of a send, as in [Tasklet.blocked] and the channel's balance. */
private const val SEND = 1

/** The direction of a receive. */
private const val RECEIVE = -1
