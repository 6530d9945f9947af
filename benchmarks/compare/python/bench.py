#!/usr/bin/python3
"""greenlet and gevent peers of the JMH suite (benchmarks/src).

Run with Debian's interpreter, which sees python3-greenlet / python3-gevent:

    /usr/bin/python3 bench.py --system greenlet|gevent [--quick] [workload ...]

Workloads: switch, pingpong, chain, threadring, skynet, spawn, memory (default: all). Prints lines

    RESULT <workload> <system> <value> <unit> <note...>

Per-op workloads run one warm-up round sized to last about --round seconds, then --rounds timed
rounds; the figure is the median round in ns per op. Skynet reports ms per run of 1,000,000 tasks,
best of 3 runs (1 run if one takes > 10 s); if one run would take more than 60 s (--quick: 5 s) it
runs 100,000 tasks instead and scales the time by 10 (said in the note).

greenlet has no channels or scheduler: a hop is `other.switch(value)` (the value handed over directly),
which is the floor any greenlet-based channel can reach. gevent uses gevent.queue.Channel, its
rendezvous (zero-capacity) queue, and the hub's scheduler.
"""
import argparse
import gc
import os
import sys
import time

from greenlet import getcurrent, greenlet

SKYNET_SUM = {1000000: 499999500000, 100000: 4999950000}
RING = 503
CHAIN = 10000
SPAWN_BATCH = 10000
perf = time.perf_counter_ns


def result(workload, system, value, unit, note):
    print("RESULT %s %s %.2f %s %s" % (workload, system, value, unit, note), flush=True)


