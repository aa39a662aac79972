#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Summarise what bench/guest-profile.sh wrote: for each fio job, its throughput, the CPU
time per CPU and per thread, and for each traced function how often it ran and for how
long (function_graph durations include the traced function's callees).

usage: profile-summary.py DIR
"""
import collections
import glob
import os
import re
import sys


def load_snapshot(path):
    """-> (monotonic ns, sectors moved, {cpu: (busy, idle) ticks}, {tid: (comm, ns)})."""
    when = sectors = 0
    cpus, threads = {}, {}
    with open(path) as f:
        for line in f:
            w = line.split()
            if w[0] == "time":
                when = int(w[1])
            elif w[0] == "sectors":
                sectors = int(w[1])
            elif w[0] == "cpu":
                cpus[w[1]] = (int(w[2]), int(w[3]))
            elif w[0] == "thread" and len(w) == 4:
                threads[w[1]] = (w[3], int(w[2]))
    return when, sectors, cpus, threads


def thread_group(comm):
    """kworker/u8:3-kcryptd/253:0 -> kworker (kcryptd/253:0); iou-wrk-123 -> iou-wrk."""
    m = re.match(r"kworker/[^-]+(?:-(.*))?$", comm)
    if m:
        return f"kworker ({m.group(1)})" if m.group(1) else "kworker"
    return re.sub(r"-\d+$", "", comm)


def window(tag):
    """Throughput in MB/s, busy share per CPU, and share of a CPU per thread group."""
    w0, s0, c0, t0 = load_snapshot(tag + ".s0")
    w1, s1, c1, t1 = load_snapshot(tag + ".s1")
    secs = (w1 - w0) / 1e9
    per_cpu = {}
    for c in sorted(c1):
        busy = c1[c][0] - c0.get(c, (0, 0))[0]
        idle = c1[c][1] - c0.get(c, (0, 0))[1]
        per_cpu[c] = busy / (busy + idle) if busy + idle else 0.0
    groups = collections.Counter()
    for tid, (comm, ns) in t1.items():
        before = t0.get(tid, (comm, 0))[1]
        if ns > before:
            groups[thread_group(comm)] += (ns - before) / 1e9 / secs
    return (s1 - s0) * 512 / 1e6 / secs, per_cpu, groups


LINE = re.compile(r"^\s*([\d.]+)\s*\|\s*(\d+)\)\s*(\S.*?)\s*\|\s*(?:[!#*@+$&]\s*)?"
                  r"(?:([\d.]+) us)?\s*\|\s*(.*)$")


def trace_stats(path):
    """function -> [calls, total us]; and the trace's span in seconds."""
    stats = collections.defaultdict(lambda: [0, 0.0])
    stacks = collections.defaultdict(list)
    first = last = None
    with open(path) as f:
        for line in f:
            m = LINE.match(line)
            if not m:
                continue
            ts, cpu, _, dur, what = m.groups()
            first = first if first is not None else float(ts)
            last = float(ts)
            what = what.strip()
            if what.endswith("{"):
                stacks[cpu].append(what.split()[0].rstrip("()"))
            elif what == "}":
                if stacks[cpu] and dur:
                    fn = stacks[cpu].pop()
                    stats[fn][0] += 1
                    stats[fn][1] += float(dur)
                elif stacks[cpu]:
                    stacks[cpu].pop()
            elif what.endswith("();") and dur:
                fn = what.split()[0].rstrip("();")
                stats[fn][0] += 1
                stats[fn][1] += float(dur)
    span = (last - first) if first is not None and last > first else None
    return stats, span


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    top = sys.argv[1]
    for s0 in sorted(glob.glob(os.path.join(top, "*.s0"))):
        tag = s0[:-3]
        name = os.path.basename(tag)
        mbps, per_cpu, groups = window(tag)
        print(f"== {name}: {mbps:.1f} MB/s")
        print("   CPU busy (ticks): " + ", ".join(f"{c} {v:.0%}" for c, v in per_cpu.items()))
        print("   threads:  " + ", ".join(f"{g} {v:.0%}" for g, v in groups.most_common(6)
                                          if v >= 0.005))
        if os.path.exists(tag + ".trace"):
            stats, span = trace_stats(tag + ".trace")
            print(f"   traced {span or 0:.2f} s: function, calls, mean us, share of one CPU")
            for fn, (calls, us) in sorted(stats.items(), key=lambda kv: -kv[1][1]):
                share = f"{us / 1e6 / span:.0%}" if span else "-"
                print(f"     {fn:28} {calls:6} {us / calls:10.1f} {share:>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
