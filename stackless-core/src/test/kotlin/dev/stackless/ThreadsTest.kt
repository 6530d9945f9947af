package dev.stackless

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainAll
import io.kotest.matchers.collections.shouldNotContain
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.util.Collections
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import kotlin.coroutines.Continuation
import kotlin.coroutines.EmptyCoroutineContext
import kotlin.coroutines.startCoroutine

// Section H of docs/scenarios.md (threads, S#129–S#139), S#57–S#58 (run(threadblock)) and S#100–S#101
// (channels across threads), plus the cross-thread rules of docs/stackless.md §5, §2.7–2.9, §2.11, §2.14 and §4.8.
//
// Every test runs its body as the main tasklet of a new thread ("th-main", like `fresh`, with a 10 s guard) and
// starts other threads with `start(name) { … }`, which returns only once the new thread has its scheduler (a
// thread without one would not count when the core decides whether some thread can still make progress).
// Threads are ordered with CountDownLatches that fail after 5 s instead of hanging; nothing asserts on timing.
// Logs written by several threads are synchronized lists whose order the latches make deterministic.
//
// Not tested: `bind_thread(-2)` (OverflowError) and non-int thread ids are prevented by the type system
// (`bindThread(Thread)`); "Target thread isn't initialised" (a thread without a main tasklet) has no JVM
// equivalent: every scheduler is created with its main tasklet.

private const val GUARD_MS = 5_000L

/** Awaits the latch for at most [GUARD_MS]; fails instead of hanging. */
private fun CountDownLatch.pass(what: String) {
    if (!await(GUARD_MS, TimeUnit.MILLISECONDS)) throw AssertionError("timed out (${GUARD_MS} ms) waiting for $what")
}

/** `st(t)` = (alive, scheduled, blocked, paused). */
private fun stH(t: Tasklet): List<Boolean> = listOf(t.alive, t.scheduled, t.blocked != 0, t.paused)

/** `Type(first line of message)`. */
private fun exH(e: Throwable): String = "${e::class.simpleName}(${e.message?.lines()?.first()})"

private fun syncLog(): MutableList<String> = Collections.synchronizedList(ArrayList())

private fun here(): String = Thread.currentThread().name

private fun channelId(c: Channel<*>): String = "Channel@" + Integer.toHexString(System.identityHashCode(c))

/** A line of a deadlock report: `<name> is blocked <dir> on Channel@…`, the thread named or not after the name. */
private fun blockedLine(name: String, dir: String, c: Channel<*>): Regex =
    Regex("^  " + Regex.escape(name) + "( \\(thread '[^']*'\\))? is blocked " + dir + " on " + Regex.escape(channelId(c)) + "\\(.*$")

private infix fun String.shouldContainLine(line: Regex) {
    if (lines().none { line.matches(it) }) throw AssertionError("no line matching /${line.pattern}/ in:\n$this")
}

private fun stacks(threads: List<Thread>): String = threads.joinToString("\n") { t ->
    "thread '${t.name}' (${t.state}):\n" + t.stackTrace.joinToString("\n") { "    at $it" }
}

/** The threads one test starts besides its main thread. */
private class Workers {
    private val threads = ArrayList<Thread>()
    private val failures = Collections.synchronizedMap(HashMap<Thread, Throwable>())

    val all: List<Thread> get() = synchronized(threads) { threads.toList() }

    /**
     * Starts a daemon thread named [name] that creates its scheduler and then runs [body]; returns once the
     * scheduler exists.
     */
    fun start(name: String, body: () -> Unit): Thread {
        val ready = CountDownLatch(1)
        val t = Thread({
            try {
                Stackless.current // this thread has a scheduler from now on
                ready.countDown()
                body()
            } catch (e: Throwable) {
                failures[Thread.currentThread()] = e
            } finally {
                ready.countDown()
            }
        }, name)
        t.isDaemon = true
        synchronized(threads) { threads += t }
        t.start()
        ready.pass("thread '$name' to start")
        return t
    }

    /** Joins [t] (at most [GUARD_MS]) and rethrows what it threw. */
    fun join(t: Thread) {
        t.join(GUARD_MS)
        if (t.isAlive) throw AssertionError("thread '${t.name}' still running after $GUARD_MS ms:\n" + stacks(listOf(t)))
        failures[t]?.let { throw AssertionError("thread '${t.name}' failed: ${exH(it)}", it) }
    }

    /** What the threads threw, each wrapped with its thread's name. */
    fun failures(): List<Throwable> = synchronized(failures) {
        failures.map { (t, e) -> AssertionError("thread '${t.name}' failed: ${exH(e)}", e) }
    }

    fun joinAll() {
        for (t in all) join(t)
    }
}

/**
 * Runs [block] as the main tasklet of a new thread (fresh scheduler, created before [block] starts other threads:
 * a thread without a scheduler does not count when the core decides whether a blocked thread can still be woken),
 * then joins every thread it started;
 * fails if that takes more than 10 s, with the stacks of the stuck threads.
 */
