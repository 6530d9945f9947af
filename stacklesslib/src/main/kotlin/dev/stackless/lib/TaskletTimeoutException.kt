package dev.stackless.lib

/**
 * A Stackless operation timed out: raised by [timeout] in the scope that set the time limit, and by
 * the operations that take a time limit and cannot answer false (for example [Future.result]).
 * stacklesslib's `TimeoutError`.
 */
public open class TaskletTimeoutException(message: String = "Stackless operation timed out") : RuntimeException(message)
