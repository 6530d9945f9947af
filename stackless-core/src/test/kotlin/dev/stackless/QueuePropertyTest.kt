package dev.stackless

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.property.Arb
import io.kotest.property.PropTestConfig
import io.kotest.property.RandomSource
import io.kotest.property.arbitrary.arbitrary
import io.kotest.property.arbitrary.bind
import io.kotest.property.arbitrary.list
import io.kotest.property.checkAll
import java.util.Collections
import java.util.IdentityHashMap
import kotlin.math.abs
import kotlin.math.sign
import kotlin.random.Random

/**
 * Random sequences of operations by the main tasklet of a fresh thread on a pool of 5 tasklet slots
 * and 2 channels, run in lock step with a small reference model of Stackless' scheduler (docs/stackless.md §1.2, §2.5–2.11,
 * §3.2, §4.2–4.4, §4.8, §4.9, §8). After EVERY operation (failed ones included):
 *  - the internal structures are walked: the runnables circle (next/prev agree, contains current, length ==
 *    runCount, members runnable), each channel's waiter list (linear, length == |balance|, members blocked in
 *    the balance's direction on that channel), no tasklet in two places, flags agree with the places;
 *  - the implementation is compared with the model: the outcome of the operation (value or exception type and
 *    first message line, deadlock reports as the set of tasklets named), the event log of the tasklet bodies,
 *    the order of the runnables queue, every channel's waiters and balance, and every tasklet's state and tempval;
 *  - every value received was sent, and none is received twice.
 */
class QueuePropertyTest : FunSpec({
    test("random operation sequences keep the queues consistent and agree with the model") {
        val stats = Collections.synchronizedMap(HashMap<String, Int>())
        checkAll(PropTestConfig(seed = 20240611L, iterations = 300), scenarioArb) { sc ->
            fresh { QpRun(sc, stats).go() }
        }
        // The generator must actually reach the failure paths the test is about.
        for (k in listOf(
            "TaskletStateException: The current tasklet cannot be removed.",
            "TaskletStateException: You cannot run a blocked tasklet",
            "TaskletStateException: You cannot run an unbound(dead) tasklet",
            "TaskletStateException: this tasklet does not like to be blocked.",
            "ChannelClosedException: Send/receive operation on a closed channel",
            "SwitchTrapException: switch_trap",
            "DeadlockException: Deadlock: the last runnable tasklet cannot be blocked.",
            "DeadlockException: the main tasklet is receiving without a sender available.",
            "IllegalArgumentException: thrown",
            "TaskletExit: null",
            "main ok",
        )) {
            withClue(k) { (stats[k] ?: 0) shouldBeGreaterThan 0 }
        }
        println("QueuePropertyTest outcome counts: " + stats.toSortedMap())
    }
})

private inline fun <T> withClue(clue: String, block: () -> T): T = io.kotest.assertions.withClue(clue, block)

// -------------------------------------------------------------------------------------------------
// Scenarios

private sealed interface QpAct {
    data class Send(val c: Int) : QpAct
    data class Recv(val c: Int) : QpAct
    data object Sched : QpAct
    data object SchedRemove : QpAct
    data object Raise : QpAct
}

private enum class QpMode { SETUP, PAUSED, BOUND }

private const val MAIN = -1

private sealed interface QpOp {
    data class Create(val slot: Int, val script: List<QpAct>, val mode: QpMode, val blockTrap: Boolean) : QpOp
    data class Setup(val target: Int) : QpOp
    data class Insert(val target: Int) : QpOp
    data class Remove(val target: Int) : QpOp
    data class RunT(val target: Int) : QpOp
    data class SwitchT(val target: Int) : QpOp
    data class Kill(val target: Int, val pending: Boolean) : QpOp
    data class ThrowT(val target: Int, val pending: Boolean) : QpOp
    data class Send(val c: Int) : QpOp
    data class Recv(val c: Int) : QpOp
    data object Run : QpOp
    data object Schedule : QpOp
    data object ScheduleRemove : QpOp
    data class Close(val c: Int) : QpOp
    data class Open(val c: Int) : QpOp
    data class Trapped(val inner: QpOp) : QpOp
    data class BlockTrapped(val inner: QpOp) : QpOp
    data object BindMain : QpOp
}

