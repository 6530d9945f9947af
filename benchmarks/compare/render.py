#!/usr/bin/env python3
"""Render the results of benchmarks/compare/run into BENCHMARKS.md and README.md.

    python3 render.py --results DIR --out BENCHMARKS.md [--readme README.md]

DIR holds what `run` wrote:
  jmh.json   JMH results (-rf json): dev.stackless.benchmarks.<Class>.<system>, AverageTime;
             B/op from `-prof gc` (gc.alloc.rate.norm) when present
  jmh-lateness.json
             the same for the SingleShotTime lateness classes (Sleepers, IdleWake), whose secondary
             results latenessMedianMs / latenessP99Ms / latenessMaxMs become extra columns
  *.txt      any file with lines `RESULT <workload> <system> <value> [<unit> [note...]]`
             (RetainedMemoryKt, the Go and the Python programs)
  env.txt    `key: value` lines describing the machine and the run

Missing figures are shown as "—". The README's text between `<!-- BENCHMARKS:BEGIN -->` and
`<!-- BENCHMARKS:END -->` is replaced by the combined table. Standard library only.
"""
import argparse
import glob
import json
import math
import os
import re
import sys

BEGIN, END = "<!-- BENCHMARKS:BEGIN -->", "<!-- BENCHMARKS:END -->"
BASELINE = "stackless"

# workload key, JMH class, unit shown, column title, what one op is
WORKLOADS = [
    ("switch", "SwitchBenchmark", "ns", "switch",
     "One task hands the thread to another: `Stackless.schedule()`, kotlinx `yield()`, `Thread.yield()`, "
     "Go `runtime.Gosched()`, greenlet `g.switch()`, `gevent.sleep(0)`; two tasks"),
    ("pingpong", "PingPongBenchmark", "ns", "ping-pong hop",
     "One hop: a ball handed from one task to the other over a rendezvous channel (two tasks, two channels)"),
    ("chain", "ChainBenchmark", "ns", "chain hop",
     "One hop along a chain of 10,000 tasks linked by rendezvous channels"),
    ("threadring", "ThreadRingBenchmark", "ns", "thread-ring pass",
     "One token pass in a ring of 503 tasks (Benchmarks Game thread-ring)"),
    ("skynet", "SkynetBenchmark", "ms", "skynet",
     "One whole skynet: 1,000,000 tasks in a tree of fan-out 10 summing 0…999,999 (atemerev/skynet)"),
    ("spawn", "SpawnBenchmark", "ns", "spawn",
     "One task created, run and finished"),
    ("crossthread", "CrossThreadPingPongBenchmark", "ns", "cross-thread hop",
     "One hop between two threads: a ball handed from a task on one thread to a task on another over a "
     "rendezvous channel (one task per thread, two channels; Stackless: two tasklets on two long-lived threads)"),
    ("sleepers", "SleepersBenchmark", "ms", "100k sleepers",
     "Wall time of 100,000 tasks each sleeping a random 0–100 ms (seeded, whole ms), all at once: "
     "`dev.stackless.lib.sleep` in `stackless { }`, `delay` in `runBlocking`, `Thread.sleep` on virtual threads "
     "(all cores); lateness = wake time − deadline, over all measured sleepers"),
    ("idlewake", "IdleWakeBenchmark", "ms", "idle wake",
     "One 5 ms timer on an idle thread (nothing runnable), 200 in a row: ms per wait = 5 ms + lateness + "
     "loop overhead. `stackless`: `MainLoop.callLater` + `MainLoop.run()`; `stacklessSleep`: a tasklet's "
     "`sleep`; `parkNanos`: the OS floor"),
    ("timers", "TimerBenchmark", "ns", "timer op",
     "One timer operation with `pending` other timers in the heap: `MainLoop.callLater` + `Handle.cancel`, "
     "`callSoon` + `pump` (a firing), `timeout(d) { }` set and cancelled; kotlinx `withTimeoutOrNull` "
     "(empty event loop) in `runBlocking`"),
    ("memory", None, "B", "memory",
     "Retained memory per task blocked in `receive()` (1,000,000 tasks; JVM: heap after GC, "
     "Go: runtime heap + stacks in use, Python: process RSS growth)"),
]
WL = {w[0]: w for w in WORKLOADS}
# Per-workload section only: timers' rows are operations rather than systems, and idle wake's score
# is 5 ms for everyone (its lateness columns are the point).
DETAIL_ONLY = {"timers", "idlewake"}
LATENESS = ("latenessMedianMs", "latenessP99Ms", "latenessMaxMs")
CLASS_TO_WL = {w[1]: w[0] for w in WORKLOADS if w[1]}
UNIT_NS = {"ns": 1.0, "us": 1e3, "µs": 1e3, "ms": 1e6, "s": 1e9}
MEMORY_ALIASES = {"kotlinx": "kotlinxRunBlocking", "Stackless": "stackless"}

