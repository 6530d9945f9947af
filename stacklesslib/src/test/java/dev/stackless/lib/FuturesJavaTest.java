package dev.stackless.lib;

import static dev.stackless.lib.Fresh.fresh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.stackless.Channel;
import dev.stackless.ChannelClosedException;
import dev.stackless.Stackless;
import dev.stackless.Tasklet;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The futures, executors, queue and tasklet locals as Java sees them: blocking twins, Callable,
 * Consumer and Function overloads, java.time.Duration, try-with-resources. Every test body runs as
 * the main tasklet of a new thread ({@link #fresh}).
 */
class FuturesJavaTest {


    @Test
    void futureStatesCallbacksAndResults() {
        fresh(() -> {
            Future<String> f = new Future<>();
            List<Object> seen = new ArrayList<>();
            f.addDoneCallback(x -> seen.add(x.resultBlocking()));
            java.util.function.Consumer<Future<String>> removed = seen::add;
            f.addDoneCallback(removed);
            f.removeDoneCallback(removed);
            assertFalse(f.getDone());
            assertTrue(f.setRunningOrNotifyCancel());
            assertTrue(f.getRunning());
            TaskletTimeoutException te =
                assertThrows(TaskletTimeoutException.class, () -> f.resultBlocking(Duration.ZERO));
            assertEquals("timed out after 0s", te.getMessage());
            f.setResult("v");
            assertEquals(List.of("v"), seen);
            assertEquals("v", f.resultBlocking());
            assertNull(f.exceptionBlocking(Duration.ofSeconds(1)));
            assertFalse(f.cancel());

            IOException boom = new IOException("boom");
            Future<String> g = new Future<>();
            g.setException(boom);
            assertSame(boom, assertThrows(IOException.class, g::resultBlocking));
            assertSame(boom, g.exceptionBlocking());

            Future<String> c = new Future<>();
            assertTrue(c.cancel());
            assertEquals("the future was cancelled",
                assertThrows(CancellationException.class, c::resultBlocking).getMessage());
        });
    }

    @Test
    void unreadMapsLeaveNothingBlocked() {
        fresh(() -> {
            List<Integer> finished = java.util.Collections.synchronizedList(new ArrayList<>());
            TaskletExecutor tasklets = new TaskletExecutor();
            ThreadPoolExecutor threads = new ThreadPoolExecutor(2);
            tasklets.map(List.of(1, 2, 3), null, x -> finished.add(x));
            Channel<Integer> partly = threads.map(List.of(10, 20, 30), null, x -> {
                finished.add(x);
                return x;
            });
            assertEquals(10, partly.blockingIterable().iterator().next());
            tasklets.shutdownBlocking(true);
            threads.shutdownBlocking(true);
            // Nothing is left blocked on the results: the loop, which reports tasklets that can
            // never run again, simply ends.
            MainLoop.run();
            assertEquals(Set.of(1, 2, 3, 10, 20, 30), Set.copyOf(finished));
        });
    }

    @Test
    void threadPoolExecutorWithCallablesAndMap() {
        fresh(() -> {
            try (ThreadPoolExecutor ex = new ThreadPoolExecutor(2)) {
                Future<Integer> f = ex.submit(() -> 6 * 7);
                assertEquals(42, f.resultBlocking());
                List<Integer> doubled = new ArrayList<>();
                for (int x : ex.map(List.of(1, 2, 3), null, x -> x * 2).blockingIterable()) doubled.add(x);
                assertEquals(List.of(2, 4, 6), doubled);

                CountDownLatch gate = new CountDownLatch(1);
                Channel<Integer> late = ex.map(List.of(0, 1), Duration.ofMillis(20), x -> {
                    if (x == 1) {
                        try {
                            gate.await();
                        } catch (InterruptedException e) {
                            throw new IllegalStateException(e);
                        }
                    }
                    return x;
                });
                List<Integer> got = new ArrayList<>();
                TaskletTimeoutException e = assertThrows(TaskletTimeoutException.class, () -> {
                    for (int x : late.blockingIterable()) got.add(x);
                });
                assertEquals("timed out after 20ms", e.getMessage());
                assertEquals(List.of(0), got);
                gate.countDown();
            }
        });
    }

    @Test
    void taskletExecutorJobsRunAsTaskletsOfTheCallingThread() {
        fresh(() -> {
            List<String> log = new ArrayList<>();
            TaskletExecutor ex = new TaskletExecutor(1);
            Future<String> a = ex.submit(() -> {
                log.add("a start");
                SleepKt.sleepBlocking(Duration.ofMillis(5));
                log.add("a end");
                return Stackless.getCurrent().getName();
            });
            Future<String> b = ex.submit(() -> {
                log.add("b");
                return "b";
            });
            assertEquals("TaskletExecutor job", a.resultBlocking());
            assertEquals("b", b.resultBlocking());
            assertEquals(List.of("a start", "a end", "b"), log);
            ex.close();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> ex.submit(() -> 1));
            assertEquals("cannot schedule new futures after shutdown", e.getMessage());
        });
    }

    @Test
    void waitAndAsCompleted() {
        fresh(() -> {
            Future<Integer> done = new Future<>();
            done.setResult(1);
            Future<Integer> later = new Future<>();
            Future<Integer> never = new Future<>();
            Tasklet.of(() -> {
                SleepKt.sleepBlocking(Duration.ofMillis(2));
                later.setResult(2);
            }).setup();
            List<Future<Integer>> fs = List.of(never, later, done);
            DoneAndNotDone<Integer> first = WaitKt.waitBlocking(fs, ReturnWhen.FIRST_COMPLETED);
            assertEquals(Set.of(done), first.getDone());
            // The hard tasklet completes `later` while this wait lets it run (however late its thread starts).
            assertEquals(Set.of(later), WaitKt.waitBlocking(List.of(never, later), ReturnWhen.FIRST_COMPLETED).getDone());
            DoneAndNotDone<Integer> partial = WaitKt.waitBlocking(fs, Duration.ofMillis(50));
            assertEquals(Set.of(done, later), partial.getDone());
            assertEquals(Set.of(never), partial.getNotDone());

            never.setResult(3);
            List<Integer> order = new ArrayList<>();
            for (Future<Integer> f : AsCompletedKt.asCompleted(fs).blockingIterable()) order.add(f.resultBlocking());
            assertEquals(List.of(3, 2, 1), order);
            assertEquals(List.of(3, 2, 1), GathersKt.allResultsBlocking(fs));
            assertEquals(3, GathersKt.anyResultBlocking(fs, Duration.ofSeconds(1)));
        });
    }

    @Test
    void queueChannelAndTaskletLocal() {
        fresh(() -> {
            QueueChannel<String> q = new QueueChannel<>(2);
            q.sendBlocking("a");
            q.sendBlocking("b");
            assertEquals(2, q.getBalance());
            Tasklet.of(() -> {
                q.sendBlocking("c");
                q.close();
            }).setup();
            List<String> got = new ArrayList<>();
            for (String s : q.blockingIterable()) got.add(s);
            assertEquals(List.of("a", "b", "c"), got);
            assertTrue(q.getClosed());
            assertEquals("Send/receive operation on a closed channel",
                assertThrows(ChannelClosedException.class, q::receiveBlocking).getMessage());

            TaskletLocal<Integer> local = new TaskletLocal<>(() -> 7);
            assertEquals(7, local.get());
            local.set(8);
            List<Integer> inTasklet = new ArrayList<>();
            Tasklet.of(() -> inTasklet.add(local.get())).setup();
            Stackless.run();
            assertEquals(List.of(7), inTasklet);
            assertEquals(8, local.get());
        });
    }
}