private data class QpScenario(val prefs: List<Int>, val scheduleAll: List<Boolean>, val ops: List<QpOp>)

private const val SLOTS = 5
private const val CHANNELS = 2

private fun Random.target(): Int = if (nextInt(10) == 0) MAIN else nextInt(SLOTS)

private fun Random.act(): QpAct = when (nextInt(100)) {
    in 0 until 28 -> QpAct.Send(nextInt(CHANNELS))
    in 28 until 56 -> QpAct.Recv(nextInt(CHANNELS))
    in 56 until 78 -> QpAct.Sched
    in 78 until 92 -> QpAct.SchedRemove
    else -> QpAct.Raise
}

private fun Random.op(): QpOp = when (nextInt(100)) {
    in 0 until 20 -> QpOp.Create(
        nextInt(SLOTS), List(1 + nextInt(6)) { act() },
        when (nextInt(20)) { in 0 until 15 -> QpMode.SETUP; in 15 until 18 -> QpMode.PAUSED; else -> QpMode.BOUND },
        nextInt(10) == 0,
    )
    in 20 until 23 -> QpOp.Setup(target())
    in 23 until 28 -> QpOp.Insert(target())
    in 28 until 33 -> QpOp.Remove(target())
    in 33 until 39 -> QpOp.RunT(target())
    in 39 until 43 -> QpOp.SwitchT(target())
    in 43 until 49 -> QpOp.Kill(target(), nextBoolean())
    in 49 until 52 -> QpOp.ThrowT(target(), nextBoolean())
    in 52 until 60 -> QpOp.Send(nextInt(CHANNELS))
    in 60 until 68 -> QpOp.Recv(nextInt(CHANNELS))
    in 68 until 78 -> QpOp.Run
    in 78 until 83 -> QpOp.Schedule
    in 83 until 86 -> QpOp.ScheduleRemove
    in 86 until 88 -> QpOp.Close(nextInt(CHANNELS))
    in 88 until 91 -> QpOp.Open(nextInt(CHANNELS))
    in 91 until 96 -> QpOp.Trapped(
        when (nextInt(8)) {
            0 -> QpOp.Schedule
            1 -> QpOp.Run
            2 -> QpOp.RunT(target())
            3 -> QpOp.SwitchT(target())
            4 -> QpOp.Kill(target(), false)
            5 -> QpOp.Send(nextInt(CHANNELS))
            6 -> QpOp.Recv(nextInt(CHANNELS))
            else -> QpOp.ScheduleRemove
        },
    )
    in 96 until 99 -> QpOp.BlockTrapped(if (nextBoolean()) QpOp.Send(nextInt(CHANNELS)) else QpOp.Recv(nextInt(CHANNELS)))
    else -> QpOp.BindMain
}

private val opArb: Arb<QpOp> = arbitrary { rs: RandomSource -> rs.random.op() }
private val chanArb: Arb<Pair<List<Int>, List<Boolean>>> = arbitrary { rs: RandomSource ->
    val r = rs.random
    List(CHANNELS) { when (r.nextInt(10)) { in 0 until 6 -> -1; in 6 until 8 -> 0; else -> 1 } } to
        List(CHANNELS) { r.nextInt(100) < 15 }
}
private val scenarioArb: Arb<QpScenario> =
    Arb.bind(chanArb, Arb.list(opArb, 1..60)) { c, ops -> QpScenario(c.first, c.second, ops) }

private fun mainValue(opIndex: Int) = 1_000_000 + opIndex
private fun taskletValue(serial: Int, k: Int) = serial * 100 + k

// -------------------------------------------------------------------------------------------------
// One run: the implementation and the model in lock step

private class QpRun(val sc: QpScenario, val stats: MutableMap<String, Int>) {
    // ---- the implementation
    val log = ArrayList<String>()
    val chans = List(CHANNELS) { i -> Channel<Int>().apply { preference = sc.prefs[i]; scheduleAll = sc.scheduleAll[i] } }
    val slots = arrayOfNulls<Tasklet>(SLOTS)
    val known = ArrayList<Tasklet>()
    var serial = 0
    val sent = HashSet<Int>()
    val received = HashSet<Int>()
    lateinit var s: Scheduler

    // ---- the model
    val m = QpModel(sc)

