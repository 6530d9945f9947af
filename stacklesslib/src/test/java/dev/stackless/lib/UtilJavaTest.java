package dev.stackless.lib;

import static dev.stackless.lib.Fresh.fresh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.stackless.Channel;
import dev.stackless.Stackless;
import dev.stackless.Tasklet;
import dev.stackless.TaskletExit;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The Java surface of taskletCall, Cancellable, the fittings and SignalChannel: blocking twins called
 * from the main tasklet and from Java-bodied tasklets. Every test body runs as the main tasklet of a
 * new thread ({@link #fresh}).
 */
class UtilJavaTest {


    @Test
    void taskletCallReturnsRethrowsAndRunsOnAnotherTasklet() {
        fresh(() -> {
            assertEquals("plain", TaskletCallKt.taskletCallBlocking(() -> "plain"));
            assertEquals(42, (int) TaskletCallKt.taskletCallBlocking(TaskletDispatch.NEW, () -> {
                SleepKt.sleepBlocking(Duration.ofMillis(1));
                return 42;
            }));
            Tasklet other = TaskletCallKt.taskletCallBlocking(Stackless::getCurrent);
            assertNotSame(Stackless.getCurrent(), other);
            IllegalStateException boom = new IllegalStateException("boom");
            assertSame(boom, assertThrows(IllegalStateException.class, () -> TaskletCallKt.taskletCallBlocking(() -> {
                throw boom;
            })));
        });
    }

    @Test
    void taskletCallTimesOutAndReportsAKilledCallee() {
        fresh(() -> {
            List<String> log = new ArrayList<>();
            TaskletTimeoutException t = assertThrows(TaskletTimeoutException.class, () ->
                TaskletCallKt.taskletCallBlocking(TaskletDispatch.RUN, Duration.ofMillis(5), () -> log.add("abandoned"), () -> {
                    SleepKt.sleepBlocking(Duration.ofMillis(30));
                    log.add("callee done");
                    return null;
                }));
            assertEquals("timed out after 5ms", t.getMessage());
            assertEquals(List.of("abandoned"), log);
            MainLoop.run(); // until the callee has ended
            assertEquals(List.of("abandoned", "callee done"), log);

            TaskletCancelledException c = assertThrows(TaskletCancelledException.class, () ->
                TaskletCallKt.taskletCallBlocking(() -> {
                    Tasklet me = Stackless.getCurrent();
                    Tasklet.of(me::killBlocking).setup();
                    SleepKt.sleepBlocking(Duration.ofMillis(100));
                    return null;
                }));
            assertInstanceOf(CancellationException.class, c);
            assertEquals("cancelled", c.getMessage());
            assertInstanceOf(TaskletExit.class, c.getCause());
        });
    }

    @Test
    void cancellableFromAJavaTasklet() {
        fresh(() -> {
            Cancellable h = new Cancellable();
            List<String> log = new ArrayList<>();
            Tasklet.of(() -> {
                log.add("cancelling");
                h.cancelBlocking("foo", "bar");
                log.add("cancelled " + h.getCancelled());
            }).setup();
            TaskletCancelledException e = assertThrows(TaskletCancelledException.class,
                () -> h.runBlocking(() -> new Channel<Integer>().receiveBlocking()));
            log.add("caught");
            Stackless.run();
            assertEquals(List.of("cancelling", "caught", "cancelled true"), log);
            assertEquals(List.of("foo", "bar"), e.getArgs());
            assertEquals("cancelled: foo, bar", e.getMessage());
            assertTrue(h.match(e));
            assertFalse(h.match(new TaskletCancelledException()));
            assertEquals(7, (int) new Cancellable().runBlocking(() -> 7));
        });
    }

    @Test
    void syncToAsyncWaitsForTheLoop() {
        fresh(() -> {
            SyncToAsync<String> ok = SyncToAsync.of(s -> MainLoop.callLater(Duration.ofMillis(1), () -> s.onSuccess("answer")));
            assertEquals("answer", ok.callBlocking());

            IllegalStateException failure = new IllegalStateException("no answer");
            SyncToAsync<String> bad = SyncToAsync.of(s -> MainLoop.callLater(Duration.ofMillis(1), () -> s.onFailure(failure)));
            AsyncCallFailedException e = assertThrows(AsyncCallFailedException.class, bad::callBlocking);
            assertSame(failure, e.getError());
            assertEquals("asynchronous call failed: java.lang.IllegalStateException: no answer", e.getMessage());

            List<Object> abandoned = new ArrayList<>();
            SyncToAsync<String> cancelled = new SyncToAsync<String>() {
                @Override
                protected void initiateCall() {
                    // The cancel timer first, so that it is due first however long the registrations take.
                    MainLoop.callLater(Duration.ofNanos(500_000), () -> cancel("dude"));
                    MainLoop.callLater(Duration.ofMillis(1), () -> onSuccess("late"));
                }

                @Override
                protected void abandonedSuccess(Object value) {
                    abandoned.add(value);
                }
            };
            TaskletCancelledException c = assertThrows(TaskletCancelledException.class, cancelled::callBlocking);
            assertEquals(List.of("dude"), c.getArgs());
            MainLoop.run(); // until the late answer has come
            assertEquals(List.of("late"), abandoned);
        });
    }

    @Test
    void asyncToSyncFeedsSyncToAsync() {
        fresh(() -> {
            AtomicReference<SyncToAsync<String>> s = new AtomicReference<>();
            AsyncToSync<String> a = AsyncToSync.of(() -> {
                SleepKt.sleepBlocking(Duration.ofMillis(1));
                return "worked";
            }, v -> s.get().onSuccess(v), err -> s.get().onFailure(err));
            s.set(SyncToAsync.of(x -> a.initiateCallBlocking()));
            assertEquals("worked", s.get().callBlocking());

            ArithmeticException boom = new ArithmeticException("divided");
            AtomicReference<SyncToAsync<String>> s2 = new AtomicReference<>();
            AsyncToSync<String> failing = AsyncToSync.of(() -> {
                throw boom;
            }, v -> s2.get().onSuccess(v), err -> s2.get().onFailure(err), TaskletDispatch.NEW);
            s2.set(SyncToAsync.of(x -> failing.initiateCallBlocking()));
            assertSame(boom, assertThrows(AsyncCallFailedException.class, () -> s2.get().callBlocking()).getError());
        });
    }

    @Test
    void signalChannelWakesJavaTasklets() {
        fresh(() -> {
            SignalChannel<String> sc = new SignalChannel<>();
            List<String> log = new ArrayList<>();
            assertFalse(sc.signalBlocking("lost"));
            for (int i = 1; i <= 3; i++) {
                int n = i;
                Tasklet.of(() -> log.add("w" + n + " " + sc.receiveBlocking())).setup();
            }
            Stackless.run();
            assertEquals(-3, sc.getBalance());
            assertTrue(sc.signalBlocking("one"));
            assertEquals(2, sc.signalAllBlocking("rest"));
            log.add("signalled");
            Stackless.run();
            assertEquals(List.of("signalled", "w1 one", "w2 rest", "w3 rest"), log);
        });
    }
}
