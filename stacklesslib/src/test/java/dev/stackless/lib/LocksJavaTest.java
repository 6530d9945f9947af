package dev.stackless.lib;

import static dev.stackless.lib.Fresh.fresh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.stackless.Stackless;
import dev.stackless.Tasklet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The locks from Java: the blocking twins called by the main tasklet (a plain thread) and by Java
 * {@link Runnable} tasklets ({@link Tasklet#of}). Every test body runs as the main tasklet of a
 * new thread ({@link #fresh}).
 */
class LocksJavaTest {


    private static Tasklet spawn(Runnable body) {
        return Tasklet.of(body).setup();
    }

    @Test
    void hardTaskletsGetTheMainTaskletsLockInArrivalOrder() {
        fresh(() -> {
            List<String> log = Collections.synchronizedList(new ArrayList<>());
            Lock lock = new Lock();
            assertTrue(lock.acquireBlocking());
            for (int i = 0; i < 3; i++) {
                int n = i;
                spawn(() -> {
                    log.add(n + " waits");
                    assertTrue(lock.acquireBlocking());
                    log.add(n + " got");
                    Stackless.scheduleBlocking();
                    lock.release();
                });
            }
            Stackless.run(); // all three wait now
            lock.release();
            log.add("released, locked=" + lock.getLocked() + ", barge=" + lock.tryAcquire());
            Stackless.run();
            assertFalse(lock.getLocked());
            assertEquals(List.of("0 waits", "1 waits", "2 waits", "released, locked=true, barge=false",
                    "0 got", "1 got", "2 got"), log);
        });
    }

    @Test
    void theMainTaskletWaitsForALockAHardTaskletHolds() {
        fresh(() -> {
            List<String> log = Collections.synchronizedList(new ArrayList<>());
            Lock lock = new Lock();
            spawn(() -> lock.withLockBlocking(() -> {
                log.add("hard holds it");
                Stackless.scheduleBlocking();
                log.add("hard releases it");
                return null;
            }));
            Stackless.scheduleBlocking();
            assertTrue(lock.getLocked());
            assertTrue(lock.acquireBlocking());
            log.add("main got it");
            lock.release();
            assertEquals(List.of("hard holds it", "hard releases it", "main got it"), log);
            IllegalStateException e = assertThrows(IllegalStateException.class, lock::release);
            assertEquals("release unlocked lock", e.getMessage());
        });
    }

    @Test
    void timedAcquiresReturnFalseAfterTheTimeout() {
        fresh(() -> {
            Lock lock = new Lock();
            lock.acquireBlocking();
            long t0 = System.nanoTime();
            assertFalse(lock.acquireBlocking(Duration.ofMillis(20)));
            assertTrue(System.nanoTime() - t0 >= 20_000_000L);
            assertFalse(lock.acquireBlocking(Duration.ZERO));
            AtomicReference<Boolean> hard = new AtomicReference<>();
            spawn(() -> hard.set(lock.acquireBlocking(Duration.ofMillis(10))));
            Stackless.run();
            while (hard.get() == null) SleepKt.sleepBlocking(Duration.ofMillis(1));
            assertFalse(hard.get());
            assertTrue(lock.getLocked());
        });
    }

    @Test
    void semaphoresAndTheirErrors() {
        fresh(() -> {
            Semaphore sem = new Semaphore(2);
            AtomicInteger inUse = new AtomicInteger();
            AtomicInteger maxInUse = new AtomicInteger();
            for (int i = 0; i < 6; i++) {
                spawn(() -> sem.withLockBlocking(() -> {
                    maxInUse.accumulateAndGet(inUse.incrementAndGet(), Math::max);
                    Stackless.scheduleBlocking();
                    inUse.decrementAndGet();
                    return null;
                }));
            }
            Stackless.run();
            assertEquals(2, maxInUse.get());
            assertEquals(2, sem.getValue());
            assertEquals("semaphore initial value must be >= 0",
                    assertThrows(IllegalArgumentException.class, () -> new Semaphore(-1)).getMessage());
            BoundedSemaphore bounded = new BoundedSemaphore();
            assertEquals("Semaphore released too many times",
                    assertThrows(IllegalArgumentException.class, bounded::release).getMessage());
            assertTrue(bounded.tryAcquire());
            assertFalse(bounded.acquireBlocking(Duration.ofMillis(1)));
            bounded.release();
        });
    }

    @Test
    void rLockOwnershipFromJava() {
        fresh(() -> {
            RLock lock = new RLock();
            assertTrue(lock.acquireBlocking());
            assertTrue(lock.acquireBlocking());
            assertTrue(lock.isOwned());
            AtomicReference<String> other = new AtomicReference<>();
            spawn(() -> {
                other.set(lock.isOwned() + " " + lock.tryAcquire());
                try {
                    lock.release();
                } catch (IllegalStateException e) {
                    other.set(other.get() + " " + e.getMessage());
                }
            });
            Stackless.run();
            assertEquals("false false cannot release un-acquired lock", other.get());
            lock.release();
            lock.release();
            assertFalse(lock.getLocked());
        });
    }

    @Test
    void producerAndConsumersOnACondition() {
        fresh(() -> {
            Condition cond = new Condition();
            List<Integer> items = new ArrayList<>();
            List<String> log = Collections.synchronizedList(new ArrayList<>());
            for (int i = 0; i < 3; i++) {
                int n = i;
                spawn(() -> {
                    int item = cond.withLockBlocking(() -> {
                        while (items.isEmpty()) cond.waitBlocking();
                        return items.remove(0);
                    });
                    log.add("consumer " + n + " got " + item);
                });
            }
            Stackless.run();
            for (int i = 0; i < 3; i++) {
                int item = 10 * i;
                cond.withLockBlocking(() -> {
                    items.add(item);
                    cond.notify(1);
                    return null;
                });
            }
            Stackless.run();
            assertEquals(List.of("consumer 0 got 0", "consumer 1 got 10", "consumer 2 got 20"), log);

            assertEquals("cannot wait on un-acquired lock",
                    assertThrows(IllegalStateException.class, cond::waitBlocking).getMessage());
            assertEquals("cannot notify on un-acquired lock",
                    assertThrows(IllegalStateException.class, () -> cond.notify(1)).getMessage());
            assertEquals("cannot notify on un-acquired lock",
                    assertThrows(IllegalStateException.class, cond::notifyAllWaiters).getMessage());

            AtomicInteger state = new AtomicInteger();
            AtomicReference<Boolean> reached = new AtomicReference<>();
            spawn(() -> reached.set(cond.withLockBlocking(() -> cond.waitForBlocking(() -> state.get() == 2))));
            Stackless.run();
            for (int i = 0; i < 2; i++) {
                cond.acquireBlocking();
                state.incrementAndGet();
                cond.notifyAllWaiters();
                cond.release();
                Stackless.run();
            }
            assertTrue(reached.get());
            cond.acquireBlocking();
            assertFalse(cond.waitBlocking(Duration.ofMillis(5)));
            assertTrue(cond.isOwned());
            assertFalse(cond.waitForBlocking(Duration.ofMillis(5), () -> false));
            cond.release();
        });
    }

    @Test
    void eventsWakeHardTaskletsAndTheMainTasklet() {
        fresh(() -> {
            Event event = new Event();
            List<String> log = Collections.synchronizedList(new ArrayList<>());
            for (int i = 0; i < 3; i++) {
                int n = i;
                spawn(() -> log.add(n + ":" + event.waitBlocking(Duration.ofSeconds(10))));
            }
            Stackless.run();
            assertFalse(event.waitBlocking(Duration.ZERO));
            event.set();
            log.add("set");
            Stackless.run();
            assertEquals(List.of("set", "0:true", "1:true", "2:true"), log);
            event.clear();
            MainLoop.callLater(Duration.ofMillis(5), event::set);
            assertTrue(event.waitBlocking());
        });
    }

    @Test
    void aBarrierWithTheMainTaskletAsOneOfItsParties() {
        fresh(() -> {
            AtomicInteger actions = new AtomicInteger();
            Barrier barrier = new Barrier(4, actions::incrementAndGet);
            List<Integer> indexes = Collections.synchronizedList(new ArrayList<>());
            for (int i = 0; i < 3; i++) spawn(() -> indexes.add(barrier.awaitBlocking()));
            indexes.add(barrier.awaitBlocking());
            Stackless.run();
            assertEquals(List.of(3, 0, 1, 2), indexes);
            assertEquals(1, actions.get());
            assertEquals(4, barrier.getParties());

            Barrier timed = new Barrier(2, null, Duration.ofMillis(5));
            assertThrows(BrokenBarrierException.class, timed::awaitBlocking);
            assertTrue(timed.getBroken());
            timed.reset();
            assertFalse(timed.getBroken());
            timed.abort();
            assertEquals("barrier is broken",
                    assertThrows(BrokenBarrierException.class, () -> timed.awaitBlocking(Duration.ofSeconds(1))).getMessage());
        });
    }

    @Test
    void aKilledHardWaiterLeavesTheQueue() {
        fresh(() -> {
            Lock lock = new Lock();
            lock.acquireBlocking();
            List<String> log = Collections.synchronizedList(new ArrayList<>());
            Tasklet a = spawn(() -> {
                try {
                    lock.acquireBlocking();
                    log.add("a got it");
                } finally {
                    log.add("a left");
                }
            });
            spawn(() -> {
                lock.acquireBlocking();
                log.add("b got it");
                lock.release();
            });
            Stackless.run();
            a.killBlocking();
            lock.release();
            Stackless.run();
            assertEquals(List.of("a left", "b got it"), log);
            assertFalse(lock.getLocked());
        });
    }
}
