package dev.stackless.lib

import dev.stackless.Stackless
import dev.stackless.Tasklet

/**
 * Runs [block] as a tasklet on the calling thread and runs [MainLoop] until every tasklet of the
 * thread has ended (or [MainLoop.stop] is called): the entry point of a tasklet program.
 * An exception that escapes a tasklet is rethrown here, as from [dev.stackless.Stackless.run].
 *
 * @throws IllegalStateException when called from inside a tasklet.
 * @throws dev.stackless.DeadlockException when tasklets are left that can never run again.
 */
public fun stackless(block: suspend () -> Unit) {
    check(Stackless.current.isMain) { "stackless { } runs the loop from the main tasklet, not from ${Stackless.current}" }
    Tasklet(block).setup()
    MainLoop.run()
}