def time_ops(args, f, start=1000, multiple=2):
    """Median ns/op over args.rounds rounds of f(ops), ops sized so that a round lasts ~args.round s."""
    ops = start
    while True:
        t0 = perf()
        f(ops)
        el = perf() - t0
        if el >= args.round * 1e9 / 4:
            ops = int(ops * args.round * 1e9 / max(el, 1))
            break
        ops *= 4
    ops = (ops // multiple + 1) * multiple
    f(ops)  # warm-up at the final size
    per = []
    for _ in range(args.rounds):
        gc.collect()
        t0 = perf()
        f(ops)
        per.append((perf() - t0) / ops)
    per.sort()
    return per[len(per) // 2]


def rss():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


# --------------------------------------------------------------------------------------- greenlet

class Greenlet:
    name = "greenlet"

    @staticmethod
    def switch(ops):
        n = ops // 2
        box = [None, None]

        def a():
            b = box[1]
            for _ in range(n):
                b.switch()

        def b():
            a = box[0]
            for _ in range(n):
                a.switch()

        box[0] = greenlet(a)
        box[1] = greenlet(b)
        box[0].switch()  # a and b alternate; a ends first, b is left suspended and dropped

    @staticmethod
    def pingpong(hops):
        ball = object()
        box = [None]

        def echo(v):
            server = box[0]
            for _ in range(hops // 2):
                v = server.switch(v)      # hand the ball back, wait for the next one

        def server():
            e = greenlet(echo)
            box[0] = getcurrent()
            v = e.switch(ball)            # first hop starts echo
            for _ in range(hops // 2 - 1):
                v = e.switch(v)
            return v

        greenlet(server).switch()

    class Chain:
        """CHAIN relay greenlets in a line; a ball goes main -> r0 -> ... -> r9999 -> main by
        g.switch(ball), one ball at a time (no channel, so nothing can queue)."""

        def __init__(self):
            main = getcurrent()
            relays = []

            def relay(i):
                def run():
                    nxt = relays[i + 1] if i + 1 < CHAIN else main
                    v = main.switch()  # parked until the first ball
                    while True:
                        v = nxt.switch(v)
                return run

            relays.extend(greenlet(relay(i)) for i in range(CHAIN))
            for g in relays:  # start each from main, so none nests in another's recursion depth
                g.switch()
            self.relays = relays

        def run(self, ops):
            first, ball = self.relays[0], object()
            for _ in range(ops // (CHAIN + 1)):
                first.switch(ball)

        def close(self):
            for g in self.relays:
                g.throw()

    @staticmethod
    def threadring(passes):
        main = getcurrent()
        ring = []

        def node(ident):
            def run():
                nxt = ring[ident % RING]
                t = main.switch()  # parked until the token comes
                while True:
                    if t == 0:
                        main.switch(ident)
                    t = nxt.switch(t - 1)
            return run

        ring.extend(greenlet(node(i + 1)) for i in range(RING))
        for g in ring:  # start each from main, so none nests in another's recursion depth
            g.switch()
        winner = ring[0].switch(passes)
        for g in ring:  # unwind the suspended ones
            g.throw()
        return winner

    @staticmethod
    def skynet(size):
        def sky(num, size):
            if size == 1:
                return num
            step = size // 10
            kids = [greenlet(sky) for _ in range(10)]
            total = 0
            for i, k in enumerate(kids):
                total += k.switch(num + i * step, step)
            return total

        return greenlet(sky).switch(0, size)

    skynet_note = "greenlets created 10 per node, each switched into and returning its sum"

    @staticmethod
    def spawn(ops):
        def nothing():
            pass

        for _ in range(ops):
            greenlet(nothing).switch()

    @staticmethod
    def blocked(n):
        """n greenlets suspended (switched back to main); returns a release function."""
        main = getcurrent()
        gs = []

        def body():
            main.switch()

        for _ in range(n):
            g = greenlet(body)
            g.switch()
            gs.append(g)

        def release():
            for g in gs:
                g.switch()
            gs.clear()
        return release

    notes = {
        "switch": "g.switch() between 2 greenlets",
        "pingpong": "value handed over by g.switch(ball), no channel",
        "chain": "10,000 greenlets, ball handed over by g.switch(ball), one ball at a time",
        "threadring": "503 greenlets, token handed over by g.switch(t)",
        "spawn": "greenlet(f).switch(), f returns at once",
        "memory": "RSS growth per greenlet suspended in switch()",
    }


# ----------------------------------------------------------------------------------------- gevent

class Gevent:
    name = "gevent"

    @staticmethod
    def switch(ops):
        import gevent
        n = ops // 2

        def body():
            for _ in range(n):
                gevent.sleep(0)

        gevent.joinall([gevent.spawn(body), gevent.spawn(body)])

    @staticmethod
    def pingpong(hops):
        import gevent
        from gevent.queue import Channel
        ping, pong = Channel(), Channel()
        ball = object()

        def echo():
            for _ in range(hops // 2):
                pong.put(ping.get())

        def server():
            for _ in range(hops // 2):
                ping.put(ball)
                pong.get()

        gevent.joinall([gevent.spawn(echo), gevent.spawn(server)])

    class Chain:
        """CHAIN relay greenlets joined by CHAIN + 1 gevent Channels; a feeder puts balls into the
        first, the caller takes them out of the last; several balls are in the chain at once."""

        def __init__(self):
            import gevent
            from gevent.queue import Channel
            self.chans = [Channel() for _ in range(CHAIN + 1)]

            def relay(inp, out):
                while True:
                    out.put(inp.get())

            self.relays = [gevent.spawn(relay, self.chans[i], self.chans[i + 1]) for i in range(CHAIN)]

        def run(self, ops):
            import gevent
            values = ops // (CHAIN + 1)
            first, last, ball = self.chans[0], self.chans[-1], object()

            def feed():
                for _ in range(values):
                    first.put(ball)

            gevent.spawn(feed)
            for _ in range(values):
                last.get()

        def close(self):
            import gevent
            gevent.killall(self.relays)

    @staticmethod
    def threadring(passes):
        import gevent
        from gevent.queue import Channel
        chans = [Channel() for _ in range(RING)]
        result = Channel()

        def node(ident, inp, out):
            while True:
                t = inp.get()
                if t == 0:
                    result.put(ident)
                    return
                out.put(t - 1)

        gs = [gevent.spawn(node, i + 1, chans[i], chans[(i + 1) % RING]) for i in range(RING)]
        chans[0].put(passes)
        winner = result.get()
        gevent.killall(gs)
        return winner

    @staticmethod
    def skynet(size):
        import gevent
        from gevent.queue import Channel

        def sky(c, num, size):
            if size == 1:
                c.put(num)
                return
            rc = Channel()
            step = size // 10
            for i in range(10):
                gevent.spawn(sky, rc, num + i * step, step)
            total = 0
            for _ in range(10):
                total += rc.get()
            c.put(total)

        c = Channel()
        gevent.spawn(sky, c, 0, size)
        return c.get()

    skynet_note = "gevent.spawn + gevent.queue.Channel per node"

    @staticmethod
    def spawn(ops):
        import gevent
        from gevent.event import Event
        left = [0]
        ev = Event()

        def body():
            left[0] -= 1
            if left[0] == 0:
                ev.set()

        for _ in range(0, ops, SPAWN_BATCH):
            left[0] = SPAWN_BATCH
            ev.clear()
            for _ in range(SPAWN_BATCH):
                gevent.spawn(body)
            ev.wait()

    @staticmethod
    def blocked(n):
        import gevent
        from gevent.queue import Channel
        ch = Channel()
        gs = [gevent.spawn(ch.get) for _ in range(n)]
        gevent.sleep(0)
        gevent.sleep(0)
        assert all(not g.dead for g in gs[:10])

        def release():
            gevent.killall(gs)
            gs.clear()
        return release

    notes = {
        "switch": "gevent.sleep(0) in 2 greenlets (through the hub)",
        "pingpong": "gevent.queue.Channel (rendezvous), 2 greenlets",
        "chain": "10,000 greenlets, gevent.queue.Channel",
        "threadring": "503 greenlets, gevent.queue.Channel",
        "spawn": "gevent.spawn, batches of %d" % SPAWN_BATCH,
        "memory": "RSS growth per greenlet blocked in Channel.get()",
    }


# ------------------------------------------------------------------------------------------- main

def run(impl, workload, args, version):
    sysname = args.system
    note = "%s; %s" % (impl.notes.get(workload, impl.__dict__.get("skynet_note", "")), version)
    if workload == "switch":
        result(workload, sysname, time_ops(args, impl.switch), "ns/op", note)
    elif workload == "pingpong":
        result(workload, sysname, time_ops(args, impl.pingpong), "ns/op", note)
    elif workload == "chain":
        c = impl.Chain()
        v = time_ops(args, c.run, start=10 * (CHAIN + 1), multiple=CHAIN + 1)
        c.close()
        result(workload, sysname, v, "ns/op", note)
    elif workload == "threadring":
        assert impl.threadring(RING * 3 + 7) == (RING * 3 + 7) % RING + 1
        result(workload, sysname, time_ops(args, impl.threadring, start=RING * 10, multiple=1), "ns/op", note)
    elif workload == "spawn":
        result(workload, sysname, time_ops(args, impl.spawn, start=SPAWN_BATCH, multiple=SPAWN_BATCH),
               "ns/op", note)
    elif workload == "skynet":
        gc.collect()
        t0 = perf()
        assert impl.skynet(100000) == SKYNET_SUM[100000]
        est = (perf() - t0) * 10 / 1e9  # seconds for 1,000,000
        size = 1000000 if est <= 60 and not (args.quick and est > 5) else 100000
        runs = 1 if args.quick or est > 10 else 3
        best = None
        for _ in range(runs):
            gc.collect()
            t0 = perf()
            s = impl.skynet(size)
            el = perf() - t0
            assert s == SKYNET_SUM[size], s
            best = el if best is None else min(best, el)
        scale = 1000000 // size
        how = ("1,000,000 tasks" if scale == 1 else
               "100,000 tasks (1,000,000 would take > %s s), time x10" % (5 if args.quick else 60))
        result(workload, sysname, best * scale / 1e6, "ms",
               "%s; %s, best of %d; %s" % (impl.skynet_note, how, runs, version))
    elif workload == "memory":
        n = 100000 if args.quick else 1000000
        gc.collect()
        before = rss()
        release = impl.blocked(n)
        gc.collect()
        after = rss()
        release()
        result(workload, sysname, (after - before) / n, "bytes",
               "%s, %s tasks; %s" % (impl.notes["memory"], format(n, ","), version))
    else:
        sys.exit("unknown workload %r" % workload)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--system", choices=["greenlet", "gevent"], required=True)
    p.add_argument("--quick", action="store_true", help="fewer, shorter rounds")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--round", type=float, default=0.5, help="seconds per timed round")
    p.add_argument("workloads", nargs="*",
                   default=["switch", "pingpong", "chain", "threadring", "skynet", "spawn", "memory"])
    args = p.parse_args()
    if args.quick:
        args.rounds, args.round = 3, 0.2
    import greenlet as gl
    version = "CPython %s, greenlet %s" % (sys.version.split()[0], gl.__version__)
    if args.system == "gevent":
        import gevent
        version += ", gevent %s" % gevent.__version__
    print("# %s" % version, flush=True)
    impl = Greenlet if args.system == "greenlet" else Gevent
    for w in args.workloads:
        run(impl, w, args, version)


if __name__ == "__main__":
    main()
