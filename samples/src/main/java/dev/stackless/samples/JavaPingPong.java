package dev.stackless.samples;

import dev.stackless.Channel;
import dev.stackless.Stackless;
import dev.stackless.Tasklet;

/**
 * Ping-pong written in plain Java: tasklets with {@link Runnable} bodies use the blocking twins
 * ({@code sendBlocking}, {@code receiveBlocking}); each waits on its own carrier thread while the
 * scheduler runs the other, so the program still runs one tasklet at a time, in queue order.
 */
public final class JavaPingPong {
    private JavaPingPong() {
    }

    public static void main(String[] args) {
        Channel<String> toPong = new Channel<>();
        Channel<String> toPing = new Channel<>();

        Tasklet ping = Tasklet.of(() -> {
            for (int i = 1; i <= 3; i++) {
                System.out.println("ping sends ping " + i);
                toPong.sendBlocking("ping " + i);
                System.out.println("ping got " + toPing.receiveBlocking());
            }
            toPong.close();
        });
        ping.setName("ping");

        Tasklet pong = Tasklet.of(() -> {
            for (String ball : toPong.blockingIterable()) {
                System.out.println("pong got " + ball);
                toPing.sendBlocking("pong for " + ball);
            }
            System.out.println("pong: channel closed, done");
        });
        pong.setName("pong");

        ping.setup();
        pong.setup();
        Stackless.run();

        // The main thread is a tasklet too: it can talk to a tasklet directly.
        Channel<Integer> answers = new Channel<>();
        Tasklet.of(() -> answers.sendBlocking(42)).setup();
        System.out.println("main received " + answers.receiveBlocking());
    }
}
