package dev.stackless.lib

import dev.stackless.Stackless
import io.kotest.core.spec.style.StringSpec
import io.kotest.matchers.shouldBe
import java.util.concurrent.atomic.AtomicBoolean

/** [Budget.await], the wait under every timed wait of stacklesslib (futures, asCompleted, map). */
class BudgetTest : StringSpec({
    "a wake-up from another thread right after the first look is not lost" {
        fresh {
            stackless {
                val me = Stackless.current
                val done = AtomicBoolean(false)
                var looks = 0
                val ready = Budget(null).await(foreign = true, ready = {
                    looks++
                    if (looks == 1) {
                        // This look has found nothing; the other thread completes and wakes now,
                        // before the waiter has left the run queue.
                        val other = Thread {
                            done.set(true)
                            ForeignWake.wake(me)
                        }
                        other.start()
                        other.join()
                        false
                    } else {
                        done.get()
                    }
                }) { park(done) }
                ready shouldBe true
                looks shouldBe 2
            }
        }
    }
})
