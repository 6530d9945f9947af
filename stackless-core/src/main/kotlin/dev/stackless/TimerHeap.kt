package dev.stackless

/**
 * A scheduler's timers: a binary min-heap ordered by deadline, then by creation order, in which
 * each timer knows its index, so that cancelling one is O(log n) instead of a scan.
 * Touched only by the scheduler's own thread.
 */
@OptIn(InternalStacklessApi::class)
internal class TimerHeap {
    private var heap = arrayOfNulls<Timer>(16)

    /** Number of waiting timers. */
    @JvmField var size: Int = 0

    private var nextSeq = 0L

    /** The earliest deadline; only meaningful when [size] > 0. */
    fun firstDeadline(): Long = heap[0]!!.deadline

    fun add(t: Timer) {
        check(t.index < 0) { "$t is already waiting" }
        t.seq = nextSeq++
        if (size == heap.size) heap = heap.copyOf(size * 2)
        heap[size] = t
        t.index = size
        size++
        siftUp(t.index)
    }

    /** Removes [t] if it waits here; false if it does not. */
    fun remove(t: Timer): Boolean {
        val i = t.index
        if (i < 0 || heap[i] !== t) return false
        removeAt(i)
        return true
    }

    private fun removeAt(i: Int) {
        val t = heap[i]!!
        size--
        val last = heap[size]!!
        heap[size] = null
        t.index = -1
        if (i == size) return
        heap[i] = last
        last.index = i
        siftDown(i)
        if (last.index == i) siftUp(i)
    }

    /**
     * Runs every timer due at [now] that existed when the call began (one added by a callback waits
     * for the next call, so a callback that re-arms itself cannot loop forever). A repeating timer is
     * re-armed before its callback runs, [Timer.period] after [now]. [run] executes each callback.
     * Returns the number run.
     */
    inline fun runDue(now: Long, run: (Timer) -> Unit): Int {
        val limit = nextSeq
        var n = 0
        while (size > 0) {
            val t = heap[0]!!
            if (t.deadline - now > 0 || t.seq >= limit) break
            removeAt(0)
            if (t.period > 0) {
                t.deadline = now + t.period
                add(t)
            }
            n++
            run(t)
        }
        return n
    }

    private fun less(a: Timer, b: Timer): Boolean {
        val d = a.deadline - b.deadline
        return d < 0 || (d == 0L && a.seq < b.seq)
    }

    private fun siftUp(start: Int) {
        var i = start
        val t = heap[i]!!
        while (i > 0) {
            val p = (i - 1) ushr 1
            val parent = heap[p]!!
            if (!less(t, parent)) break
            heap[i] = parent
            parent.index = i
            i = p
        }
        heap[i] = t
        t.index = i
    }

    private fun siftDown(start: Int) {
        var i = start
        val t = heap[i]!!
        while (true) {
            var c = 2 * i + 1
            if (c >= size) break
            val r = c + 1
            if (r < size && less(heap[r]!!, heap[c]!!)) c = r
            val child = heap[c]!!
            if (!less(child, t)) break
            heap[i] = child
            child.index = i
            i = c
        }
        heap[i] = t
        t.index = i
    }
}