SYSTEMS = [  # order of rows, label
    ("stackless", "**Stackless** (this library, 1 thread)"),
    ("kotlinxRunBlocking", "kotlinx.coroutines, `runBlocking` (1 thread)"),
    ("kotlinxDefault", "kotlinx.coroutines, `Dispatchers.Default`"),
    ("virtualThreads", "virtual threads"),
    ("virtualThreadsOneCarrier", "virtual threads, 1 carrier"),
    ("kotlinxTwoThreads", "kotlinx.coroutines, two `newSingleThreadContext`"),
    ("platformThreads", "platform threads, `SynchronousQueue`"),
    ("go1", "Go, `GOMAXPROCS=1`"),
    ("go", "Go, default `GOMAXPROCS`"),
    ("greenlet", "greenlet (CPython)"),
    ("gevent", "gevent (CPython)"),
]
JMH_SYSTEMS = {s for s, _ in SYSTEMS[:5]}


class Fig:
    def __init__(self, value, unit, error=None, bop=None, note="", late=None):
        self.value, self.unit, self.error, self.bop, self.note = value, unit, error, bop, note
        self.late = late  # (median, p99, max) lateness in ms, or None


def num(x):
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) or math.isinf(v) else v


def to_unit(value, from_unit, workload):
    """Convert a JMH/RESULT time figure to the workload's display unit."""
    target = WL[workload][2] if workload in WL else from_unit
    f = from_unit.split("/")[0].strip()
    if target in UNIT_NS and f in UNIT_NS:
        return value * UNIT_NS[f] / UNIT_NS[target]
    return value


def load_jmh(path, figs):
    if not os.path.exists(path):
        return []
    with open(path) as fh:
        text = fh.read().strip()
    if not text:
        return []
    runs = json.loads(text)
    jdks = []
    for e in runs:
        parts = e.get("benchmark", "").split(".")
        if len(parts) < 2:
            continue
        cls, method = parts[-2], parts[-1]
        wl = CLASS_TO_WL.get(cls, cls)
        if e.get("params"):
            method += "(" + ",".join("%s=%s" % kv for kv in sorted(e["params"].items())) + ")"
        pm = e.get("primaryMetric", {})
        score, unit = num(pm.get("score")), pm.get("scoreUnit", "ns/op")
        if score is None:
            continue
        err = num(pm.get("scoreError"))
        sec = e.get("secondaryMetrics", {})
        bop = None
        for k in ("gc.alloc.rate.norm", "\u00b7gc.alloc.rate.norm"):
            if k in sec:
                bop = num(sec[k].get("score"))
        jdk = "JDK %s" % e.get("jdkVersion", "?")
        if jdk not in jdks:
            jdks.append(jdk)
        late = None
        if all(k in sec for k in LATENESS):
            late = tuple(num(sec[k].get("score")) for k in LATENESS)
        args = [a for a in e.get("jvmArgs", []) if a.startswith("-Djdk.virtualThreadScheduler")]
        note = "JMH, %s%s" % (jdk, (", " + " ".join(args)) if args else "")
        figs.setdefault(wl, {})[method] = Fig(
            to_unit(score, unit, wl), WL[wl][2] if wl in WL else unit,
            to_unit(err, unit, wl) if err is not None else None, bop, note, late)
    return jdks


def load_results(paths, figs):
    for path in paths:
        with open(path, errors="replace") as fh:
            for line in fh:
                t = line.split()
                if len(t) < 4 or t[0] != "RESULT":
                    continue
                wl, system, value = t[1], MEMORY_ALIASES.get(t[2], t[2]), num(t[3].replace(",", ""))
                if value is None:
                    continue
                unit = t[4] if len(t) > 4 else (WL[wl][2] if wl in WL else "")
                note = " ".join(t[5:])
                if not note and wl == "memory" and system in JMH_SYSTEMS:
                    note = "RetainedMemoryKt: used heap after GC"
                if wl in WL and unit not in ("bytes", "B"):
                    value = to_unit(value, unit, wl)
                    unit = WL[wl][2]
                figs.setdefault(wl, {})[system] = Fig(value, unit, note=note)


