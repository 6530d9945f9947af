package dev.stackless

/**
 * Misuse of a tasklet in its current state. [message] is Stackless' exact text; the localized
 * message (used by `toString()` and stack traces) adds the tasklet's name and state, which is what a
 * reader of a log needs.
 */
internal class TaskletStateException(message: String, private val detail: String) :
    IllegalStateException(message) {
    constructor(message: String, tasklet: Tasklet) : this(message, tasklet.toString())

    override fun getLocalizedMessage(): String = "$message [$detail]"
}
