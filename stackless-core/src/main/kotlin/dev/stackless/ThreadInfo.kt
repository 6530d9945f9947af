package dev.stackless

/**
 * A thread's scheduler at a glance ([Stackless.getThreadInfo]): its [main] tasklet, its [current]
 * tasklet (null when nothing is runnable) and the number of tasklets in its run queue.
 */
public data class ThreadInfo(val main: Tasklet?, val current: Tasklet?, val runCount: Int)