    fun go() {
        s = Stackless.current.scheduler!!
        known += Stackless.main
        check(Stackless.runCount == 1)
        for ((i, op) in sc.ops.withIndex()) {
            val before = log.size
            val got = exec(i, op)
            val want = m.exec(i, op)
            val where = "op #$i $op"
            count(got, before)
            if (got != want) fail("$where: outcome\n  impl:  $got\n  model: $want\n  log: $log")
            if (log != m.log) fail("$where: log diverged after entry $before\n  impl:  ${log.drop(before)}\n  model: ${m.log.drop(before)}")
            for (e in log.subList(before, log.size)) countGot(e.substringAfter(" got ", "").toIntOrNull(), where)
            if (got.startsWith("ok got ")) countGot(got.removePrefix("ok got ").toInt(), where)
            checkStructure(where)
            compareWithModel(where)
        }
    }

    private fun count(outcome: String, before: Int) {
        val k = if (outcome.startsWith("ok")) "main ok" else outcome.removePrefix("err ").substringBefore(" [")
        stats.merge(k.replace(Regex("raise-\\d+"), "raise-N"), 1, Int::plus)
        for (e in log.subList(before, log.size)) if (" err " in e) stats.merge(e.substringAfter(" err ").substringBefore(" ["), 1, Int::plus)
    }

    private fun countGot(v: Int?, where: String) {
        if (v == null) return
        if (v !in sent) fail("$where: received $v which was never sent")
        if (!received.add(v)) fail("$where: value $v received twice")
    }

    private fun target(t: Int): Tasklet? = if (t == MAIN) Stackless.main else slots[t]

    fun exec(i: Int, op: QpOp): String = try {
        execRaw(i, op)
    } catch (e: Throwable) {
        "err " + describe(e)
    }

    private fun execRaw(i: Int, op: QpOp): String {
        when (op) {
            is QpOp.Create -> {
                val old = slots[op.slot]
                if (old != null && old.alive) return "skip"
                val n = ++serial
                for ((k, a) in op.script.withIndex()) if (a is QpAct.Send) sent += taskletValue(n, k)
                val t = Tasklet(body(n, op.script))
                t.name = "t$n"
                t.blockTrap = op.blockTrap
                slots[op.slot] = t
                known += t
                when (op.mode) {
                    QpMode.SETUP -> t.setup()
                    QpMode.PAUSED -> t.bind(null, paused = true)
                    QpMode.BOUND -> Unit
                }
                return "ok"
            }
            is QpOp.Setup -> { val t = target(op.target) ?: return "skip"; t.setup(); return "ok" }
            is QpOp.Insert -> { val t = target(op.target) ?: return "skip"; t.insert(); return "ok" }
            is QpOp.Remove -> { val t = target(op.target) ?: return "skip"; t.remove(); return "ok" }
            is QpOp.RunT -> { val t = target(op.target) ?: return "skip"; return "ok " + norm(t.runBlocking()) }
            is QpOp.SwitchT -> { val t = target(op.target) ?: return "skip"; return "ok " + norm(t.switchBlocking()) }
            is QpOp.Kill -> { val t = target(op.target) ?: return "skip"; t.killBlocking(op.pending); return "ok" }
            is QpOp.ThrowT -> {
                val t = target(op.target) ?: return "skip"
                t.throwExceptionBlocking(IllegalArgumentException("thrown"), op.pending)
                return "ok"
            }
            is QpOp.Send -> { sent += mainValue(i); chans[op.c].sendBlocking(mainValue(i)); return "ok" }
            is QpOp.Recv -> return "ok got " + norm(chans[op.c].receiveBlocking())
            QpOp.Run -> return "ok " + norm(Stackless.run())
            QpOp.Schedule -> return "ok " + norm(Stackless.scheduleBlocking())
            QpOp.ScheduleRemove -> return "ok " + norm(Stackless.scheduleRemoveBlocking())
            is QpOp.Close -> { chans[op.c].close(); return "ok" }
            is QpOp.Open -> { chans[op.c].open(); return "ok" }
            is QpOp.Trapped -> {
                Stackless.switchTrap(1)
                try {
                    return execRaw(i, op.inner)
                } finally {
                    Stackless.switchTrap(-1)
                }
            }
            is QpOp.BlockTrapped -> {
                Stackless.main.blockTrap = true
                try {
                    return execRaw(i, op.inner)
                } finally {
                    Stackless.main.blockTrap = false
                }
            }
            QpOp.BindMain -> { Stackless.main.bind(null); return "ok" }
        }
    }

