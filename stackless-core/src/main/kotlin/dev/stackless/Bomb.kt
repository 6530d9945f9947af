package dev.stackless

/**
 * An exception in flight in a tasklet's [Tasklet.tempval]: thrown in the tasklet instead of being
 * returned when the tasklet claims its tempval (Stackless' "bomb").
 */
internal class Bomb(@JvmField val error: Throwable) : java.io.Serializable {
    override fun toString(): String = "Bomb($error)"
}