private fun threaded(block: suspend Workers.() -> Unit) {
    val w = Workers()
    var failure: Throwable? = null
    val main = Thread({
        val body: suspend () -> Unit = {
            try {
                Stackless.current // this thread has a scheduler before any other thread blocks
                w.block()
            } catch (e: Throwable) {
                // let the other threads give up (their latches time out) so that none outlives this test
                val deadline = System.nanoTime() + GUARD_MS * 1_000_000
                for (t in w.all) t.join(maxOf(1, (deadline - System.nanoTime()) / 1_000_000))
                w.failures().forEach { e.addSuppressed(it) }
                throw e
            }
            w.joinAll()
        }
        body.startCoroutine(Continuation(EmptyCoroutineContext) { r -> failure = r.exceptionOrNull() })
    }, "th-main")
    main.isDaemon = true
    main.start()
    main.join(2 * GUARD_MS)
    if (main.isAlive) throw AssertionError("test still running after ${2 * GUARD_MS} ms:\n" + stacks(listOf(main) + w.all))
    failure?.let { throw it }
}

class ThreadsTest : FunSpec({

    // ---------------------------------------------------------------------------------------------
    // Section H

    test("S#129 One scheduler per thread") { threaded {
        val log = syncLog()
        val myMain = Stackless.main
        Tasklet { log += "extra ran" }.setup()
        Stackless.runCount shouldBe 2
        val probed = CountDownLatch(1)
        val release = CountDownLatch(1)
        var seen = listOf<Any?>()
        lateinit var otherMain: Tasklet
        val t2 = start("T2") {
            otherMain = Stackless.main
            seen = listOf(
                Stackless.runCount,
                Stackless.main === Stackless.current,
                Stackless.current.isMain,
                Stackless.main === myMain,
                Stackless.main.threadId == Thread.currentThread().id,
            )
            probed.countDown()
            release.pass("release")
        }
        probed.pass("T2's probe")
        seen shouldBe listOf(1, true, true, false, true)
        Stackless.runCount shouldBe 2
        myMain.threadId shouldBe Thread.currentThread().id
        Stackless.threads shouldContainAll listOf(Thread.currentThread().id, t2.id)
        // is_main / is_current are relative to the tasklet's own thread
        otherMain.isMain shouldBe true
        otherMain.isCurrent shouldBe true
        Stackless.getThreadInfo(t2.id) shouldBe ThreadInfo(otherMain, otherMain, 1)
        Stackless.getThreadInfo() shouldBe ThreadInfo(myMain, myMain, 2)
        release.countDown()
        join(t2)
        Stackless.threads shouldNotContain t2.id
        shouldThrow<IllegalStateException> { Stackless.getThreadInfo(t2.id) }.message shouldBe "Thread id not found"
        Stackless.run() shouldBe null
        log.toList() shouldBe listOf("extra ran")
        Stackless.runCount shouldBe 1
    } }

    test("S#130 (from docs/stackless.md §2.7, §2.8, §5.2) run() of another thread's tasklet returns at once; switch() fails") { threaded {
        val log = syncLog()
        lateinit var t: Tasklet
        val created = CountDownLatch(1)
        val runReturned = CountDownLatch(1)
        val t2 = start("T2") {
            t = Tasklet {
                // if run() waited for t, this would never be released
                runReturned.pass("t.run() to return in th-main")
                log += "t ran on ${here()}"
            }.setup()
            t.remove()
            created.countDown()
            Stackless.runAll()
            log += "T2 runAll returned"
        }
        created.pass("t")
        stH(t) shouldBe listOf(true, false, false, true)
        val e = shouldThrow<IllegalStateException> { t.switch() }
        e.message shouldBe "can't switch to a different thread."
        Stackless.current shouldBe Stackless.main
        Stackless.main.scheduled shouldBe true
        Stackless.runCount shouldBe 1
        t.run() shouldBe null
        // no switch: the caller is still current, its queue unchanged
        Stackless.current shouldBe Stackless.main
        Stackless.runCount shouldBe 1
        log += "run returned"
        runReturned.countDown()
        join(t2)
        log.toList() shouldBe listOf("run returned", "t ran on T2", "T2 runAll returned")
        t.alive shouldBe false
    } }

    test("S#131 Remote run order") { threaded {
        val log = syncLog()
        lateinit var t1: Tasklet
        lateinit var t2: Tasklet
        lateinit var t3: Tasklet
        val created = CountDownLatch(1)
        val go = CountDownLatch(1)
        val th = start("T2") {
            t1 = Tasklet { log += "a" }.setup()
            t2 = Tasklet { log += "b" }.setup()
            t3 = Tasklet { log += "c" }.setup()
            t1.remove()
            t2.remove()
            t3.remove()
            created.countDown()
            // T2 runs plain code until th-main has posted all three operations
            go.pass("go")
            Stackless.run()
            log += "T2 run returned"
        }
        created.pass("t1, t2, t3")
        Stackless.atomic {
            t2.insert()
            t3.insert()
            t1.run() shouldBe null
        }
        Stackless.runCount shouldBe 1
        Stackless.current shouldBe Stackless.main
        go.countDown()
        join(th)
        log.toList() shouldBe listOf("a", "b", "c", "T2 run returned")
    } }

    test("S#132 (from docs/stackless.md §5.2) insert()/remove() of another thread's tasklet act on its queue") { threaded {
        val log = syncLog()
        val c = Channel<String>()
        lateinit var r: Tasklet
        lateinit var b: Tasklet
        lateinit var dead: Tasklet
        val created = CountDownLatch(1)
        val go = CountDownLatch(1)
        val removedSeen = CountDownLatch(1)
        val th = start("T2") {
            b = Tasklet { c.receive() }.setup()
            dead = Tasklet { }.setup()
            Stackless.run() // b blocks, dead ends
            r = Tasklet { log += "r ran on ${here()}" }.setup()
            created.countDown()
            go.pass("go")
            Stackless.run() // applies the remote remove first: r does not run
            log += "after the remote remove r is ${stH(r)}, runCount ${Stackless.runCount}"
            b.killBlocking()
            removedSeen.countDown()
            Stackless.runAll() // r is paused: parks until it is inserted from th-main
            log += "T2 runAll returned"
        }
        created.pass("r")
        // errors the caller can see are thrown in the caller
        shouldThrow<IllegalStateException> { b.insert() }.message shouldBe "You cannot run a blocked tasklet"
        shouldThrow<IllegalStateException> { b.run() }.message shouldBe "You cannot run a blocked tasklet"
        shouldThrow<IllegalStateException> { b.remove() }.message shouldBe "You cannot remove a blocked tasklet."
        shouldThrow<IllegalStateException> { dead.insert() }.message shouldBe "You cannot run an unbound(dead) tasklet"
        r.remove() shouldBe r
        Stackless.runCount shouldBe 1
        go.countDown()
        removedSeen.pass("T2 to see the remove")
        r.insert() shouldBe r
        Stackless.runCount shouldBe 1
        Stackless.current shouldBe Stackless.main
        join(th)
        log.toList() shouldBe listOf(
            "after the remote remove r is [true, false, false, true], runCount 1",
            "r ran on T2",
            "T2 runAll returned",
        )
    } }

    test("S#133 bind_thread()") { threaded {
        val log = syncLog()
        val c = Channel<String>()
        val quit = Channel<String>()
        val me = Thread.currentThread().id
        lateinit var t: Tasklet
        lateinit var b: Tasklet
        val created = CountDownLatch(1)
        val removePosted = CountDownLatch(1)
        val removed = CountDownLatch(1)
        val blockedReady = CountDownLatch(1)
        val th = start("T2") {
            t = Tasklet { log += "job ran on ${here()}" }.setup()
            created.countDown()
            removePosted.pass("th-main's remove")
            Stackless.run() // applies the remove: nothing runs
            log += "T2 sees t paused=${t.paused}"
            removed.countDown()
            b = Tasklet { log += "b got ${c.receive()} on ${here()}" }.setup()
            Stackless.run() // b blocks on c
            blockedReady.countDown()
            log += "T2 got ${quit.receiveBlocking()}"
        }
        created.pass("t")
        t.threadId shouldBe th.id
        shouldThrow<IllegalStateException> { t.bindThread() }.message shouldBe "can't (re)bind a runnable tasklet"
        t.threadId shouldBe th.id
        t.remove()
        removePosted.countDown()
        removed.pass("the remove to be applied")
        t.bindThread()
        t.threadId shouldBe me
        shouldThrow<IllegalArgumentException> { t.bindThread(Thread {}) }.message shouldBe "bad thread"
        t.threadId shouldBe me
        t.insert()
        Stackless.runCount shouldBe 2
        Stackless.run() shouldBe null
        // a blocked tasklet may be rebound: it stays blocked, and runs in its new thread when woken
        blockedReady.pass("b to block")
        b.blocked shouldBe -1
        b.threadId shouldBe th.id
        b.bindThread()
        b.threadId shouldBe me
        b.blocked shouldBe -1
        c.balance shouldBe -1
        c.send("x") // b is this thread's tasklet now: the receiver runs first
        log += "th-main sent x"
        b.alive shouldBe false
        quit.send("quit")
        join(th)
        log.toList() shouldBe listOf(
            "T2 sees t paused=true",
            "job ran on th-main",
            "b got x on th-main",
            "th-main sent x",
            "T2 got quit",
        )
    } }

    test("S#134 (from docs/stackless.md §5.4, §2.2, §2.9, §2.11, §2.14) methods on tasklets of a dead thread") { threaded {
        val log = syncLog()
        val c = Channel<String>()
        val me = Thread.currentThread().id
        val ps = ArrayList<Tasklet>()
        lateinit var q: Tasklet
        lateinit var b1: Tasklet
        lateinit var b2: Tasklet
        val th = start("T2") {
            b1 = Tasklet { try { c.receive() } finally { log += "b1 finally" } }.setup()
            b2 = Tasklet { try { c.receive() } finally { log += "b2 finally" } }.setup()
            Stackless.run() // b1, b2 block on c
            for (i in 0 until 8) ps += Tasklet { log += "p$i ran" }.bind(null, paused = true)
            q = Tasklet { log += "q ran" }.setup()
        }
        join(th)
        for (t in ps + q) {
            t.threadId shouldBe -1L
            stH(t) shouldBe listOf(false, false, false, false)
            t.next shouldBe null
            t.prev shouldBe null
            t.isCurrent shouldBe false
        }
        // blocked ones stay linked in their channel
        for (t in listOf(b1, b2)) {
            t.threadId shouldBe -1L
            t.alive shouldBe false
            t.blocked shouldBe -1
        }
        c.balance shouldBe -2
        c.queue shouldBe b1
        b1.next shouldBe b2

        shouldThrow<IllegalStateException> { ps[0].setup() }.message shouldBe "tasklet has no thread"
        shouldThrow<IllegalStateException> { ps[1].bind(null, paused = true) }.message shouldBe "tasklet has no thread"
        shouldThrow<IllegalStateException> { ps[2].run() }.message shouldBe "tasklet has no thread"
        shouldThrow<IllegalStateException> { ps[3].switch() }.message shouldBe "tasklet has no thread"
        shouldThrow<IllegalStateException> { ps[4].throwException(IllegalArgumentException("x")) }.message shouldBe
            "tasklet has no thread"
        shouldThrow<IllegalStateException> { ps[4].raiseException(IllegalArgumentException("x")) }.message shouldBe
            "tasklet has no thread"
        shouldThrow<IllegalStateException> { ps[5].insert() }.message shouldBe "Target thread isn't initialized"
        ps[5].remove() shouldBe ps[5]
        ps[6].bind(null) shouldBe ps[6]
        ps[6].bind { log += "never" } shouldBe ps[6]
        ps[7].kill() // drops it
        stH(ps[7]) shouldBe listOf(false, false, false, false)
        Stackless.runCount shouldBe 1
        Stackless.current shouldBe Stackless.main

        // a blocked one: throw(TaskletExit, pending) fails, kill(pending) drops and unlinks it
        shouldThrow<IllegalStateException> { b1.throwException(TaskletExit(), pending = true) }.message shouldBe
            "tasklet has no thread"
        b1.blocked shouldBe -1
        c.balance shouldBe -2
        b1.kill(pending = true)
        b1.blocked shouldBe 0
        b1.next shouldBe null
        b1.prev shouldBe null
        c.balance shouldBe -1
        c.queue shouldBe b2
        b2.kill()
        b2.blocked shouldBe 0
        c.balance shouldBe 0
        c.queue shouldBe null
        Stackless.runCount shouldBe 1

        // bind_thread adopts it
        ps[0].bindThread()
        ps[0].threadId shouldBe me
        ps[0].bind { log += "adopted ran on ${here()}" }
        ps[0].setup()
        Stackless.run() shouldBe null
        log.toList() shouldBe listOf("adopted ran on th-main")
    } }

    test("S#135 Removed+rebound before the thread dies survives") { threaded {
        val log = syncLog()
        val me = Thread.currentThread().id
        lateinit var u: Tasklet
        val created = CountDownLatch(1)
        val rebound = CountDownLatch(1)
        val th = start("T2") {
            u = Tasklet { log += "u ran on ${here()}" }.setup()
            u.remove()
            created.countDown()
            rebound.pass("th-main's bindThread")
        }
        created.pass("u")
        u.paused shouldBe true
        u.bindThread()
        u.threadId shouldBe me
        rebound.countDown() // T2 ends at once
        join(th)
        u.alive shouldBe true
        u.threadId shouldBe me
        stH(u) shouldBe listOf(true, false, false, true)
        u.run()
        log.toList() shouldBe listOf("u ran on th-main")
        u.alive shouldBe false
    } }

    test("S#136 (from docs/stackless.md §2.9, §2.11, §5.2) kill()/throw() of another thread's tasklet act as pending") { threaded {
        val log = syncLog()
        val c = Channel<String>()
        lateinit var k: Tasklet
        lateinit var x: Tasklet
        val created = CountDownLatch(1)
        val killReturned = CountDownLatch(1)
        val th = start("T2") {
            k = Tasklet {
                try {
                    c.receive()
                    log += "k received"
                } catch (e: TaskletExit) {
                    killReturned.pass("kill() to return in th-main")
                    log += "k: TaskletExit on ${here()}"
                    throw e
                } finally {
                    log += "k: finally"
                }
            }.setup()
            x = Tasklet {
                try {
                    c.receive()
                    log += "x received"
                } catch (e: IllegalArgumentException) {
                    log += "x caught ${exH(e)} on ${here()}"
                }
            }.setup()
            Stackless.run() // both block on c
            created.countDown()
            Stackless.runAll()
            log += "T2 runAll returned"
        }
        created.pass("k and x")
        k.kill() // not pending, but it does not switch: k is made runnable in T2
        Stackless.current shouldBe Stackless.main
        Stackless.runCount shouldBe 1
        log += "kill returned"
        killReturned.countDown()
        x.throwException(IllegalArgumentException("boom"))
        Stackless.current shouldBe Stackless.main
        Stackless.runCount shouldBe 1
        join(th)
        log.toList() shouldBe listOf(
            "kill returned",
            "k: TaskletExit on T2",
            "k: finally",
            "x caught IllegalArgumentException(boom) on T2",
            "T2 runAll returned",
        )
        c.balance shouldBe 0
    } }

    test("S#137 setup() from another thread inserts into the owner's queue") { threaded {
        val log = syncLog()
        lateinit var t: Tasklet
        val created = CountDownLatch(1)
        val th = start("T2") {
            val done = Channel<String>()
            t = Tasklet {
                log += "t ran on ${here()}"
                done.send("from t")
            }
            created.countDown()
            log += "T2 main got ${done.receiveBlocking()}"
        }
        created.pass("t")
        t.alive shouldBe false
        t.threadId shouldBe th.id
        t.setup() shouldBe t
        Stackless.runCount shouldBe 1
        Stackless.current shouldBe Stackless.main
        join(th)
        log.toList() shouldBe listOf("t ran on T2", "T2 main got from t")
    } }

    test("S#138 (from docs/stackless.md §5.4) the end of a thread does not run its soft tasklets") { threaded {
        val log = syncLog()
        val c = Channel<String>()
        lateinit var runnable: Tasklet
        lateinit var started: Tasklet
        lateinit var paused: Tasklet
        lateinit var blocked: Tasklet
        val th = start("T2") {
            paused = Tasklet {
                try {
                    log += "paused started"
                    Stackless.scheduleRemove()
                    log += "paused resumed"
                } finally {
                    log += "paused finally"
                }
            }.setup()
            blocked = Tasklet {
                try {
                    c.receive()
                    log += "blocked received"
                } finally {
                    log += "blocked finally"
                }
            }.setup()
            Stackless.run() // paused pauses itself, blocked blocks on c
            started = Tasklet {
                try {
                    log += "started started"
                    Stackless.schedule()
                    log += "started resumed"
                } finally {
                    log += "started finally"
                }
            }.setup()
            Stackless.scheduleBlocking() // started runs up to its schedule()
            runnable = Tasklet {
                try {
                    log += "runnable ran"
                } finally {
                    log += "runnable finally"
                }
            }.setup()
            log += "T2 ends with runCount ${Stackless.runCount}"
        }
        join(th)
        log.toList() shouldBe listOf("paused started", "started started", "T2 ends with runCount 3")
        for (t in listOf(runnable, started, paused)) {
            t.threadId shouldBe -1L
            stH(t) shouldBe listOf(false, false, false, false)
            t.next shouldBe null
            t.prev shouldBe null
        }
        blocked.threadId shouldBe -1L
        stH(blocked) shouldBe listOf(false, true, true, false)
        blocked.blocked shouldBe -1
        c.balance shouldBe -1
        c.queue shouldBe blocked
        // nothing of them runs later either
        Stackless.run() shouldBe null
        log.size shouldBe 3
    } }

    test("S#139 Thread shutdown kills hard-switched tasklets, not soft ones") { threaded {
        val log = syncLog()
        val c = Channel<String>()
        val c2 = Channel<String>()
        val hardDone = CountDownLatch(1)
        lateinit var hard: Tasklet
        lateinit var soft: Tasklet
        val th = start("T2") {
            hard = Tasklet.of(Runnable {
                try {
                    c.receiveBlocking()
                    log += "hard received"
                } catch (e: TaskletExit) {
                    log += "hard: TaskletExit"
                    throw e
                } finally {
                    log += "hard finally"
                    hardDone.countDown()
                }
            }).setup()
            soft = Tasklet {
                try {
                    c2.receive()
                    log += "soft received"
                } finally {
                    log += "soft finally"
                }
            }.setup()
            Stackless.run() // both block
            log += "T2 ends"
        }
        join(th)
        hardDone.pass("the hard tasklet's finally block")
        log.toList() shouldBe listOf("T2 ends", "hard: TaskletExit", "hard finally")
        soft.threadId shouldBe -1L
        soft.alive shouldBe false
        soft.blocked shouldBe -1
        c2.balance shouldBe -1
    } }

    // ---------------------------------------------------------------------------------------------
    // run(threadblock) and threads waiting for each other (S#57, S#58, S#100, S#101)

    test("S#57 threadblock only matters with a timeout") { threaded {
        val log = syncLog()
        val senderLog = syncLog()
        val c = Channel<String>()
        val go = CountDownLatch(1)
        val sender = start("sender") {
            go.pass("go")
            c.sendBlocking("late")
            senderLog += "sender continued on ${here()}"
        }
        val r = Tasklet { log += "r got ${c.receive()} on ${here()}" }.setup()
        Stackless.run(0, threadblock = true) shouldBe null
        r.blocked shouldBe -1
        log.toList() shouldBe emptyList()
        go.countDown()
        Stackless.run(1_000_000_000, threadblock = true) shouldBe null
        log.toList() shouldBe listOf("r got late on th-main")
        r.alive shouldBe false
        join(sender)
        senderLog.toList() shouldBe listOf("sender continued on sender")
        Stackless.runCount shouldBe 1
    } }

    test("S#58 (from docs/stackless.md §4.8, §5.3) run() returns when its tasklets block, even if another thread could wake them") { threaded {
        val log = syncLog()
        val c = Channel<String>()
        val go = CountDownLatch(1)
        val sender = start("sender") {
            go.pass("go")
            c.sendBlocking("x")
        }
        val r = Tasklet { log += "r got ${c.receive()} on ${here()}" }.setup()
        Stackless.run() shouldBe null // the watchdog (main in run()) is revived: no waiting for the other thread
        r.blocked shouldBe -1
        r.alive shouldBe true
        log.toList() shouldBe emptyList()
        go.countDown()
        Stackless.runAll() // now wait for the sender
        log.toList() shouldBe listOf("r got x on th-main")
        join(sender)
        c.balance shouldBe 0
    } }

    test("S#100 (from docs/stackless.md §4.8, §5.3) the last runnable tasklet blocking waits for another thread instead of a deadlock") { threaded {
        val c1 = Channel<String>()
        val c2 = Channel<String>()
        val go = CountDownLatch(1)
        val sender = start("sender") {
            go.pass("go")
            c2.sendBlocking("x")
        }
        Tasklet {
            val v = c2.receive() // the last runnable tasklet blocks while main is blocked too
            c1.send("t got $v on ${here()}")
        }.setup()
        go.countDown()
        c1.receive() shouldBe "t got x on th-main"
        join(sender)
        Stackless.run()
        Stackless.runCount shouldBe 1
    } }

    test("S#101 Cross-thread channel (while t.alive: run())") { threaded {
        val slaveLog = syncLog()
        val masterLog = syncLog()
        val commands = Channel<String>()
        fun schedulerRun(body: suspend () -> Unit) {
            val t = Tasklet(body).setup()
            while (t.alive) Stackless.run()
        }
        val master = start("master") {
            schedulerRun {
                for (cmd in listOf("ECHO 1", "ECHO 2", "QUIT")) commands.send(cmd)
                masterLog += "master done on ${here()}"
            }
        }
        schedulerRun {
            while (true) {
                val cmd = commands.receive()
                slaveLog += "slave got $cmd on ${here()}"
                if (cmd == "QUIT") break
            }
            slaveLog += "done"
        }
        join(master)
        slaveLog.toList() shouldBe listOf(
            "slave got ECHO 1 on th-main",
            "slave got ECHO 2 on th-main",
            "slave got QUIT on th-main",
            "done",
        )
        masterLog.toList() shouldBe listOf("master done on master")
        commands.balance shouldBe 0
    } }

    // ---------------------------------------------------------------------------------------------
    // Channels across threads (docs/stackless.md §5.3)

    test("a cross-thread send never switches the caller: preference and scheduleAll are ignored") { threaded {
        val remoteLog = syncLog()
        val c = Channel<String>()
        val receivers = ArrayList<Tasklet>()
        val created = CountDownLatch(1)
        val th = start("T2") {
            for (k in 1..4) receivers += Tasklet { remoteLog += "r$k got ${c.receive()} on ${here()}" }.setup()
            Stackless.run() // all four block on c
            created.countDown()
            Stackless.runAll()
        }
        created.pass("the receivers")
        c.balance shouldBe -4
        val configs = listOf(-1 to false, 0 to false, 1 to false, -1 to true)
        for ((i, cfg) in configs.withIndex()) {
            val log = mutableListOf<String>()
            c.preference = cfg.first
            c.scheduleAll = cfg.second
            Tasklet {
                c.send("v$i")
                log += "sender continues"
            }.setup()
            Tasklet { log += "other" }.setup()
            Stackless.run() shouldBe null
            log shouldBe listOf("sender continues", "other")
        }
        join(th)
        remoteLog.toList() shouldBe listOf("r1 got v0 on T2", "r2 got v1 on T2", "r3 got v2 on T2", "r4 got v3 on T2")
        receivers.forEach { it.alive shouldBe false }
        c.balance shouldBe 0
    } }

    test("a cross-thread receive never switches the caller; the sender continues in its own thread") { threaded {
        val remoteLog = syncLog()
        val c = Channel<String>()
        val created = CountDownLatch(1)
        val th = start("T2") {
            for (k in 1..3) Tasklet { c.send("w$k"); remoteLog += "s$k continued on ${here()}" }.setup()
            Stackless.run() // all three block sending
            created.countDown()
            Stackless.runAll()
        }
        created.pass("the senders")
        c.balance shouldBe 3
        val configs = listOf(1 to false, -1 to false, 1 to true)
        for ((i, cfg) in configs.withIndex()) {
            val log = mutableListOf<String>()
            c.preference = cfg.first
            c.scheduleAll = cfg.second
            Tasklet { log += "receiver got ${c.receive()}" }.setup()
            Tasklet { log += "other" }.setup()
            Stackless.run() shouldBe null
            log shouldBe listOf("receiver got w${i + 1}", "other")
        }
        join(th)
        remoteLog.toList() shouldBe listOf("s1 continued on T2", "s2 continued on T2", "s3 continued on T2")
    } }

    test("exceptions are sent across threads, both ways; a sent NoSuchElementException ends an iteration") { threaded {
        val log = syncLog()
        val toT2 = Channel<String>()
        val fromT2 = Channel<String>()
        val items = Channel<String>()
        val created = CountDownLatch(1)
        val th = start("T2") {
            Tasklet {
                try {
                    toT2.receive()
                    log += "rx received"
                } catch (e: IllegalArgumentException) {
                    log += "rx caught ${exH(e)} on ${here()}"
                }
            }.setup()
            Stackless.run() // rx blocks
            created.countDown()
            Tasklet {
                fromT2.sendException(IndexOutOfBoundsException("idx"))
                log += "sx continued on ${here()}"
            }.setup()
            Tasklet {
                for (s in listOf("a", "b")) items.send(s)
                items.sendException(NoSuchElementException())
                log += "items sent on ${here()}"
            }.setup()
            Stackless.runAll()
        }
        created.pass("rx")
        toT2.sendException(IllegalArgumentException("boom"))
        shouldThrow<IndexOutOfBoundsException> { fromT2.receive() }.message shouldBe "idx"
        items.blockingIterable().toList() shouldBe listOf("a", "b")
        join(th)
        log.toList().sorted() shouldBe listOf(
            "items sent on T2",
            "rx caught IllegalArgumentException(boom) on T2",
            "sx continued on T2",
        )
        toT2.balance shouldBe 0
        fromT2.balance shouldBe 0
        items.balance shouldBe 0
    } }

    test("close() across threads: a waiting receiver is still served, its next receive fails") { threaded {
        val log = syncLog()
        val c = Channel<String>()
        val created = CountDownLatch(1)
        val th = start("T2") {
            Tasklet {
                log += "r got ${c.receive()} on ${here()}"
                try {
                    c.receive()
                    log += "r received again"
                } catch (e: ChannelClosedException) {
                    log += "r: ${exH(e)}"
                }
            }.setup()
            Stackless.run() // r blocks
            created.countDown()
            Stackless.runAll()
        }
        created.pass("r")
        c.balance shouldBe -1
        c.close()
        c.closing shouldBe true
        c.closed shouldBe false
        c.send("last") // a receiver is waiting: no blocking
        join(th)
        log.toList() shouldBe listOf(
            "r got last on T2",
            "r: ChannelClosedException(Send/receive operation on a closed channel)",
        )
        c.closed shouldBe true
        shouldThrow<ChannelClosedException> { c.send("more") }.message shouldBe "Send/receive operation on a closed channel"
        shouldThrow<ChannelClosedException> { c.receive() }.message shouldBe "Send/receive operation on a closed channel"
        c.balance shouldBe 0
    } }

    // ---------------------------------------------------------------------------------------------
    // Parking and runAll()

    test("a main tasklet blocked on a channel waits for another thread instead of raising a deadlock") { threaded {
        val c = Channel<String>()
        val w = start("W") {
            val v = c.receiveBlocking()
            c.sendBlocking("echo $v from ${here()}")
        }
        c.send("hi") // parks until W receives
        c.receive() shouldBe "echo hi from W" // parks until W sends
        join(w)
        Stackless.runCount shouldBe 1
        Stackless.main.blocked shouldBe 0
    } }

    test("many round trips between the main tasklets of two threads") { threaded {
        val ping = Channel<Int>()
        val pong = Channel<Int>()
        val w = start("W") {
            for (i in 0 until 1000) pong.sendBlocking(ping.receiveBlocking() + 1)
        }
        var sum = 0L
        for (i in 0 until 1000) {
            ping.send(i)
            sum += pong.receive()
        }
        sum shouldBe 500_500L
        join(w)
    } }

    test("Stackless.runAll() runs a worker thread's tasklets until all of them have ended") { threaded {
        val log = syncLog()
        val input = Channel<Int>()
        val output = Channel<String>()
        val workerIds = ArrayList<Long>()
        val w = start("worker") {
            Stackless.runAll() // nothing to run: returns at once
            log += "empty runAll returned, runCount ${Stackless.runCount}"
            for (name in listOf("A", "B")) {
                val t = Tasklet {
                    val v = input.receive()
                    output.send("$name got $v on ${here()}")
                }
                t.name = name
                t.setup()
                workerIds += t.threadId
            }
            Stackless.runAll()
            log += "runAll returned, runCount ${Stackless.runCount}"
        }
        input.send(1)
        input.send(2)
        val got = listOf(output.receive(), output.receive())
        join(w)
        got.sorted() shouldBe listOf("A got 1 on worker", "B got 2 on worker")
        workerIds shouldBe listOf(w.id, w.id)
        log.toList() shouldBe listOf("empty runAll returned, runCount 1", "runAll returned, runCount 1")
        // runAll() in this thread: a local tasklet waiting for another thread
        val c = Channel<String>()
        val s = start("sender") { c.sendBlocking("hello") }
        val mine = mutableListOf<String>()
        Tasklet { mine += "got ${c.receive()} on ${here()}" }.setup()
        Stackless.runAll()
        mine shouldBe listOf("got hello on th-main")
        Stackless.runCount shouldBe 1
        join(s)
    } }

    // ---------------------------------------------------------------------------------------------
    // Deadlock across threads

    test("two threads each blocked receiving from the other: both main tasklets get a DeadlockException") { threaded {
        val fromA = Channel<String>()
        val fromB = Channel<String>()
        var bError: Throwable? = null
        val b = start("B") {
            Stackless.main.name = "B-main"
            bError = try {
                fromA.receiveBlocking()
                null
            } catch (e: DeadlockException) {
                e
            }
            fromA.balance shouldBe 0
            Stackless.runCount shouldBe 1
        }
        Stackless.main.name = "A-main"
        val aError = shouldThrow<DeadlockException> { fromB.receive() }
        join(b)
        val bErr = bError
        (bErr is DeadlockException) shouldBe true
        for (e in listOf(aError, bErr!!)) {
            e.message!!.lines().first() shouldBe "Deadlock: the last runnable tasklet cannot be blocked."
            e.message!! shouldContainLine blockedLine("A-main", "receiving", fromB)
            e.message!! shouldContainLine blockedLine("B-main", "receiving", fromA)
        }
        fromB.balance shouldBe 0
        Stackless.runCount shouldBe 1
        Stackless.main.blocked shouldBe 0
    } }

    test("two threads whose tasklets wait for each other under runAll(): runAll() returns in both, no hang") { threaded {
        // The caller of runAll() is a paused watchdog: it is revived (docs/stackless.md §4.8 step 4), the tasklets stay blocked.
        val fromA = Channel<String>()
        val fromB = Channel<String>()
        val bLog = syncLog()
        val bReady = CountDownLatch(1)
        val b = start("B") {
            val tb = Tasklet { fromA.receive() }
            tb.name = "tb"
            tb.setup()
            bReady.countDown()
            Stackless.runAll()
            bLog += "B runAll returned, tb ${stH(tb)}"
            tb.killBlocking()
            bLog += "tb killed: ${stH(tb)}"
        }
        bReady.pass("tb")
        val ta = Tasklet { fromB.receive() }
        ta.name = "ta"
        ta.setup()
        Stackless.runAll()
        stH(ta) shouldBe listOf(true, true, true, false)
        ta.blocked shouldBe -1
        ta.kill()
        ta.alive shouldBe false
        join(b)
        bLog.toList() shouldBe listOf(
            "B runAll returned, tb [true, true, true, false]",
            "tb killed: [false, false, false, false]",
        )
        fromA.balance shouldBe 0
        fromB.balance shouldBe 0
        Stackless.runCount shouldBe 1
    } }

    test("a main tasklet and another thread's tasklet under runAll() waiting for each other: the report names both") { threaded {
        val fromA = Channel<String>()
        val fromB = Channel<String>()
        val bLog = syncLog()
        val bReady = CountDownLatch(1)
        val b = start("B") {
            val tb = Tasklet { fromA.receive() }
            tb.name = "tb"
            tb.setup()
            bReady.countDown()
            Stackless.runAll() // returns when the deadlock is found
            bLog += "B runAll returned, tb blocked ${tb.blocked}"
            tb.killBlocking()
        }
        bReady.pass("tb")
        Stackless.main.name = "A-main"
        val e = shouldThrow<DeadlockException> { fromB.receive() }
        e.message!!.lines().first() shouldBe "Deadlock: the last runnable tasklet cannot be blocked."
        e.message!! shouldContainLine blockedLine("A-main", "receiving", fromB)
        e.message!! shouldContainLine blockedLine("tb", "receiving", fromA)
        Stackless.main.blocked shouldBe 0
        fromB.balance shouldBe 0
        join(b)
        bLog.toList() shouldBe listOf("B runAll returned, tb blocked -1")
        fromA.balance shouldBe 0
    } }

    // ---------------------------------------------------------------------------------------------
    // Nothing lost: a kill racing with a completed rendezvous

    test("a tasklet killed after its receive completed but before it ran first returns the value") { threaded {
        val log = syncLog()
        val c = Channel<String>()
        val step = CountDownLatch(1)
        val go = CountDownLatch(1)
        lateinit var r: Tasklet
        val th = start("T2") {
            val warmed = Channel<String>()
            r = Tasklet {
                log += "r got ${c.receive()}" // the warm-up: c is shared by both threads from now on
                warmed.send("warm")
                val v = c.receive()
                log += "r got $v"
                try {
                    Stackless.schedule()
                    log += "r was not killed"
                } catch (e: TaskletExit) {
                    log += "r: TaskletExit at its next switch point"
                    throw e
                }
            }.setup()
            Stackless.run() // r blocks on c
            warmed.receiveBlocking() // idle until th-main's warm-up send has reached r
            Stackless.run() // r blocks on c again
            log += "r blocked again: ${r.blocked}"
            step.countDown()
            go.pass("go") // T2 runs plain code: nothing is applied until runAll()
            Stackless.runAll()
        }
        c.send("warm-up")
        step.pass("r to block again")
        c.send("v") // completes at once: r waits; r is woken through T2's inbox
        r.kill() // arrives after the value
        go.countDown()
        join(th)
        log.toList() shouldBe listOf(
            "r got warm-up",
            "r blocked again: -1",
            "r got v",
            "r: TaskletExit at its next switch point",
        )
        r.alive shouldBe false
        c.balance shouldBe 0
    } }

    test("a tasklet killed after its send completed but before it ran first returns from send") { threaded {
        val log = syncLog()
        val c = Channel<String>()
        val step = CountDownLatch(1)
        val go = CountDownLatch(1)
        lateinit var s: Tasklet
        val th = start("T2") {
            val warmed = Channel<String>()
            s = Tasklet {
                c.send("warm-up")
                warmed.send("warm")
                c.send("v")
                log += "s: send returned"
                try {
                    Stackless.schedule()
                    log += "s was not killed"
                } catch (e: TaskletExit) {
                    log += "s: TaskletExit at its next switch point"
                    throw e
                }
            }.setup()
            Stackless.run() // s blocks sending
            warmed.receiveBlocking()
            Stackless.run() // s blocks sending "v"
            log += "s blocked again: ${s.blocked}"
            step.countDown()
            go.pass("go")
            Stackless.runAll()
        }
        c.receive() shouldBe "warm-up"
        step.pass("s to block again")
        c.receive() shouldBe "v" // received exactly once, here
        s.throwException(TaskletExit(), pending = true)
        go.countDown()
        join(th)
        log.toList() shouldBe listOf("s blocked again: 1", "s: send returned", "s: TaskletExit at its next switch point")
        s.alive shouldBe false
        c.balance shouldBe 0
    } }
})
