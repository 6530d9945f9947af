package dev.stackless.lib

import dev.stackless.InternalStacklessApi
import dev.stackless.SchedulerHooks
import dev.stackless.Timer
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.assertions.withClue
import io.kotest.common.ExperimentalKotest
import io.kotest.core.spec.style.StringSpec
import io.kotest.matchers.shouldBe
import io.kotest.property.Arb
import io.kotest.property.PropTestConfig
import io.kotest.property.arbitrary.bind
import io.kotest.property.arbitrary.boolean
import io.kotest.property.arbitrary.choice
import io.kotest.property.arbitrary.constant
import io.kotest.property.arbitrary.int
import io.kotest.property.arbitrary.list
import io.kotest.property.arbitrary.map
import io.kotest.property.checkAll

private const val HOUR = 3_600_000_000_000L
private const val DAY = 24 * HOUR

/** What a timer's callback does besides recording that it ran. */
private sealed interface Effect {
    data object None : Effect

    /** Cancels the timer made [index] (modulo the number made so far). */
    data class Cancel(val index: Int) : Effect

    /** Adds a one-shot timer far in the future, [k] breaking ties. */
    data class AddFuture(val k: Int) : Effect
}

private sealed interface Op {
    /** Adds a timer due [k] µs after a point long past (due now) or far in the future; [periodic] re-arms a day after it runs. */
    data class Add(val past: Boolean, val k: Int, val periodic: Boolean, val effect: Effect) : Op

    /** Cancels the timer made [index] (modulo the number made so far), whatever its state. */
    data class Cancel(val index: Int) : Op

    data object RunDue : Op
}

private val effectArb: Arb<Effect> = Arb.choice(
    Arb.constant(Effect.None),
    Arb.constant(Effect.None),
    Arb.int(0..1000).map { Effect.Cancel(it) },
    Arb.int(0..3).map { Effect.AddFuture(it) },
)

private val opArb: Arb<Op> = Arb.choice(
    Arb.bind(Arb.boolean(), Arb.int(0..3), Arb.int(0..9), effectArb) { past, k, p, e -> Op.Add(past, k, p == 0, e) },
    Arb.bind(Arb.boolean(), Arb.int(0..3), Arb.int(0..9), effectArb) { past, k, p, e -> Op.Add(past, k, p == 0, e) },
    Arb.int(0..1000).map { Op.Cancel(it) },
    Arb.constant(Op.RunDue),
)

/** The model: every timer with its deadline and insertion number, and which wait. Now is [base] + 1 h. */
private class Model(private val base: Long) {
    class Entry(val id: Int, var deadline: Long, var seq: Long, val periodic: Boolean, val effect: Effect)

    val entries = mutableListOf<Entry>()
    val pending = mutableSetOf<Int>()
    val ran = mutableListOf<Int>()
    val cancels = mutableListOf<Boolean>()
    private var nextSeq = 0L

    fun add(deadline: Long, periodic: Boolean, effect: Effect): Int {
        val e = Entry(entries.size, deadline, nextSeq++, periodic, effect)
        entries += e
        pending += e.id
        return e.id
    }

    fun cancel(index: Int): Boolean = pending.remove(entries[index % entries.size].id)

    fun runDue() {
        val limit = nextSeq
        val due = entries.filter { it.id in pending && it.deadline - (base + HOUR) <= 0 && it.seq < limit }
            .sortedWith(compareBy<Entry>({ it.deadline }, { it.seq }))
        for (e in due) {
            // An earlier callback of this batch may have cancelled it.
            if (e.id !in pending) continue
            pending -= e.id
            if (e.periodic) {
                e.deadline = base + HOUR + DAY
                e.seq = nextSeq++
                pending += e.id
            }
            ran += e.id
            when (val f = e.effect) {
                Effect.None -> Unit
                is Effect.Cancel -> cancels += cancel(f.index)
                is Effect.AddFuture -> add(base + 3 * HOUR + f.k * 1000L, false, Effect.None)
            }
        }
    }
}

/** The same operations on the calling thread's scheduler through [SchedulerHooks]. */
@OptIn(InternalStacklessApi::class)
private class Real(private val base: Long) {
    val timers = mutableListOf<Timer>()
    val ran = mutableListOf<Int>()
    val cancels = mutableListOf<Boolean>()

    fun add(deadline: Long, period: Long, effect: Effect): Int {
        val id = timers.size
        timers += SchedulerHooks.callAt(deadline, period) {
            ran += id
            when (effect) {
                Effect.None -> Unit
                is Effect.Cancel -> cancels += cancel(effect.index)
                is Effect.AddFuture -> add(base + 3 * HOUR + effect.k * 1000L, 0, Effect.None)
            }
        }
        return id
    }