def load_env(path):
    env = []
    if os.path.exists(path):
        with open(path) as fh:
            for line in fh:
                if ":" in line:
                    k, v = line.split(":", 1)
                    env.append((k.strip(), v.strip()))
    return env


def fmt(v):
    if v is None:
        return "—"
    a = abs(v)
    if a >= 1000:
        return "{:,.0f}".format(v)
    if a >= 100:
        return "%.0f" % v
    if a >= 10:
        return "%.1f" % v
    return "%.2f" % v


def fmt_late(v):
    """A lateness in ms: three decimals below 1 ms, where the precision matters."""
    if v is None:
        return "—"
    return "%.3f" % v if abs(v) < 1 else fmt(v)


def ratio(v, base, memory=False):
    if v is None or base is None or base <= 0 or v <= 0:
        return "—"
    r = v / base
    worse, better = ("more", "less") if memory else ("slower", "faster")
    if 0.95 <= r <= 1.05:
        return "≈ same"
    if r > 1:
        return "%s× %s" % (("%.0f" if r >= 10 else "%.1f") % r, worse)
    q = 1 / r
    return "%s× %s" % (("%.0f" if q >= 10 else "%.1f") % q, better)


def system_rows(figs):
    seen = [s for s, _ in SYSTEMS]
    extra = []
    for wl in figs:
        for s in figs[wl]:
            if s not in seen and s not in extra:
                extra.append(s)
    labels = dict(SYSTEMS)
    return [(s, labels.get(s, "`%s`" % s)) for s in seen + extra]


def workloads_present(figs):
    known = [w[0] for w in WORKLOADS]
    return known + [w for w in figs if w not in known]


def combined_table(figs):
    rows = system_rows(figs)
    wls = [w for w in workloads_present(figs) if w not in DETAIL_ONLY]
    head = ["System"]
    for w in wls:
        head.append("%s, %s" % (WL[w][3], WL[w][2]) if w in WL else w)
    out = ["| " + " | ".join(head) + " |", "|---" + "|---:" * len(wls) + "|"]
    footnote = False
    for s, label in rows:
        cells = []
        for w in wls:
            f = figs.get(w, {}).get(s)
            base = figs.get(w, {}).get(BASELINE)
            if f is None:
                cells.append("—")
            else:
                mark = ""
                if "100,000 tasks" in f.note and w == "skynet":
                    mark = "†"
                    footnote = True
                if s == BASELINE:
                    cells.append("**%s**%s" % (fmt(f.value), mark))
                else:
                    r = ratio(f.value, base and base.value, w == "memory")
                    cells.append(fmt(f.value) + mark if r == "—" else "%s%s (%s)" % (fmt(f.value), mark, r))
        if all(c == "—" for c in cells) and s not in JMH_SYSTEMS and s not in dict(SYSTEMS):
            continue
        out.append("| %s | %s |" % (label, " | ".join(cells)))
    if footnote:
        out += ["", "† skynet of 100,000 tasks, time × 10 (1,000,000 would take too long)."]
    return "\n".join(out)


