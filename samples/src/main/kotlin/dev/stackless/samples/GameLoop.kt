package dev.stackless.samples

import dev.stackless.Stackless
import dev.stackless.Tasklet
import java.time.Duration

/**
 * A game loop: every frame, the entities' tasklets get a 5 ms budget with `Stackless.run(Duration)`.
 * Well-behaved entities do their frame's work and pause until the next frame; a runaway one (an AI
 * stuck in a long search) is interrupted at its next tick, reported, and goes on next frame.
 */
fun main() {
    val frames = 5
    var aiSteps = 0L
    val moves = IntArray(3)

    val npcs = List(3) { n ->
        Tasklet {
            while (true) {
                moves[n]++ // move, animate, …: a few microseconds of work
                Stackless.scheduleRemove() // done for this frame
            }
        }.apply { name = "npc-$n" }.setup()
    }
    val ai = Tasklet {
        while (true) {
            aiSteps++
            Stackless.tick() // the busy loop's preemption point
        }
    }.apply { name = "runaway-ai" }.setup()

    var late: Tasklet? = null
    for (frame in 1..frames) {
        npcs.filter { it.paused }.forEach { it.insert() } // a new frame for every entity
        late?.insert() // the interrupted one goes on after them
        val started = System.nanoTime()
        val interrupted = Stackless.run(Duration.ofMillis(5))
        val ms = (System.nanoTime() - started) / 1e6
        if (interrupted != null) {
            println("frame $frame: interrupted ${interrupted.name} after %.1f ms; NPC moves %s; AI steps %,d"
                .format(ms, moves.toList(), aiSteps))
            late = interrupted
        } else {
            println("frame $frame: every tasklet finished its frame in %.1f ms".format(ms))
            late = null
        }
    }
    ai.killBlocking()
    npcs.forEach { it.killBlocking() }
    println("game over: the runaway AI is alive=${ai.alive}, NPCs moved ${moves.toList()}")
}
