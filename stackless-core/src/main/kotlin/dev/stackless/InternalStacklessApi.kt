package dev.stackless

/**
 * Marks the scheduler hooks that the `stacklesslib` module builds on (timers, the idle wait, waits
 * for other threads). They are public only because Kotlin's `internal` does not cross modules;
 * their contracts may change between releases. Application code uses `dev.stackless.lib` instead.
 */
@RequiresOptIn(
    message = "A scheduler hook for stacklesslib; use the dev.stackless.lib API instead.",
    level = RequiresOptIn.Level.ERROR,
)
@Retention(AnnotationRetention.BINARY)
@Target(AnnotationTarget.CLASS, AnnotationTarget.FUNCTION, AnnotationTarget.PROPERTY)
public annotation class InternalStacklessApi