    private fun body(n: Int, script: List<QpAct>): suspend () -> Unit = {
        val me = "t$n"
        try {
            for ((k, a) in script.withIndex()) {
                log += "$me.$k>"
                try {
                    when (a) {
                        is QpAct.Send -> { chans[a.c].send(taskletValue(n, k)); log += "$me.$k sent" }
                        is QpAct.Recv -> { val v = chans[a.c].receive(); log += "$me.$k got $v" }
                        QpAct.Sched -> { val r = Stackless.schedule(); log += "$me.$k ok ${norm(r)}" }
                        QpAct.SchedRemove -> { val r = Stackless.scheduleRemove(); log += "$me.$k ok ${norm(r)}" }
                        QpAct.Raise -> throw IllegalArgumentException("raise-$n")
                    }
                } catch (e: IllegalStateException) {
                    log += "$me.$k err ${describe(e)}"
                }
            }
        } catch (e: TaskletExit) {
            log += "$me exit"
            throw e
        } finally {
            log += "$me fin"
        }
    }

    // ---- structural invariants, read from the internal fields

    private fun checkStructure(where: String) {
        fun bad(msg: String): Nothing = fail("$where: $msg\n${Stackless.dump()}")
        try {
            s.checkInvariants()
            for (ch in chans) ch.checkInvariants()
        } catch (e: IllegalStateException) {
            bad(e.message ?: "invariant broken")
        }
        val place = IdentityHashMap<Tasklet, String>()
        val cur = s.current ?: bad("no current tasklet")
        if (cur !== Stackless.current || cur !== Stackless.main) bad("main is not current after its operation")
        var t = cur
        var n = 0
        do {
            if (!t.inRunQueue) bad("$t in the runnables circle without inRunQueue")
            if (t.blocked != 0 || t.channel != null) bad("$t in the runnables circle but blocked")
            if (!t.aliveFlag) bad("$t in the runnables circle but dead")
            val nx = t.nextLink ?: bad("$t has no next in the circle")
            if (nx.prevLink !== t) bad("$nx.prev is not $t")
            if (place.put(t, "queue") != null) bad("$t twice in the runnables circle")
            if (++n > 100) bad("runnables circle does not close")
            t = nx
        } while (t !== cur)
        if (n != s.runCount) bad("circle length $n != runCount ${s.runCount}")
        for ((ci, ch) in chans.withIndex()) {
            val sign = ch.balance.sign
            var w = ch.head
            var prev: Tasklet? = null
            var len = 0
            while (w != null) {
                if (w.prevLink !== prev) bad("$w.prev in ch$ci is not $prev")
                if (w.blocked != sign || sign == 0) bad("$w in ch$ci has blocked ${w.blocked}, balance ${ch.balance}")
                if (w.channel !== ch) bad("$w in ch$ci has channel ${w.channel}")
                if (w.inRunQueue) bad("$w waits in ch$ci but is in the run queue")
                if (!w.aliveFlag) bad("$w waits in ch$ci but is dead")
                val old = place.put(w, "ch$ci")
                if (old != null) bad("$w in ch$ci and in $old")
                if (++len > 100) bad("ch$ci waiter list does not end")
                prev = w
                w = w.nextLink
            }
            if (ch.tail !== prev) bad("ch$ci tail ${ch.tail} is not the last waiter $prev")
            if (len != abs(ch.balance)) bad("ch$ci has $len waiters but balance ${ch.balance}")
        }
        for (k in known) {
            val p = place[k]
            if (k.inRunQueue && p != "queue") bad("$k has inRunQueue but is not in the circle")
            if (k.blocked != 0 && p != "ch${chans.indexOf(k.channel)}") bad("$k blocked but not in its channel's list")
            if (p == null && (k.nextLink != null || k.prevLink != null || k.channel != null)) bad("$k is linked but nowhere")
        }
        if (s.watchdogs.isNotEmpty()) bad("watchdog stack not empty: ${s.watchdogs}")
        if (s.switchTrap != 0) bad("switch trap left at ${s.switchTrap}")
        if (Stackless.main.tempval != null) bad("main tempval ${Stackless.main.tempval}")
    }

