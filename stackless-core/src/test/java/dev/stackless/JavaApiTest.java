package dev.stackless;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The Java surface: hard tasklets ({@link Tasklet#of}) and the blocking twins called from plain
 * threads. Every test body runs as the main tasklet of a new thread ({@link #fresh}).
 * (Soft, suspend-bodied tasklets cannot be written in Java, so mixing them with hard ones is not
 * tested here.)
 */
class JavaApiTest {

    /** Runs {@code body} on a new thread (fresh scheduler, runCount 1), waits up to 60 s and rethrows its failure. */
    private static void fresh(Runnable body) {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread thread = new Thread(() -> {
            try {
                body.run();
            } catch (Throwable e) {
                failure.set(e);
            }
        }, "JavaApiTest-main");
        thread.start();
        try {
            thread.join(60_000);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
        if (thread.isAlive()) {
            StringBuilder sb = new StringBuilder("test thread still running after 60 s:");
            for (StackTraceElement el : thread.getStackTrace()) sb.append("\n  at ").append(el);
            fail(sb.toString());
        }
        Throwable f = failure.get();
        if (f instanceof Error) throw (Error) f;
        if (f instanceof RuntimeException) throw (RuntimeException) f;
        if (f != null) throw new AssertionError(f);
    }

    private static String firstLine(Throwable e) {
        return e.getMessage().lines().findFirst().orElse("");
    }

    @Test
    void pingPongBetweenAHardTaskletAndTheMainThread() {
        fresh(() -> {
            Channel<Integer> ping = new Channel<>();
            Channel<Integer> pong = new Channel<>();
            AtomicReference<Tasklet> seenCurrent = new AtomicReference<>();
            Tasklet t = Tasklet.of(() -> {
                seenCurrent.set(Stackless.getCurrent());
                for (int i = 0; i < 100; i++) {
                    int v = ping.receiveBlocking();
                    pong.sendBlocking(v * 2);
                }
            });
            t.setup();
            assertTrue(t.getAlive());
            assertEquals(2, Stackless.getRunCount());
            long sum = 0;
            for (int i = 0; i < 100; i++) {
                ping.sendBlocking(i);
                int back = pong.receiveBlocking();
                assertEquals(2 * i, back);
                sum += back;
            }
            assertEquals(9900, sum);
            assertSame(t, seenCurrent.get());
            Stackless.run(); // lets the tasklet return from its last send and end
            assertFalse(t.getAlive());
            assertEquals(1, Stackless.getRunCount());
            assertEquals(0, ping.getBalance());
            assertEquals(0, pong.getBalance());
        });
    }

    @Test
    void runAndScheduleBlockingGoRoundRobinWithHardTasklets() {
        fresh(() -> {
            List<String> log = Collections.synchronizedList(new ArrayList<>());
            for (String name : List.of("A", "B", "C")) {
                Tasklet.of(() -> {
                    for (int i = 0; i < 3; i++) {
                        log.add(name + i);
                        Stackless.scheduleBlocking();
                    }
                }).setup();
            }
            assertEquals(4, Stackless.getRunCount());
            assertSame(null, Stackless.run());
            assertEquals("A0 B0 C0 A1 B1 C1 A2 B2 C2", String.join(" ", log));
            assertEquals(1, Stackless.getRunCount());
            assertSame(Stackless.getMain(), Stackless.getCurrent());
        });
    }

    @Test
    void theMainThreadTakesItsTurnWithScheduleBlocking() {
        fresh(() -> {
            List<String> log = Collections.synchronizedList(new ArrayList<>());
            for (String name : List.of("A", "B")) {
                Tasklet.of(() -> {
                    for (int i = 0; i < 3; i++) {
                        log.add(name + i);
                        Stackless.scheduleBlocking();
                    }
                }).setup();
            }
            for (int i = 0; i < 3; i++) {
                log.add("M" + i);
                Object r = Stackless.scheduleBlocking();
                assertSame(Stackless.getMain(), r); // the default retval is the caller itself
            }
            assertEquals("M0 A0 B0 M1 A1 B1 M2 A2 B2", String.join(" ", log));
            assertEquals(3, Stackless.getRunCount());
            Stackless.run();
            assertEquals(1, Stackless.getRunCount());
        });
    }

    @Test
    void blockingIterableEndsOnAnExceptionSentAsStopIteration() {
        fresh(() -> {
            Channel<String> ch = new Channel<>();
            Tasklet.of(() -> {
                for (String s : List.of("a", "b", "c")) ch.sendBlocking(s);
                ch.sendExceptionBlocking(new NoSuchElementException());
            }).setup();
            List<String> got = new ArrayList<>();
            for (String s : ch.blockingIterable()) got.add(s);
            assertEquals(List.of("a", "b", "c"), got);
            Stackless.run();
            assertEquals(1, Stackless.getRunCount());
        });
    }

    @Test
    void blockingIterableEndsWhenTheChannelIsClosingAndNoSenderWaits() {
        fresh(() -> {
            Channel<String> ch = new Channel<>();
            ch.setPreference(1); // the sender runs first, so it closes before the last value is taken
            Tasklet t = Tasklet.of(() -> {
                for (String s : List.of("a", "b", "c")) ch.sendBlocking(s);
                ch.close();
            });
            t.setup();
            List<String> got = new ArrayList<>();
            for (String s : ch.blockingIterable()) got.add(s);
            assertEquals(List.of("a", "b", "c"), got);
            assertTrue(ch.getClosing());
            assertTrue(ch.getClosed());
            assertFalse(t.getAlive());
            assertEquals(1, Stackless.getRunCount());
        });
    }

    @Test
    void killBlockingAHardTaskletBlockedInReceiveBlocking() {
        fresh(() -> {
            List<String> log = Collections.synchronizedList(new ArrayList<>());
            Channel<Integer> ch = new Channel<>();
            Tasklet t = Tasklet.of(() -> {
                try {
                    ch.receiveBlocking();
                    log.add("received");
                } catch (TaskletExit e) {
                    log.add("exit");
                    throw e;
                } finally {
                    log.add("finally");
                }
            });
            t.setup();
            Stackless.run();
            assertEquals(-1, t.getBlocked());
            assertEquals(-1, ch.getBalance());
            assertTrue(t.getAlive());
            t.killBlocking();
            assertEquals(List.of("exit", "finally"), log);
            assertFalse(t.getAlive());
            assertEquals(0, t.getBlocked());
            assertEquals(0, ch.getBalance());
            assertEquals(1, Stackless.getRunCount());
        });
    }

    @Test
    void anUncaughtExceptionOfAHardTaskletIsRethrownFromRun() {
        fresh(() -> {
            List<String> log = Collections.synchronizedList(new ArrayList<>());
            Tasklet.of(() -> {
                log.add("A");
                throw new IllegalArgumentException("boom");
            }).setup();
            Tasklet.of(() -> log.add("B")).setup();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Stackless.run());
            assertEquals("boom", e.getMessage());
            // The watchdog hears of it before any other runnable tasklet; B stays queued.
            assertEquals(List.of("A"), log);
            assertEquals(2, Stackless.getRunCount());
            Stackless.run();
            assertEquals(List.of("A", "B"), log);
            assertEquals(1, Stackless.getRunCount());
        });
    }

    @Test
    void receiveBlockingWithNothingThatCanSendIsADeadlock() {
        fresh(() -> {
            Channel<String> ch = new Channel<>();
            DeadlockException e = assertThrows(DeadlockException.class, ch::receiveBlocking);
            assertEquals("Deadlock: the last runnable tasklet cannot be blocked.", firstLine(e));
            assertTrue(e.getMessage().contains("main is blocked receiving on Channel@"), e.getMessage());
            // Nothing changed: main is runnable again and the channel is empty.
            assertEquals(0, ch.getBalance());
            assertEquals(1, Stackless.getRunCount());
            assertEquals(0, Stackless.getMain().getBlocked());
        });
    }

    @Test
    void theDeadlockReportNamesABlockedHardTasklet() {
        fresh(() -> {
            Channel<String> ch = new Channel<>();
            Channel<String> other = new Channel<>();
            Tasklet worker = Tasklet.of(() -> other.receiveBlocking());
            worker.setName("worker");
            worker.setup();
            Stackless.run(); // worker blocks on `other`
            DeadlockException e = assertThrows(DeadlockException.class, ch::receiveBlocking);
            assertEquals("Deadlock: the last runnable tasklet cannot be blocked.", firstLine(e));
            String otherId = "Channel@" + Integer.toHexString(System.identityHashCode(other));
            assertTrue(e.getMessage().contains("worker is blocked receiving on " + otherId), e.getMessage());
            worker.killBlocking();
            assertFalse(worker.getAlive());
            assertEquals(0, other.getBalance());
        });
    }

    @Test
    void theMainTaskletIsToldWhenTheLastTaskletEndsWithoutSending() {
        fresh(() -> {
            Channel<String> ch = new Channel<>();
            List<String> log = Collections.synchronizedList(new ArrayList<>());
            Tasklet.of(() -> log.add("ran")).setup();
            DeadlockException e = assertThrows(DeadlockException.class, ch::receiveBlocking);
            assertEquals("the main tasklet is receiving without a sender available.", firstLine(e));
            assertEquals(List.of("ran"), log);
            assertEquals(0, ch.getBalance());
            assertEquals(1, Stackless.getRunCount());
        });
    }

    @Test
    void threadInfoAndDump() {
        fresh(() -> {
            ThreadInfo info = Stackless.getThreadInfo();
            assertSame(Stackless.getMain(), info.getMain());
            assertSame(Stackless.getMain(), info.getCurrent());
            assertEquals(1, info.getRunCount());
            assertEquals(info, Stackless.getThreadInfo(Thread.currentThread().getId()));
            IllegalStateException notFound = assertThrows(IllegalStateException.class, () -> Stackless.getThreadInfo(-42L));
            assertEquals("Thread id not found", notFound.getMessage());

            Channel<String> ch = new Channel<>();
            AtomicReference<String> got = new AtomicReference<>();
            Tasklet t = Tasklet.of(() -> got.set(ch.receiveBlocking()));
            t.setName("worker");
            assertEquals("worker", t.getName());
            t.setup();
            assertEquals(2, Stackless.getThreadInfo().getRunCount());
            Stackless.run(); // the worker blocks in receiveBlocking on its carrier thread
            assertEquals(1, Stackless.getThreadInfo().getRunCount());
            assertEquals(-1, t.getBlocked());

            String dump = Stackless.dump();
            assertNotNull(dump);
            assertTrue(dump.contains("worker"), dump);
            assertTrue(dump.contains("main"), dump);
            assertTrue(dump.contains("receiveBlocking"), dump); // the carrier's stack

            ch.sendBlocking("bye");
            assertEquals("bye", got.get());
            assertFalse(t.getAlive());
            assertEquals(1, Stackless.getRunCount());
        });
    }
}
