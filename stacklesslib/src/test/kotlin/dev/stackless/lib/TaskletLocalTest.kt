package dev.stackless.lib

import dev.stackless.Stackless
import dev.stackless.Tasklet
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.StringSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldStartWith
import java.lang.ref.WeakReference

/** Sets a value in a tasklet that then ends; nothing but [local] refers to the value afterwards. */
private fun valueOfADeadTasklet(local: TaskletLocal<Any>): WeakReference<Any> {
    val value = Any()
    Tasklet { local.set(value) }.setup()
    Stackless.run()
    return WeakReference(value)
}

class TaskletLocalTest : StringSpec({
    "each tasklet has its own value; the main tasklet too" {
        fresh {
            val local = TaskletLocal<String>()
            val log = mutableListOf<String>()
            local.set("main")
            stackless {
                for (name in listOf("a", "b")) {
                    Tasklet {
                        local.isSet shouldBe false
                        local.set(name)
                        Stackless.schedule()
                        log += name + "=" + local.get()
                    }.setup()
                }
            }
            log shouldBe listOf("a=a", "b=b")
            local.get() shouldBe "main"
        }
    }

    "remove, and get without a value" {
        fresh {
            val local = TaskletLocal<Int>()
            shouldThrow<NoSuchElementException> { local.get() }.message!! shouldStartWith "no value in Tasklet(main"
            local.set(1)
            local.isSet shouldBe true
            local.remove()
            local.isSet shouldBe false
            shouldThrow<NoSuchElementException> { local.get() }
            local.remove()
        }
    }

    "the initial value is computed once per tasklet" {
        fresh {
            var made = 0
            val local = TaskletLocal { ++made }
            val seen = mutableListOf<Int>()
            stackless {
                repeat(3) {
                    Tasklet {
                        seen += local.get()
                        seen += local.get()
                    }.setup()
                }
            }
            seen shouldBe listOf(1, 1, 2, 2, 3, 3)
            local.get() shouldBe 4
            local.remove()
            local.get() shouldBe 5
        }
    }

    "a value vanishes with its tasklet" {
        fresh {
            val local = TaskletLocal<Any>()
            val ref = valueOfADeadTasklet(local)
            val deadline = System.nanoTime() + 5_000_000_000
            while (ref.get() != null && System.nanoTime() < deadline) {
                System.gc()
                // Any use of the map drops the entries whose tasklet was collected.
                local.isSet
                Thread.sleep(5)
            }
            ref.get() shouldBe null
        }
    }

    "tasklets of different threads do not share values" {
        val local = TaskletLocal<String>()
        val seen = java.util.Collections.synchronizedList(mutableListOf<String?>())
        val threads = (1..3).map { i ->
            Thread {
                stackless {
                    seen += if (local.isSet) "shared!" else null
                    local.set("t$i")
                    Stackless.schedule()
                    seen += local.get()
                }
            }.apply { start() }
        }
        threads.forEach { it.join(10_000) }
        seen.filterNotNull().sorted() shouldBe listOf("t1", "t2", "t3")
    }
})