    private fun compareWithModel(where: String) {
        fun bad(msg: String): Nothing = fail("$where: $msg\n  log: $log\n${Stackless.dump()}")
        val q = ArrayList<String>()
        var t = s.current!!
        do {
            q += t.name
            t = t.nextLink!!
        } while (t !== s.current)
        val mq = m.q.map { it.name }
        if (q != mq) bad("runnables queue impl $q, model $mq")
        if (s.runCount != m.q.size) bad("runCount impl ${s.runCount}, model ${m.q.size}")
        for ((ci, ch) in chans.withIndex()) {
            val mc = m.chans[ci]
            val ws = ArrayList<String>()
            var w = ch.head
            while (w != null) {
                ws += w.name
                w = w.nextLink
            }
            if (ws != mc.waiters.map { it.name }) bad("ch$ci waiters impl $ws, model ${mc.waiters.map { it.name }}")
            if (ch.balance != mc.balance) bad("ch$ci balance impl ${ch.balance}, model ${mc.balance}")
            if (ch.closing != mc.closing) bad("ch$ci closing impl ${ch.closing}, model ${mc.closing}")
        }
        val blockedImpl = known.filter { it.blocked != 0 }.map { it.name }.toSet()
        val blockedModel = m.all.filter { it.blocked != 0 }.map { it.name }.toSet()
        if (blockedImpl != blockedModel) bad("blocked tasklets impl $blockedImpl, model $blockedModel")
        for ((k, mt) in known.zip(m.all)) {
            val st = "${k.alive}/${k.blocked}/${k.inRunQueue}/${k.scheduled}/${k.paused}/${norm(k.tempval)}"
            val ms = "${mt.alive}/${mt.blocked}/${mt.inQ}/${mt.inQ || mt.blocked != 0}/" +
                "${mt.alive && !mt.inQ && mt.blocked == 0}/${mnorm(mt.tempval)}"
            if (k.name != mt.name || st != ms) bad("${k.name} state impl $st, model ${mt.name} $ms")
        }
    }
}

private fun fail(msg: String): Nothing = throw AssertionError(msg)

/** `<SimpleClass>: <first message line>`, plus the sorted names a deadlock report lists. */
private fun describe(e: Throwable): String {
    val msg = e.message
    val first = msg?.lineSequence()?.first()
    val names = if (e is DeadlockException) {
        " " + msg!!.lines().drop(1).map { it.trim().substringBefore(" is blocked") }.sorted()
    } else {
        ""
    }
    return "${e::class.simpleName}: $first$names"
}

private fun norm(v: Any?): String = when (v) {
    null -> "null"
    is Tasklet -> v.name
    is Bomb -> "bomb:" + describe(v.error)
    is Function<*> -> "body"
    else -> v.toString()
}

// -------------------------------------------------------------------------------------------------
// The reference model: Stackless' queue algebra (docs/stackless.md §1.2) on plain lists (q[0] is current)

private object QpBody

private class QpBomb(val desc: String) {
    val exit get() = desc.startsWith("TaskletExit")
}

private class QpErr(val desc: String) : Exception(desc)

private class QpTasklet(val name: String, val serial: Int, val script: List<QpAct>, var blockTrap: Boolean, val isMain: Boolean) {
    var alive = isMain
    var started = isMain
    var pc = 0
    var inQ = false
    var blocked = 0
    var ch: QpChannel? = null
    var tempval: Any? = null

    /** Its channel operation completed and it has not run since: a throw waits for its next operation. */
    var opDone = false
    var pending: QpBomb? = null
}

private class QpChannel(val pref: Int, val scheduleAll: Boolean) {
    val waiters = ArrayList<QpTasklet>()
    var closing = false
    val balance: Int get() = waiters.sumOf { it.blocked }
}

private fun mnorm(v: Any?): String = when (v) {
    null -> "null"
    is QpTasklet -> v.name
    is QpBomb -> "bomb:" + v.desc
    QpBody -> "body"
    else -> v.toString()
}

private class QpModel(sc: QpScenario) {
    val main = QpTasklet("main", 0, emptyList(), false, true)
    val q = ArrayList<QpTasklet>()
    val all = arrayListOf(main)
    val chans = List(CHANNELS) { QpChannel(sc.prefs[it], sc.scheduleAll[it]) }
    val slots = arrayOfNulls<QpTasklet>(SLOTS)
    val watchdogs = ArrayList<QpTasklet>()
    val log = ArrayList<String>()
    var trap = 0
    var serial = 0

