package dev.stackless.lib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stackless.Channel;
import dev.stackless.Stackless;
import dev.stackless.Tasklet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The stacklesslib foundation as Java sees it: the loop, timers and handles, sleep, timeouts and
 * calls on other threads, with java.time.Duration. Every body runs as the main tasklet of a new
 * thread, so each test has a fresh scheduler and loop.
 */
class LoopJavaTest {
    /** Runs {@code body} on a new thread, waits up to 60 s and rethrows what it threw. */
    private static void fresh(Runnable body) throws Throwable {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread thread = new Thread(() -> {
            try {
                body.run();
            } catch (Throwable e) {
                failure.set(e);
            }
        }, "java-loop-main");
        thread.setDaemon(true);
        thread.start();
        thread.join(60_000);
        assertFalse(thread.isAlive(), "test thread still running after 60 s");
        if (failure.get() != null) throw failure.get();
    }

    private static void await(CountDownLatch latch) {
        try {
            assertTrue(latch.await(10, TimeUnit.SECONDS), "latch not released within 10 s");
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void callbacksRunInDeadlineOrderThenFifo() throws Throwable {
        fresh(() -> {
            List<String> log = new ArrayList<>();
            MainLoop.callLater(Duration.ofMillis(40), () -> log.add("late"));
            MainLoop.callLater(Duration.ofMillis(20), () -> log.add("early1"));
            MainLoop.callLater(Duration.ofMillis(20), () -> log.add("early2"));
            MainLoop.callSoon(() -> log.add("soon1"));
            MainLoop.callSoon(() -> log.add("soon2"));
            assertEquals(5, MainLoop.getPendingTimers());
            MainLoop.run();
            assertEquals(Arrays.asList("soon1", "soon2", "early1", "early2", "late"), log);
            assertEquals(0, MainLoop.getPendingTimers());
        });
    }

    @Test
    void handleCancelAndRepeatingCallback() throws Throwable {
        fresh(() -> {
            AtomicInteger runs = new AtomicInteger();
            Handle[] repeating = new Handle[1];
            repeating[0] = MainLoop.callRepeatedly(Duration.ofMillis(2), () -> {
                if (runs.incrementAndGet() == 3) assertTrue(repeating[0].cancel());
            });
            Handle never = MainLoop.callLater(Duration.ofMillis(1), () -> runs.addAndGet(100));
            assertTrue(never.isPending());
            assertTrue(never.cancel());
            assertFalse(never.cancel());
            MainLoop.run();
            assertEquals(3, runs.get());
            assertFalse(repeating[0].isPending());
            assertFalse(repeating[0].cancel());
        });
    }

    @Test
    void stopFromACallbackEndsRun() throws Throwable {
        fresh(() -> {
            AtomicInteger runs = new AtomicInteger();
            Handle h = MainLoop.callRepeatedly(Duration.ofMillis(2), () -> {
                if (runs.incrementAndGet() == 2) MainLoop.stop();
            });
            MainLoop.run();
            assertEquals(2, runs.get());
            assertTrue(h.cancel());
        });
    }

    @Test
    void hardTaskletsSleepAndTheLoopRunsThem() throws Throwable {
        fresh(() -> {
            List<String> log = new ArrayList<>();
            Tasklet.of(() -> {
                log.add("a sleeps");
                // a's deadline is taken after b's, whatever the machine's load: b's shorter sleep ends first.
                while (!log.contains("b sleeps")) Stackless.scheduleBlocking();
                SleepKt.sleepBlocking(Duration.ofMillis(20));
                log.add("a wakes");
            }).setup();
            Tasklet.of(() -> {
                log.add("b sleeps");
                SleepKt.sleepBlocking(Duration.ofMillis(10));
                log.add("b wakes");
            }).setup();
            MainLoop.run();
            assertEquals(Arrays.asList("a sleeps", "b sleeps", "b wakes", "a wakes"), log);
        });
    }

    @Test
    void sleepBlockingOnTheMainThreadWaitsAtLeastTheDuration() throws Throwable {
        fresh(() -> {
            long t0 = System.nanoTime();
            SleepKt.sleepBlocking(Duration.ofMillis(25));
            assertTrue(System.nanoTime() - t0 >= 25_000_000L);
            assertEquals(0, MainLoop.getPendingTimers());
        });
    }

    @Test
    void timeoutBlockingReturnsTheValueOrTimesOut() throws Throwable {
        fresh(() -> {
            assertEquals("quick", TimeoutKt.timeoutBlocking(Duration.ofSeconds(10), () -> "quick"));
            Channel<String> ch = new Channel<>();
            TaskletTimeoutException e = assertThrows(TaskletTimeoutException.class,
                () -> TimeoutKt.timeoutBlocking(Duration.ofMillis(10), ch::receiveBlocking));
            assertEquals("timed out after 10ms", e.getMessage());
            assertEquals(0, ch.getBalance());
            assertEquals("no limit", TimeoutKt.timeoutBlocking(null, () -> "no limit"));
            assertEquals(0, MainLoop.getPendingTimers());
        });
    }

    @Test
    void timeoutBlockingInAHardTasklet() throws Throwable {
        fresh(() -> {
            AtomicReference<Throwable> caught = new AtomicReference<>();
            Tasklet.of(() -> {
                try {
                    TimeoutKt.timeoutBlocking(Duration.ofMillis(10), () -> {
                        SleepKt.sleepBlocking(Duration.ofHours(1));
                        return null;
                    });
                } catch (TaskletTimeoutException e) {
                    caught.set(e);
                }
            }).setup();
            MainLoop.run();
            assertEquals("timed out after 10ms", caught.get().getMessage());
        });
    }

    @Test
    void callOnThreadBlockingOverloads() throws Throwable {
        fresh(() -> {
            Thread caller = Thread.currentThread();
            Thread worker = CallOnThreadKt.callOnThreadBlocking(Thread::currentThread);
            assertNotSame(caller, worker);
            assertEquals(42, (int) CallOnThreadKt.callOnThreadBlocking(Duration.ofSeconds(10), () -> 42));

            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch abandoned = new CountDownLatch(1);
            TaskletTimeoutException e = assertThrows(TaskletTimeoutException.class,
                () -> CallOnThreadKt.callOnThreadBlocking(Duration.ofMillis(10), abandoned::countDown, () -> {
                    await(release);
                    return "late";
                }));
            assertEquals("timed out after 10ms", e.getMessage());
            release.countDown();
            await(abandoned);

            IllegalArgumentException boom = new IllegalArgumentException("bad input");
            IllegalArgumentException thrown = assertThrows(IllegalArgumentException.class,
                () -> CallOnThreadKt.callOnThreadBlocking(() -> {
                    throw boom;
                }));
            assertSame(boom, thrown);
        });
    }

    @Test
    void callOnThreadBlockingInAHardTaskletLetsTheOthersRun() throws Throwable {
        fresh(() -> {
            List<String> log = new ArrayList<>();
            CountDownLatch release = new CountDownLatch(1);
            Tasklet.of(() -> {
                log.add("calling");
                log.add(CallOnThreadKt.callOnThreadBlocking(() -> {
                    await(release);
                    return "result";
                }));
            }).setup();
            Tasklet.of(() -> {
                log.add("other");
                release.countDown();
            }).setup();
            MainLoop.run();
            assertEquals(Arrays.asList("calling", "other", "result"), log);
        });
    }

    @Test
    void aCallbackMayNotSwitch() throws Throwable {
        fresh(() -> {
            AtomicReference<Throwable> caught = new AtomicReference<>();
            MainLoop.callSoon(() -> {
                try {
                    Stackless.scheduleBlocking();
                } catch (IllegalStateException e) {
                    caught.set(e);
                }
            });
            MainLoop.run();
            assertEquals("A timer callback cannot switch tasklets or use a channel (current: main)", caught.get().getMessage());
        });
    }

    @Test
    void runOnceAndPump() throws Throwable {
        fresh(() -> {
            List<String> log = new ArrayList<>();
            MainLoop.callSoon(() -> log.add("a"));
            assertEquals(1, MainLoop.pump());
            MainLoop.callLater(Duration.ofMillis(5), () -> log.add("b"));
            MainLoop.runOnce();
            assertEquals(Arrays.asList("a", "b"), log);
            assertEquals(0, MainLoop.pump());
        });
    }
}
