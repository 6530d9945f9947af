package dev.stackless;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The Java surface across threads: hard tasklets ({@link Tasklet#of}) and the blocking twins of one
 * thread talking to the tasklets of another, and operations on another thread's tasklet. Every test
 * body runs as the main tasklet of a new thread ({@link #fresh}); threads are ordered with latches
 * that fail after 5 s instead of hanging.
 */
class CrossThreadJavaTest {
    private static final long GUARD_MS = 5_000;

    /** Runs {@code body} on a new thread (fresh scheduler), waits up to 10 s and rethrows its failure. */
    private static void fresh(Runnable body) {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread thread = new Thread(() -> {
            try {
                Stackless.getCurrent(); // this thread has a scheduler before another thread blocks
                body.run();
            } catch (Throwable e) {
                failure.set(e);
            }
        }, "java-main");
        thread.setDaemon(true);
        thread.start();
        join(thread, 2 * GUARD_MS);
        rethrow(failure.get());
    }

    /**
     * Starts a daemon thread that creates its scheduler and then runs {@code body}; returns once the
     * scheduler exists. Its failure is kept in {@code failure}.
     */
    private static Thread start(String name, AtomicReference<Throwable> failure, Runnable body) {
        CountDownLatch ready = new CountDownLatch(1);
        Thread thread = new Thread(() -> {
            try {
                Stackless.getCurrent(); // this thread has a scheduler from now on
                ready.countDown();
                body.run();
            } catch (Throwable e) {
                failure.set(e);
            } finally {
                ready.countDown();
            }
        }, name);
        thread.setDaemon(true);
        thread.start();
        pass(ready, "thread " + name + " to start");
        return thread;
    }

    private static void join(Thread thread, long millis) {
        try {
            thread.join(millis);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
        if (thread.isAlive()) {
            StringBuilder sb = new StringBuilder("thread '" + thread.getName() + "' still running after " + millis + " ms:");
            for (StackTraceElement el : thread.getStackTrace()) sb.append("\n  at ").append(el);
            fail(sb.toString());
        }
    }

    private static void rethrow(Throwable f) {
        if (f instanceof Error) throw (Error) f;
        if (f instanceof RuntimeException) throw (RuntimeException) f;
        if (f != null) throw new AssertionError(f);
    }

    private static void pass(CountDownLatch latch, String what) {
        try {
            if (!latch.await(GUARD_MS, TimeUnit.MILLISECONDS)) fail("timed out waiting for " + what);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aHardTaskletOfAWorkerThreadTalksToTheMainTaskletOfAnotherThread() {
        fresh(() -> {
            Channel<Integer> in = new Channel<>();
            Channel<Integer> out = new Channel<>();
            AtomicLong seenThreadId = new AtomicLong();
            AtomicReference<Tasklet> hard = new AtomicReference<>();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<String> log = Collections.synchronizedList(new ArrayList<>());
            Thread worker = start("worker", failure, () -> {
                Tasklet t = Tasklet.of(() -> {
                    seenThreadId.set(Stackless.getCurrent().getThreadId());
                    int sum = 0;
                    for (int i = 0; i < 3; i++) sum += in.receiveBlocking();
                    out.sendBlocking(sum);
                    log.add("hard sent " + sum);
                });
                hard.set(t);
                t.setup();
                Stackless.runAll();
                log.add("runAll returned, runCount " + Stackless.getRunCount());
            });
            for (int i = 1; i <= 3; i++) in.sendBlocking(i);
            assertEquals(6, out.receiveBlocking());
            join(worker, GUARD_MS);
            rethrow(failure.get());
            assertEquals(worker.getId(), seenThreadId.get());
            assertEquals(List.of("hard sent 6", "runAll returned, runCount 1"), log);
            assertFalse(hard.get().getAlive());
            assertEquals(0, in.getBalance());
            assertEquals(0, out.getBalance());
            assertEquals(1, Stackless.getRunCount());
        });
    }

    @Test
    void pingPongBetweenTheMainTaskletsOfTwoJavaThreads() {
        fresh(() -> {
            Channel<Integer> ping = new Channel<>();
            Channel<Integer> pong = new Channel<>();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread worker = start("worker", failure, () -> {
                for (int i = 0; i < 500; i++) pong.sendBlocking(ping.receiveBlocking() * 2);
            });
            long sum = 0;
            for (int i = 0; i < 500; i++) {
                ping.sendBlocking(i);
                sum += pong.receiveBlocking();
            }
            assertEquals(249_500, sum);
            join(worker, GUARD_MS);
            rethrow(failure.get());
            assertSame(Stackless.getMain(), Stackless.getCurrent());
            assertEquals(0, Stackless.getMain().getBlocked());
        });
    }

    @Test
    void insertAndSwitchOfAnotherThreadsHardTasklet() {
        fresh(() -> {
            AtomicReference<Tasklet> paused = new AtomicReference<>();
            AtomicLong ranOn = new AtomicLong();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            CountDownLatch created = new CountDownLatch(1);
            List<String> log = Collections.synchronizedList(new ArrayList<>());
            Thread worker = start("worker", failure, () -> {
                Tasklet t = Tasklet.of(() -> {
                    ranOn.set(Stackless.getCurrent().getThreadId());
                    log.add("ran");
                });
                t.setup();
                t.remove();
                paused.set(t);
                created.countDown();
                Stackless.runAll(); // t is paused: waits until another thread inserts it
                log.add("runAll returned");
            });
            pass(created, "the worker's tasklet");
            Tasklet t = paused.get();
            assertTrue(t.getPaused());
            assertEquals(worker.getId(), t.getThreadId());
            IllegalStateException e = assertThrows(IllegalStateException.class, t::switchBlocking);
            assertEquals("can't switch to a different thread.", e.getMessage());
            assertSame(t, t.insert());
            assertEquals(1, Stackless.getRunCount()); // it went to the worker's queue, not ours
            join(worker, GUARD_MS);
            rethrow(failure.get());
            assertEquals(List.of("ran", "runAll returned"), log);
            assertEquals(worker.getId(), ranOn.get());
            assertFalse(t.getAlive());
        });
    }

    @Test
    void aValueHandedToAJavaTaskletWhoseThreadEndsIsReceivedBeforeItIsKilled() {
        fresh(() -> {
            Channel<Integer> ch = new Channel<>();
            ch.open(); // this thread uses the channel first
            CountDownLatch idle = new CountDownLatch(1);
            CountDownLatch sent = new CountDownLatch(1);
            CountDownLatch finished = new CountDownLatch(1);
            AtomicReference<String> log = new AtomicReference<>("nothing");
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread worker = new Thread(() -> {
                try {
                    Tasklet.of(() -> {
                        try {
                            log.set("received " + ch.receiveBlocking());
                            Stackless.scheduleBlocking();
                            log.set(log.get() + ", not killed");
                        } catch (TaskletExit e) {
                            log.set(log.get() + ", then killed");
                            throw e;
                        } finally {
                            finished.countDown();
                        }
                    }).setup();
                    Stackless.run();
                    idle.countDown();
                    pass(sent, "the send"); // plain code until the send has happened; then the thread ends
                } catch (Throwable e) {
                    failure.set(e);
                    idle.countDown();
                }
            }, "ends-with-a-value");
            worker.start();
            while (idle.getCount() > 0) Stackless.scheduleBlocking(); // hands the channel over when asked
            ch.sendBlocking(42);
            sent.countDown();
            join(worker, GUARD_MS);
            rethrow(failure.get());
            pass(finished, "the Java tasklet's finally block");
            assertEquals("received 42, then killed", log.get());
        });
    }

    @Test
    void aChannelCallbackThatKillsTheWaitingPartnerPendingLeavesTheChannelWhole() {
        fresh(() -> {
            Channel<String> ch = new Channel<>();
            List<String> log = new ArrayList<>();
            Tasklet first = Tasklet.of(() -> {
                try {
                    ch.receiveBlocking();
                } catch (TaskletExit e) {
                    log.add("first killed");
                }
            }).setup();
            Tasklet.of(() -> log.add("second got " + ch.receiveBlocking())).setup();
            Stackless.run();
            ChannelCallback old = Stackless.setChannelCallback((c, t, sending, willBlock) -> {
                if (c == ch && sending && t.isMain() && first.getAlive()) first.killBlocking(true);
            });
            try {
                ch.sendBlocking("v");
            } finally {
                Stackless.setChannelCallback(old);
            }
            Stackless.run();
            assertEquals(List.of("second got v", "first killed"), log);
            assertEquals(0, ch.getBalance());
        });
    }
}