    init {
        append(main)
    }

    // ---- queue algebra (§1.2)
    fun succ(t: QpTasklet): QpTasklet = q[(q.indexOf(t) + 1) % q.size]
    fun append(t: QpTasklet) { q.add(t); t.inQ = true }
    fun insertAfter(a: QpTasklet, t: QpTasklet) { q.add(q.indexOf(a) + 1, t); t.inQ = true }
    fun unlink(t: QpTasklet) { check(q.remove(t)); t.inQ = false }
    fun switchTo(t: QpTasklet) { Collections.rotate(q, -q.indexOf(t)) }
    fun checkTrap() { if (trap != 0) throw QpErr("SwitchTrapException: switch_trap") }
    fun watchdog(): QpTasklet = watchdogs.lastOrNull() ?: main
    fun addWaiter(c: QpChannel, t: QpTasklet, dir: Int) { c.waiters.add(t); t.blocked = dir; t.ch = c }
    fun removeWaiter(t: QpTasklet) { t.ch!!.waiters.remove(t); t.blocked = 0; t.ch = null }
    fun report(): String = " " + all.filter { it.alive && it.ch != null }.map { it.name }.sorted()

    fun checkRunnable(t: QpTasklet) {
        if (t.blocked != 0) throw QpErr("TaskletStateException: You cannot run a blocked tasklet")
        if (!t.alive && t !== q.firstOrNull()) throw QpErr("TaskletStateException: You cannot run an unbound(dead) tasklet")
    }

    // ---- operations of the current tasklet `me`; true when it switched away
    fun schedule(me: QpTasklet, retval: Any?): Boolean {
        val next = succ(me)
        if (next !== me) checkTrap()
        me.tempval = retval
        if (next === me) return false
        switchTo(next)
        return true
    }

    fun scheduleRemove(me: QpTasklet, retval: Any?): Boolean {
        val next = succ(me)
        if (next !== me) checkTrap()
        val old = me.tempval
        me.tempval = retval
        unlink(me)
        if (next !== me) {
            switchTo(next)
            return true
        }
        return blockOut(me, old)
    }

    fun run(me: QpTasklet, t: QpTasklet, removeCaller: Boolean): Boolean {
        checkRunnable(t)
        if (t === me) return false
        checkTrap()
        if (!t.inQ) append(t)
        if (removeCaller) unlink(me)
        switchTo(t)
        return true
    }

    fun throwTo(me: QpTasklet, t: QpTasklet, bomb: QpBomb, pending: Boolean): Boolean {
        if (t === me) throw QpErr(bomb.desc)
        if (!t.alive) {
            if (!bomb.exit) throw QpErr("TaskletStateException: You cannot throw to a dead tasklet")
            if (t.ch != null) removeWaiter(t)
            if (t.inQ) unlink(t)
            return false
        }
        if (!pending) checkTrap()
        if (t.ch != null) removeWaiter(t)
        // Nothing lost: the result of a completed operation is returned first, the exception comes after.
        if (t.opDone) t.pending = bomb else t.tempval = bomb
        if (!t.inQ) append(t)
        if (pending) return false
        switchTo(t)
        return true
    }

    fun runWatchdog(me: QpTasklet): Boolean {
        val next = succ(me)
        if (next === me) return false
        checkTrap()
        watchdogs.add(me)
        unlink(me)
        switchTo(next)
        return true
    }

