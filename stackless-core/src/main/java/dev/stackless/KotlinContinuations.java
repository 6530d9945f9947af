package dev.stackless;

import kotlin.ResultKt;
import kotlin.coroutines.Continuation;
import kotlin.coroutines.CoroutineContext;
import kotlin.coroutines.jvm.internal.BaseContinuationImpl;
import kotlin.coroutines.jvm.internal.ContinuationImpl;

/**
 * Direct calls into Kotlin's continuation classes, for the two calls every switch makes: resuming
 * a soft tasklet's frame, and reading a continuation's context to find its tasklet.
 *
 * Both are calls on the {@link Continuation} interface. In a real program they meet frames of many
 * classes (one per suspend lambda and suspend function), so the JIT compiles them as itable
 * dispatches, which scan the receiver's interfaces. Nearly every frame is a Kotlin
 * {@code BaseContinuationImpl}, whose {@code resumeWith} is final, and a {@code ContinuationImpl},
 * whose {@code getContext} no generated class overrides: after a class check each call is direct
 * and inlined, and only the frame's own {@code invokeSuspend} stays virtual (a vtable call). Any
 * other continuation takes the interface call.
 *
 * Written in Java because Kotlin code may not name the standard library's internal continuation
 * classes. Results are passed in {@link kotlin.Result}'s unboxed form: the value itself, or the
 * failure object that {@code ResultKt.createFailure} makes.
 */
final class KotlinContinuations {
    private KotlinContinuations() {
    }

    /** Resumes {@code frame} with {@code value}, the result of the switch point it suspended in (a failure object is thrown there). */
    static void resumeWithValue(Continuation<Object> frame, Object value) {
        if (frame instanceof BaseContinuationImpl) {
            ((BaseContinuationImpl) frame).resumeWith(value);
        } else {
            frame.resumeWith(value);
        }
    }

    /** The value that, passed to {@link #resumeWithValue}, throws {@code error} from the switch point. */
    static Object failure(Throwable error) {
        return ResultKt.createFailure(error);
    }

    /** The context of {@code continuation}. */
    static CoroutineContext contextOf(Continuation<?> continuation) {
        if (continuation instanceof ContinuationImpl) return ((ContinuationImpl) continuation).getContext();
        return continuation.getContext();
    }
}
