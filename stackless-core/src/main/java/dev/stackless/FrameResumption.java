package dev.stackless;

import kotlin.ResultKt;
import kotlin.coroutines.Continuation;
import kotlin.coroutines.jvm.internal.BaseContinuationImpl;

/**
 * How the trampoline resumes a soft tasklet's frame: the one call every tasklet body goes through.
 *
 * {@code frame.resumeWith(result)} on the {@link Continuation} interface is an interface call. In a
 * real program the trampoline resumes frames of many classes (one per suspend lambda and suspend
 * function), so the JIT compiles it as an itable dispatch, which scans the receiver's interfaces.
 * Nearly every frame is a Kotlin {@code BaseContinuationImpl}, whose {@code resumeWith} is final:
 * after a class check the call is direct and inlined, and only {@code invokeSuspend} stays virtual
 * (a plain vtable call). Written in Java because Kotlin code may not name the standard library's
 * internal continuation base class; the result is passed in {@link kotlin.Result}'s unboxed form
 * (the value itself, or the failure object that {@code ResultKt.createFailure} makes).
 */
final class FrameResumption {
    private FrameResumption() {
    }

    /** Resumes {@code frame} with {@code value} as the result of the switch point it suspended in. */
    static void resumeWithValue(Continuation<Object> frame, Object value) {
        if (frame instanceof BaseContinuationImpl) {
            ((BaseContinuationImpl) frame).resumeWith(value);
        } else {
            frame.resumeWith(value);
        }
    }

    /** Resumes {@code frame} with {@code error} thrown from the switch point it suspended in. */
    static void resumeWithError(Continuation<Object> frame, Throwable error) {
        Object failure = ResultKt.createFailure(error);
        if (frame instanceof BaseContinuationImpl) {
            ((BaseContinuationImpl) frame).resumeWith(failure);
        } else {
            frame.resumeWith(failure);
        }
    }
}