    /** §3.2 */
    fun action(me: QpTasklet, c: QpChannel, dir: Int, value: Any?): Boolean {
        val old = me.tempval
        me.tempval = if (dir > 0) value else null
        val canDo = if (dir > 0) c.balance < 0 else c.balance > 0
        if (canDo) {
            val target = c.waiters.first()
            val preferTarget = !c.scheduleAll && c.pref == -dir
            if ((c.scheduleAll || preferTarget) && trap != 0) {
                me.tempval = old
                throw QpErr("SwitchTrapException: switch_trap")
            }
            removeWaiter(target)
            val mine = me.tempval
            me.tempval = target.tempval
            target.tempval = mine
            target.opDone = true
            if (preferTarget) {
                me.opDone = true
                insertAfter(me, target)
                switchTo(target)
                return true
            }
            append(target)
            if (!c.scheduleAll) return false
            me.opDone = true
            switchTo(succ(me))
            return true
        }
        if (me.blockTrap) {
            me.tempval = old
            throw QpErr("TaskletStateException: this tasklet does not like to be blocked.")
        }
        if (c.closing) {
            me.tempval = old
            throw QpErr("ChannelClosedException: Send/receive operation on a closed channel")
        }
        val next = succ(me)
        if (next !== me && trap != 0) {
            me.tempval = old
            throw QpErr("SwitchTrapException: switch_trap")
        }
        unlink(me)
        addWaiter(c, me, dir)
        if (next !== me) {
            switchTo(next)
            return true
        }
        return blockOut(me, old)
    }

    /** §4.8 */
    fun blockOut(b: QpTasklet, old: Any?): Boolean {
        val w = watchdog()
        if (w.alive && !w.inQ && w.blocked == 0) {
            if (w === b) {
                append(b)
                return false
            }
            if (trap != 0) {
                restore(b, old)
                throw QpErr("SwitchTrapException: switch_trap")
            }
            append(w)
            switchTo(w)
            return true
        }
        val report = report()
        restore(b, old)
        throw QpErr("DeadlockException: Deadlock: the last runnable tasklet cannot be blocked.$report")
    }

    fun restore(b: QpTasklet, old: Any?) {
        if (b.ch != null) removeWaiter(b)
        if (!b.inQ) append(b)
        switchTo(b)
        b.tempval = old
    }

    /** §4.9 */
    fun taskletEnded(t: QpTasklet, error: QpBomb?) {
        t.alive = false
        t.tempval = null
        t.opDone = false
        t.pending = null
        val w = watchdog()
        if (error != null && !error.exit) {
            if (w.ch != null) removeWaiter(w)
            w.tempval = error
            if (!w.inQ) append(w)
            unlink(t)
            switchTo(w)
            return
        }
        val next = succ(t)
        unlink(t)
        if (next !== t) {
            switchTo(next)
            return
        }
        if (w.blocked != 0) {
            val what = if (w.blocked < 0) "receiving without a sender" else "sending without a receiver"
            val report = report()
            removeWaiter(w)
            w.tempval = QpBomb("DeadlockException: the main tasklet is $what available.$report")
        }
        append(w)
        switchTo(w)
    }

    // ---- tasklet bodies
    fun pump() {
        while (q.first() !== main) {
            val t = q.first()
            val v = t.tempval
            t.tempval = null
            t.opDone = false
            if (!t.started) {
                if (v is QpBomb) {
                    taskletEnded(t, v) // thrown before the body starts: no log at all
                } else {
                    t.started = true
                    runFrom(t, 0)
                }
            } else {
                resumed(t, t.pc, v)
            }
        }
    }

    /** [t] resumes inside action [k] with its claimed tempval [v]. */
    fun resumed(t: QpTasklet, k: Int, v: Any?) {
        if (v is QpBomb) {
            if (v.exit) log += "${t.name} exit"
            log += "${t.name} fin"
            taskletEnded(t, v)
            return
        }
        when (t.script[k]) {
            is QpAct.Send -> log += "${t.name}.$k sent"
            is QpAct.Recv -> log += "${t.name}.$k got ${mnorm(v)}"
            else -> log += "${t.name}.$k ok ${mnorm(v)}"
        }
        runFrom(t, k + 1)
    }

    fun runFrom(t: QpTasklet, start: Int) {
        for (k in start until t.script.size) {
            log += "${t.name}.$k>"
            val a = t.script[k]
            if (a == QpAct.Raise) {
                log += "${t.name} fin"
                taskletEnded(t, QpBomb("IllegalArgumentException: raise-${t.serial}"))
                return
            }
            val p = t.pending
            if (p != null) {
                // Thrown to it while its last operation's result was on its way: raised by this one.
                t.pending = null
                resumed(t, k, p)
                return
            }
            try {
                val switched = when (a) {
                    is QpAct.Send -> action(t, chans[a.c], 1, taskletValue(t.serial, k))
                    is QpAct.Recv -> action(t, chans[a.c], -1, null)
                    QpAct.Sched -> schedule(t, t)
                    else -> scheduleRemove(t, t)
                }
                if (switched) {
                    t.pc = k
                    return
                }
                val v = t.tempval
                t.tempval = null
                resumed(t, k, v)
                return
            } catch (e: QpErr) {
                log += "${t.name}.$k err ${e.desc}"
            }
        }
        log += "${t.name} fin"
        taskletEnded(t, null)
    }