    fun cancel(index: Int): Boolean = timers[index % timers.size].cancel()
}

@OptIn(InternalStacklessApi::class)
private fun check(ops: List<Op>) {
    // Far from now in both directions, so that what is due does not depend on when the check runs.
    val base = System.nanoTime() - HOUR
    val model = Model(base)
    val real = Real(base)
    for ((step, op) in ops.withIndex()) {
        when (op) {
            is Op.Add -> {
                val deadline = if (op.past) base + op.k * 1000L else base + 2 * HOUR + op.k * 1000L
                model.add(deadline, op.periodic, op.effect)
                real.add(deadline, if (op.periodic) DAY else 0, op.effect)
            }
            is Op.Cancel -> if (real.timers.isNotEmpty()) {
                withClue("cancel at step $step") { real.cancel(op.index) shouldBe model.cancel(op.index) }
            }
            Op.RunDue -> {
                val before = model.ran.size
                model.runDue()
                withClue("runDue at step $step") { SchedulerHooks.runDueTimers() shouldBe model.ran.size - before }
            }
        }
        withClue("after step $step ($op)") {
            real.ran shouldBe model.ran
            real.cancels shouldBe model.cancels
            SchedulerHooks.pendingTimers() shouldBe model.pending.size
        }
    }
    for (i in real.timers.indices) withClue("timer $i") { real.timers[i].isPending shouldBe (i in model.pending) }
}

@OptIn(ExperimentalKotest::class)
class TimerHeapPropertyTest : StringSpec({
    "the timer heap runs, orders and cancels like a sorted list (deadline, then insertion)" {
        checkAll(PropTestConfig(seed = 20_261_127L, iterations = 500), Arb.list(opArb, 0..80)) { ops ->
            fresh { check(ops) }
        }
    }

    "many timers with equal deadlines run in insertion order; cancelling every other one" {
        fresh {
            @OptIn(InternalStacklessApi::class)
            run {
                val deadline = System.nanoTime() - HOUR
                val ran = mutableListOf<Int>()
                val timers = List(1000) { i -> SchedulerHooks.callAt(deadline, 0) { ran += i } }
                for (i in 0 until 1000 step 2) timers[i].cancel() shouldBe true
                SchedulerHooks.pendingTimers() shouldBe 500
                SchedulerHooks.runDueTimers() shouldBe 500
                ran shouldBe (1 until 1000 step 2).toList()
                timers.none { it.isPending } shouldBe true
            }
        }
    }

    "a negative period is rejected" {
        fresh {
            @OptIn(InternalStacklessApi::class)
            run {
                shouldThrow<IllegalArgumentException> { SchedulerHooks.callAt(System.nanoTime(), -1) {} }.message shouldBe
                    "period must not be negative: -1"
                SchedulerHooks.pendingTimers() shouldBe 0
            }
        }
    }

    "a timer cancelled from another thread is removed by its owner" {
        fresh {
            @OptIn(InternalStacklessApi::class)
            run {
                var ran = false
                val t = SchedulerHooks.callAt(System.nanoTime() + HOUR, 0) { ran = true }
                var answer: Boolean? = null
                val other = Thread { answer = t.cancel() }
                other.start()
                other.join()
                answer shouldBe true
                SchedulerHooks.pendingTimers() shouldBe 1 // applied at the owner's next look at its inbox
                MainLoop.run()
                SchedulerHooks.pendingTimers() shouldBe 0
                t.isPending shouldBe false
                ran shouldBe false
            }
        }
    }

    // Core: TimerHeap.runDue stops at the first timer added during the batch, even when older due
    // timers sort after it (a callback added a timer with an earlier deadline): they wait for the
    // next call, contrary to "runs every timer due at now that existed when the call began".
    "a timer added by a callback with an earlier deadline does not hold back the due timers" {
        fresh {
            @OptIn(InternalStacklessApi::class)
            run {
                val base = System.nanoTime() - HOUR
                val ran = mutableListOf<String>()
                SchedulerHooks.callAt(base + 10, 0) {
                    ran += "a"
                    SchedulerHooks.callAt(base, 0) { ran += "added" }
                }
                SchedulerHooks.callAt(base + 20, 0) { ran += "b" }
                SchedulerHooks.runDueTimers() shouldBe 2
                ran shouldBe listOf("a", "b")
            }
        }
    }
})