def workload_table(w, figs):
    unit = WL[w][2] if w in WL else ""
    per = {"ns": "ns/op", "ms": "ms/op", "B": "bytes/task"}.get(unit, unit)
    bop = w != "memory"
    late = any(f.late for f in figs.get(w, {}).values())
    head = ["System", per, "± (99.9%)", "vs Stackless"] + (["B/op"] if bop else []) \
        + (["lateness median, ms", "p99, ms", "max, ms"] if late else []) + ["How"]
    out = ["| " + " | ".join(head) + " |",
           "|---|---:|---:|---:|" + ("---:|" if bop else "") + ("---:|" * 3 if late else "") + "---|"]
    base = figs.get(w, {}).get(BASELINE)
    for s, label in system_rows(figs):
        f = figs.get(w, {}).get(s)
        if f is None:
            if s in JMH_SYSTEMS or (w == "memory" and s in dict(SYSTEMS)):
                out.append("| %s | — | | |%s%s |" % (label, " |" if bop else "", " | | |" if late else ""))
            continue
        cells = [label, fmt(f.value), fmt(f.error) if f.error is not None else "",
                 "baseline" if s == BASELINE else ratio(f.value, base and base.value, w == "memory")]
        if bop:
            cells.append(fmt(f.bop) if f.bop is not None else "")
        if late:
            cells += [fmt_late(v) for v in (f.late or (None, None, None))]
        cells.append(f.note.replace("|", "\\|"))
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def render(args):
    figs = {}
    jdks = load_jmh(os.path.join(args.results, "jmh.json"), figs)
    for jdk in load_jmh(os.path.join(args.results, "jmh-lateness.json"), figs):
        if jdk not in jdks:
            jdks.append(jdk)
    load_results(sorted(glob.glob(os.path.join(args.results, "*.txt"))), figs)
    env = load_env(os.path.join(args.results, "env.txt"))
    envd = dict(env)
    date = envd.get("date", "?")
    mode = envd.get("mode", "?")
    table = combined_table(figs)

    md = ["# Benchmarks: Stackless for the JVM and its peers", "",
          "Generated by `benchmarks/compare/run` on %s (%s run). Do not edit by hand: run it again." % (date, mode),
          "", "## Machine and software", ""]
    for k, v in env:
        if k not in ("date",):
            md.append("- **%s**: %s" % (k, v.replace("|", "\\|")))
    md += ["", "## All workloads", "",
           "Each cell: the figure and its ratio to Stackless (lower is better everywhere). "
           "Stackless, kotlinx `runBlocking`, the 1-carrier virtual threads, Go with `GOMAXPROCS=1`, "
           "greenlet and gevent run on one thread; kotlinx `Dispatchers.Default`, virtual threads and Go "
           "with the default `GOMAXPROCS` may use every core.", "", table, "",
           "## Per workload", ""]
    for w in workloads_present(figs):
        title = WL[w][3] if w in WL else w
        what = WL[w][4] if w in WL else ""
        md += ["### %s" % title, "", what + ".", "", workload_table(w, figs), ""]
    md += ["## Method", "",
           "- JVM figures: JMH (`benchmarks/src`, AverageTime, the annotations' warm-up/measurement "
           "unless the run was `--quick`), `-prof gc` for B/op (allocation per op); ± is JMH's 99.9% "
           "confidence half-width (blank with fewer than 3 iterations). Memory: "
           "`dev.stackless.benchmarks.RetainedMemoryKt` (used heap after GC, blocked minus baseline, / N).",
           "- 100k sleepers and idle wake: JMH SingleShotTime (one invocation per iteration, ms per "
           "invocation or per wait), with the classes' own warm-up and iteration counts even in a --quick run; the lateness "
           "columns are the median, p99 and max of wake time − deadline over the samples of all measurement "
           "iterations pooled (`Lateness` secondary results).",
           "- Go (`benchmarks/compare/go`): one warm-up round, then the median of timed rounds; skynet is "
           "the best of several runs of atemerev/skynet's Go program; memory is `HeapInuse + StackInuse` "
           "growth per goroutine blocked in `<-ch`.",
           "- greenlet / gevent (`benchmarks/compare/python`, Debian's CPython): as for Go. greenlet has no "
           "channel, so a hop is `g.switch(value)`, the floor of any greenlet channel; gevent uses "
           "`gevent.queue.Channel` (rendezvous). On CPython 3.11 every new greenlet maps and unmaps a "
           "frame data-stack chunk, which dominates spawn and skynet. Memory is RSS growth.",
           "- Raw results of this run: `%s` (not committed)." % envd.get("raw results", "benchmarks/target/compare"),
           ""]
    with open(args.out, "w") as fh:
        fh.write("\n".join(md))
    print("wrote %s" % args.out)

    if args.readme:
        with open(args.readme) as fh:
            readme = fh.read()
        if BEGIN in readme and END in readme:
            cpu = envd.get("CPU", "?")
            jdk = ", ".join(jdks) or envd.get("JMH JVM", "?")
            block = "\n".join([
                BEGIN,
                "Generated by `benchmarks/compare/run` on %s (%s run): %s; JMH on %s. "
                "Figure and ratio to Stackless, lower is better; every detail in [BENCHMARKS.md](BENCHMARKS.md)."
                % (date, mode, cpu, jdk), "", table, END])
            pre, rest = readme.split(BEGIN, 1)
            post = rest.split(END, 1)[1]
            with open(args.readme, "w") as fh:
                fh.write(pre + block + post)
            print("updated %s" % args.readme)
        else:
            print("README has no %s … %s markers; left alone" % (BEGIN, END), file=sys.stderr)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--results", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--readme")
    render(p.parse_args())


if __name__ == "__main__":
    main()