    // ---- the main tasklet's operations
    fun exec(i: Int, op: QpOp): String = try {
        raw(i, op)
    } catch (e: QpErr) {
        "err " + e.desc
    }

    private fun target(t: Int): QpTasklet? = if (t == MAIN) main else slots[t]

    private fun blocking(op: () -> Boolean): Any? {
        if (op()) pump()
        watchdogs.remove(main)
        val v = main.tempval
        main.tempval = null
        main.opDone = false
        if (v is QpBomb) throw QpErr(v.desc)
        return v
    }

    private fun bindPaused(t: QpTasklet) {
        if (t.tempval !== QpBody) throw QpErr("TaskletStateException: the tasklet was not bound to a function")
        t.tempval = null
        t.alive = true
        t.started = false
    }

    private fun raw(i: Int, op: QpOp): String {
        when (op) {
            is QpOp.Create -> {
                val old = slots[op.slot]
                if (old != null && old.alive) return "skip"
                val n = ++serial
                val t = QpTasklet("t$n", n, op.script, op.blockTrap, false)
                t.tempval = QpBody
                slots[op.slot] = t
                all += t
                when (op.mode) {
                    QpMode.SETUP -> { bindPaused(t); append(t) }
                    QpMode.PAUSED -> bindPaused(t)
                    QpMode.BOUND -> Unit
                }
                return "ok"
            }
            is QpOp.Setup -> {
                val t = target(op.target) ?: return "skip"
                if (t.alive) throw QpErr("TaskletStateException: tasklet is alive")
                bindPaused(t)
                append(t)
                return "ok"
            }
            is QpOp.Insert -> {
                val t = target(op.target) ?: return "skip"
                checkRunnable(t)
                if (!t.inQ) append(t)
                return "ok"
            }
            is QpOp.Remove -> {
                val t = target(op.target) ?: return "skip"
                if (t.blocked != 0) throw QpErr("TaskletStateException: You cannot remove a blocked tasklet.")
                if (t === main) throw QpErr("TaskletStateException: The current tasklet cannot be removed.")
                if (t.inQ) unlink(t)
                return "ok"
            }
            is QpOp.RunT -> { val t = target(op.target) ?: return "skip"; return "ok " + mnorm(blocking { run(main, t, false) }) }
            is QpOp.SwitchT -> { val t = target(op.target) ?: return "skip"; return "ok " + mnorm(blocking { run(main, t, true) }) }
            is QpOp.Kill -> {
                val t = target(op.target) ?: return "skip"
                blocking { throwTo(main, t, QpBomb("TaskletExit: null"), op.pending) }
                return "ok"
            }
            is QpOp.ThrowT -> {
                val t = target(op.target) ?: return "skip"
                blocking { throwTo(main, t, QpBomb("IllegalArgumentException: thrown"), op.pending) }
                return "ok"
            }
            is QpOp.Send -> { blocking { action(main, chans[op.c], 1, mainValue(i)) }; return "ok" }
            is QpOp.Recv -> return "ok got " + mnorm(blocking { action(main, chans[op.c], -1, null) })
            QpOp.Run -> { blocking { runWatchdog(main) }; return "ok null" }
            QpOp.Schedule -> return "ok " + mnorm(blocking { schedule(main, main) })
            QpOp.ScheduleRemove -> return "ok " + mnorm(blocking { scheduleRemove(main, main) })
            is QpOp.Close -> { chans[op.c].closing = true; return "ok" }
            is QpOp.Open -> { chans[op.c].closing = false; return "ok" }
            is QpOp.Trapped -> {
                trap++
                try {
                    return raw(i, op.inner)
                } finally {
                    trap--
                }
            }
            is QpOp.BlockTrapped -> {
                main.blockTrap = true
                try {
                    return raw(i, op.inner)
                } finally {
                    main.blockTrap = false
                }
            }
            QpOp.BindMain -> throw QpErr("TaskletStateException: can't (re)bind the current tasklet")
        }
    }
}
