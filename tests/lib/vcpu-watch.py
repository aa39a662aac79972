#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""What the host did with a guest's vCPUs while the guest reported a soft lockup.

    vcpu-watch.py QEMU_PID CONSOLE_LOG VERDICTS

Runs until QEMU_PID exits. Every half second it reads, for each vCPU thread of QEMU (named
"CPU N/TCG" or "CPU N/KVM": QEMU must run with -name debug-threads=on), how long the host has
run it and kept it waiting (/proc/PID/task/TID/schedstat). When CONSOLE_LOG grows a line
"soft lockup - CPU#N stuck for Ss!", or an RCU CPU stall report ("rcu: INFO: ... detected
stall(s) on CPU", the first CPU it names, "t=J jiffies" read as J / CONFIG_HZ seconds of the
guest kernel that QEMU boots), it appends to VERDICTS, in the order the reports came:

    cpu N stuck S ran R waited W

R and W: the seconds the host ran vCPU N's thread, and kept it runnable but waiting, over the
S seconds before the report. A guest CPU that really spun for S seconds without scheduling
had its thread running for most of them; one whose thread ran for a fraction of them was
starved by the host (runqueue, or a QEMU lock held by another thread), which is not a
product bug. tests/lib/guest-watchdog.sh draws the line.
"""
import collections
import os
import re
import sys
import time

PERIOD = 0.5
HISTORY = 900  # seconds of samples kept, more than any soft-lockup report can span
THREAD = re.compile(r"CPU (\d+)/(TCG|KVM)")
REPORT = re.compile(r"soft lockup - CPU#(\d+) stuck for (\d+)s!")
RCU_REPORT = re.compile(r"rcu: INFO: rcu_[a-z]+ (self-)?detected stalls? on CPU")
RCU_CPU = re.compile(r"rcu:\s+(\d+)-")
RCU_JIFFIES = re.compile(r"\bt=(\d+) jiffies")
# A report whose CPUs all passed their quiescent states names no stalled CPU: the
# grace-period kthread itself did not run, on the CPU this line names.
RCU_KTHREAD_CPU = re.compile(r"kthread starved for \d+ jiffies!.*->cpu=(\d+)")


def guest_hz(pid):
    """CONFIG_HZ of the kernel QEMU boots (-kernel DIR/vmlinux-KVER, DIR/config-KVER)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            args = f.read().decode("utf-8", "replace").split("\0")
        kernel = args[args.index("-kernel") + 1]
        config = os.path.join(os.path.dirname(kernel),
                              re.sub(r"^vmlinu[xz]-", "config-", os.path.basename(kernel)))
        with open(config) as f:
            for line in f:
                if line.startswith("CONFIG_HZ="):
                    return int(line.split("=", 1)[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def vcpu_times(pid):
    """{cpu: (ran_ns, waited_ns)} for QEMU's vCPU threads now."""
    times = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return times
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                m = THREAD.match(f.read())
            if not m:
                continue
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                ran, waited = f.read().split()[:2]
        except (OSError, ValueError):
            continue
        times[int(m.group(1))] = (int(ran), int(waited))
    return times


def verdict(samples, cpu, stuck):
    """The host's run and wait time of vCPU cpu's thread over the last stuck seconds."""
    now, last = samples[-1]
    start = None
    for t, times in samples:
        if t >= now - stuck and cpu in times:
            start = times[cpu]
            break
    if start is None or cpu not in last:
        return None
    return ((last[cpu][0] - start[0]) / 1e9, (last[cpu][1] - start[1]) / 1e9)


def record(verdicts, samples, cpu, stuck):
    got = verdict(samples, cpu, stuck) if cpu is not None and stuck is not None else None
    with open(verdicts, "a") as out:
        if got is None:
            out.write(f"cpu {cpu if cpu is not None else '?'} stuck {stuck} unmeasured\n")
        else:
            out.write(f"cpu {cpu} stuck {stuck} ran {got[0]:.1f} waited {got[1]:.1f}\n")


def main():
    pid, console, verdicts = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    hz = guest_hz(pid)
    rcu = None  # an RCU stall report being read: [cpu or None, seconds or None]
    samples = collections.deque()
    offset = 0
    pending = ""
    while True:
        alive = os.path.exists(f"/proc/{pid}/task")
        now = time.monotonic()
        times = vcpu_times(pid) if alive else {}
        if times or not samples:
            samples.append((now, times))
        while samples and samples[0][0] < now - HISTORY:
            samples.popleft()
        try:
            with open(console, "rb") as f:
                f.seek(offset)
                data = f.read()
                offset += len(data)
        except OSError:
            data = b""
        pending += data.decode("utf-8", "replace")
        *lines, pending = pending.split("\n")
        for line in lines:
            if rcu is not None:
                m = RCU_CPU.search(line) or RCU_KTHREAD_CPU.search(line)
                if m and rcu[0] is None:
                    rcu[0] = int(m.group(1))
                m = RCU_JIFFIES.search(line)
                if m:
                    rcu[1] = round(int(m.group(1)) / hz) if hz else None
                    timed = True
                else:
                    timed = rcu[1] is not None
                # recorded once both are known, or when the report's rcu: lines end
                if timed and (rcu[0] is not None or "rcu:" not in line):
                    record(verdicts, samples, rcu[0], rcu[1])
                    rcu = None
                    continue
                if timed:
                    continue
            if RCU_REPORT.search(line):
                if rcu is not None:
                    record(verdicts, samples, rcu[0], rcu[1])
                rcu = [None, None]
                continue
            m = REPORT.search(line)
            if m:
                if rcu is not None:
                    record(verdicts, samples, rcu[0], rcu[1])
                    rcu = None
                record(verdicts, samples, int(m.group(1)), int(m.group(2)))
        if not alive:
            if rcu is not None:
                record(verdicts, samples, rcu[0], rcu[1])
            return
        time.sleep(PERIOD)


if __name__ == "__main__":
    main()
