package dev.stackless.lib

/**
 * The asynchronous operation behind a [SyncToAsync] call reported a failure through
 * [SyncToAsync.onFailure] (stacklesslib's `AsyncCallFailed`): thrown in the waiting caller, with
 * that [error] as its cause and the message `asynchronous call failed: <error>`.
 */
public class AsyncCallFailedException(
    /** The failure the asynchronous operation reported. */
    public val error: Throwable,
) : RuntimeException("asynchronous call failed: $error", error)
