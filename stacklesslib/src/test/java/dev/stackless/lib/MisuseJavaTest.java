package dev.stackless.lib;

import static dev.stackless.lib.Fresh.fresh;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stackless.DeadlockException;
import dev.stackless.Tasklet;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Misuse from Java: a lock used from a thread it does not belong to, a lock whose holder died. */
class MisuseJavaTest {

    @Test
    void aSemaphoreReleasedFromAnotherThreadThrowsAndKeepsItsPermits() {
        fresh(() -> {
            Semaphore sem = new Semaphore(1);
            assertTrue(sem.acquireBlocking());
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            Thread other = new Thread(() -> {
                try {
                    sem.release();
                } catch (Throwable e) {
                    thrown.set(e);
                }
            }, "other");
            other.start();
            try {
                other.join();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            assertTrue(thrown.get() instanceof IllegalStateException);
            assertTrue(thrown.get().getMessage().endsWith("cannot be used from thread 'other'"));
            assertEquals(0, sem.getValue());
            sem.release();
            assertEquals(1, sem.getValue());
        });
    }

    @Test
    void theDeadlockReportNamesALockWhoseHardTaskletHolderDied() {
        fresh(() -> {
            Lock lock = new Lock();
            Tasklet holder = Tasklet.of(() -> {
                lock.acquireBlocking();
                dev.stackless.Stackless.scheduleRemoveBlocking();
            });
            holder.setName("holder");
            holder.setup();
            dev.stackless.Stackless.run();
            holder.killBlocking();
            DeadlockException e = null;
            try {
                lock.acquireBlocking();
            } catch (DeadlockException caught) {
                e = caught;
            }
            assertNotNull(e);
            assertTrue(e.getMessage().contains("main is waiting for Lock(locked)"), e.getMessage());
        });
    }
}
