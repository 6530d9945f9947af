package dev.stackless

/**
 * Thrown by an operation that would switch to another tasklet while [Stackless.switchTrap] is
 * non-zero. The operation has no effect: queues, channels and tempvals are as before the call.
 */
public class SwitchTrapException(message: String = "switch_trap") : IllegalStateException(message)
