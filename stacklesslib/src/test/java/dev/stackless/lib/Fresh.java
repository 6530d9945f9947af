package dev.stackless.lib;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.concurrent.atomic.AtomicReference;

/** The Java tests' harness: each test body runs as the main tasklet of a new thread (fresh scheduler and loop). */
final class Fresh {
    private Fresh() {}

    /** Runs {@code body} on a new thread, waits up to 60 s and rethrows its failure. */
    static void fresh(Runnable body) {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread thread = new Thread(() -> {
            try {
                body.run();
            } catch (Throwable e) {
                failure.set(e);
            }
        }, "java-test-main");
        thread.start();
        try {
            thread.join(60_000);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
        if (thread.isAlive()) fail("test thread still running after 60 s");
        Throwable f = failure.get();
        if (f instanceof Error) throw (Error) f;
        if (f instanceof RuntimeException) throw (RuntimeException) f;
        if (f != null) throw new AssertionError(f);
    }
}
