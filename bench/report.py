#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""The host half of `make bench`: turn what bench/guest-bench.sh measured into numbers.

    bench/report.py RAW OUT [--host FILE] [--doc FILE --images DIR] [--no-plots]

RAW is the guest's output directory (meta.txt, xts.txt, runs.tsv, fio/). Writes
OUT/samples.csv (every measurement), OUT/results.csv (medians over the repetitions and
their ratios), OUT/plot-*.dat and, unless --no-plots, PNG plots (gnuplot, bench/plot.gp);
prints the ratio tables and the issue-#6 targets. With --doc, writes the Markdown report
there and its plots into --images; otherwise OUT/performance.md with the plots in OUT.

Exits 1 if a measurement is missing or failed (a fio run that failed, a job with an error,
no CPU snapshots), 2 on bad arguments; never because a target was missed.
"""

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys

# Every dm-crypt configuration bench/guest-bench.sh may run (high_priority only where the
# kernel has it); "best dm-crypt" is the best of those present.
CRYPT = ["crypt", "crypt-noread", "crypt-nowrite", "crypt-nowq", "crypt-hp", "crypt-4k",
         "crypt-4k-nowq"]
CRYPT_NOWQ = ["crypt-nowq", "crypt-4k-nowq"]
SEAL = ["seal-4k", "seal-512"]
SEAL_SECTOR = {"seal-4k": 4096, "seal-512": 512}
DEFAULT = "crypt"
DEVICES = {
    "brd": "brd RAM disk",
    "nvme": "QEMU NVMe (blk-mq, 2 interrupt queues), backed by a file in host memory",
    "nvme-poll": "QEMU NVMe with a polled queue (nvme.poll_queues=1), fio --hipri, backed "
                 "by a file in host memory; dm-crypt left out (it never completes a polled bio)",
    "virtio2": "virtio-blk with 2 queues (num-queues=2), backed by a file in host memory",
}
# --null: the overhead rows, no cipher on either side (runs-null.tsv).
NULL_MODE = False


def use_null_configs():
    global CRYPT, CRYPT_NOWQ, SEAL, SEAL_SECTOR, DEFAULT, NULL_MODE
    CRYPT = ["crypt-null", "crypt-null-nowq"]
    CRYPT_NOWQ = ["crypt-null-nowq"]
    SEAL = ["seal-null-4k", "seal-null-512"]
    SEAL_SECTOR = {"seal-null-4k": 4096, "seal-null-512": 512}
    DEFAULT = "crypt-null"
    NULL_MODE = True

# metric: (CSV column, higher is better, heading, unit)
METRICS = {
    "bw": ("bw_MBps", True, "throughput", "MB/s"),
    "iops": ("iops", True, "IOPS", "IO/s"),
    "lat": ("lat_mean_us", False, "mean latency", "us"),
    "p99": ("lat_p99_us", False, "p99 latency", "us"),
    "cpu": ("cpu_ms_per_MiB", False, "CPU per byte", "CPU-ms/MiB"),
}
RATIO_METRICS = ["bw", "lat", "p99", "cpu"]


class Failure(Exception):
    """A measurement is missing or failed."""


def read_kv(path):
    kv = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                if "=" in line:
                    k, v = line.rstrip("\n").split("=", 1)
                    kv[k.strip()] = v.strip()
    return kv


def read_matrix(path):
    rows = {}
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].split()
            if line:
                name, rw, bs, qd, jobs = line
                rows[name] = {"rw": rw, "bs": bs, "iodepth": int(qd), "numjobs": int(jobs)}
    return rows


def load_fio_json(path):
    """fio's JSON; fio writes exec_prerun/postrun chatter before it into the same file."""
    with open(path) as f:
        text = f.read()
    start = 0 if text.startswith("{") else text.find("\n{") + 1
    if not text[start:].startswith("{"):
        raise Failure(f"{path}: no JSON in fio's output")
    return json.JSONDecoder().raw_decode(text[start:])[0]


def load_cpu(path):
    """bench/cpu-snap lines -> {config: (seconds, busy ticks, sectors, idle ticks)} over the
    window from the first job's prerun to the last job's postrun of that configuration."""
    snaps = {}
    with open(path) as f:
        for line in f:
            tag, up, busy, idle, sectors = line.split()
            kind, cfg = tag.split(":", 1)
            snaps.setdefault(cfg, {"pre": [], "post": []})[kind].append(
                (float(up), int(busy), int(idle), int(sectors)))
    win = {}
    for cfg, s in snaps.items():
        if not s["pre"] or not s["post"]:
            continue
        a, b = min(s["pre"]), max(s["post"])
        win[cfg] = (b[0] - a[0], b[1] - a[1], b[3] - a[3], b[2] - a[2])
    return win


def job_metrics(job, rw):
    """Throughput, IOPS, mean and p99 latency of one (group-reported) fio job."""
    dirs = ["read"] if "read" in rw else ["write"]
    if rw in ("rw", "randrw", "readwrite"):
        dirs = ["read", "write"]
    bw = sum(job[d]["bw_bytes"] for d in dirs)
    iops = sum(job[d]["iops"] for d in dirs)
    ios = sum(job[d]["total_ios"] for d in dirs)
    if ios == 0 or bw == 0:
        raise Failure(f"job {job['jobname']}: no I/O was done")
    lat = sum(job[d]["lat_ns"]["mean"] * job[d]["total_ios"] for d in dirs) / ios
    p99 = max(job[d]["lat_ns"]["percentile"]["99.000000"] for d in dirs if job[d]["total_ios"])
    return bw, iops, lat, p99


def load_samples(raw, matrix, clk_tck, configs, runs_file="runs.tsv"):
    """One dict per (repetition, row, configuration) measured; a list of failures."""
    samples, failures, warnings = [], [], []
    with open(os.path.join(raw, runs_file)) as f:
        runs = [line.split() for line in f.read().splitlines()[1:] if line.strip()]
    if not runs:
        failures.append(f"{runs_file} lists no fio run")
    for rep, row, status, js, cpu in runs:
        if status != "ok":
            failures.append(f"repetition {rep} row {row}: fio failed")
            continue
        try:
            data = load_fio_json(os.path.join(raw, js))
            win = load_cpu(os.path.join(raw, cpu))
        except (OSError, ValueError, Failure) as e:
            failures.append(f"repetition {rep} row {row}: {e}")
            continue
        jobs = {j["jobname"]: j for j in data["jobs"]}
        for cfg in configs:
            where = f"repetition {rep} row {row} configuration {cfg}"
            job = jobs.get(cfg)
            if job is None:
                failures.append(f"{where}: not in fio's output")
                continue
            if job.get("error"):
                failures.append(f"{where}: fio error {job['error']}")
                continue
            try:
                bw, iops, lat, p99 = job_metrics(job, matrix[row]["rw"])
            except (KeyError, Failure) as e:
                failures.append(f"{where}: {e}")
                continue
            if cfg not in win or win[cfg][0] <= 0:
                failures.append(f"{where}: no CPU snapshots around the job")
                continue
            secs, busy, sectors, _ = win[cfg]
            # The window holds the ramp as well as the measured run, so the bytes are
            # the device's own count over it (device-mapper keeps one); brd keeps none:
            # for the raw disk, fio's throughput times the window.
            if sectors > 0:
                moved, source = sectors * 512, "device"
            else:
                moved, source = bw * secs, "fio"
            samples.append({
                "rep": int(rep), "row": row, "config": cfg,
                "bw_MBps": bw / 1e6, "iops": iops,
                "lat_mean_us": lat / 1e3, "lat_p99_us": p99 / 1e3,
                "cpu_ms_per_MiB": (busy / clk_tck) * 1e3 / (moved / 2**20),
                "cpu_util": busy / clk_tck / secs, "cpu_window_s": secs,
                "bytes_source": source,
            })
    return samples, failures, warnings


def load_xts(raw):
    """xts-speed lines -> (driver, one, all, ncpus): one and all map (size, 'encrypt' or
    'decrypt') to the per-repetition MB/s on one CPU and summed over all CPUs at once;
    ncpus is how many CPUs "all" was."""
    path = os.path.join(raw, "xts.txt")
    one, every, drivers, ncpus = {}, {}, set(), None
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                w = line.split()
                # rep N xts_speed: driver D cpu C size S DIR bytes B ns T mbps M
                # rep N xts_speed: driver D cpus C size S DIR bytes B ns T mbps M (sum)
                if len(w) < 16 or w[3] != "driver" or w[5] not in ("cpu", "cpus"):
                    continue
                drivers.add(w[4])
                key = (int(w[8]), w[9])
                if w[5] == "cpu":
                    one.setdefault(key, []).append(int(w[11]) * 1e3 / int(w[13]))
                else:
                    ncpus = int(w[6])
                    every.setdefault(key, []).append(float(w[15]))
    return ", ".join(sorted(drivers)) or "unknown", one, every, ncpus


def median_of(per):
    return {k: statistics.median(v) for k, v in per.items()}


def medians(samples, rows, configs):
    res = {}
    for row in rows:
        for cfg in configs:
            got = [s for s in samples if s["row"] == row and s["config"] == cfg]
            if got:
                m = {METRICS[k][0]: statistics.median(s[METRICS[k][0]] for s in got)
                     for k in METRICS}
                m["reps"] = len(got)
                m["bw_min"] = min(x["bw_MBps"] for x in got)
                m["bw_max"] = max(x["bw_MBps"] for x in got)
                res[(row, cfg)] = m
    return res


def best_crypt(res, row, metric, among=None):
    col, higher, _, _ = METRICS[metric]
    among = among or CRYPT
    have = [(res[(row, c)][col], c) for c in among if (row, c) in res]
    if not have:
        return None, None
    v, c = max(have) if higher else min(have)
    return c, v


def paired_ratio(by_rep, row, cfg, ref, metric):
    """Median over the repetitions of cfg / ref, each pair from the same fio run (seconds
    apart), so that the host's slow and fast periods cancel out; None if never paired."""
    col = METRICS[metric][0]
    got = [by_rep[(rep, row, cfg)][col] / by_rep[(rep, row, ref)][col]
           for (rep, r, c) in by_rep if r == row and c == cfg
           if (rep, row, ref) in by_rep and by_rep[(rep, row, ref)][col]]
    return statistics.median(got) if got else None


def ratios(res, by_rep, rows, configs):
    """{(row, cfg, metric): (vs best dm-crypt, vs default dm-crypt)}, and the best per row:
    the dm-crypt configuration with the best median, compared with run by run."""
    out, best = {}, {}
    for row in rows:
        for m in RATIO_METRICS:
            bc, _ = best_crypt(res, row, m)
            best[(row, m)] = bc
            for cfg in configs:
                if (row, cfg) not in res:
                    continue
                out[(row, cfg, m)] = (bc and paired_ratio(by_rep, row, cfg, bc, m),
                                      paired_ratio(by_rep, row, cfg, DEFAULT, m))
    return out, best


def spread(res):
    """Median over all cells of (largest / smallest throughput over the repetitions)."""
    got = [r["bw_max"] / r["bw_min"] for r in res.values() if r["reps"] > 1 and r["bw_min"]]
    return statistics.median(got) if got else None


def fmt(x, nd=2):
    return "-" if x is None else f"{x:.{nd}f}"


def parallel_bound(res, rows, cipher):
    """For the single-stream sequential rows: (row, config, throughput / the cipher on one
    CPU, / on all CPUs), for every configuration of a known sector size."""
    out = []
    for row in rows if not NULL_MODE else []:
        if not row.startswith("seq-") or not row.endswith("-qd1"):
            continue
        d = "decrypt" if "-read-" in row else "encrypt"
        for cfg in CRYPT + SEAL:
            size = SEAL_SECTOR.get(cfg, 4096 if "4k" in cfg else 512)
            one, every = cipher["one"].get((size, d)), cipher["all"].get((size, d))
            if (row, cfg) not in res or not one:
                continue
            bw = res[(row, cfg)]["bw_MBps"]
            out.append((row, cfg, bw / one, bw / every if every else None))
    return out


def check_targets(res, by_rep, rows, xts):
    """The targets of issue #6, for each seal configuration: (ok or None, text, value)."""
    out = []

    def ratio(row, cfg, metric, among):
        ref, _ = best_crypt(res, row, metric, among)
        if (row, cfg) not in res or ref is None:
            return None
        return paired_ratio(by_rep, row, cfg, ref, metric)

    for s in SEAL:
        row = "rand-read-4k-qd1"
        r = ratio(row, s, "lat", [DEFAULT])
        out.append((None if r is None else r <= 0.7,
                    f"{s}: 4k random read QD1 mean latency <= 0.7x default dm-crypt",
                    "row not run" if r is None else f"{r:.2f}x"))
        r = ratio(row, s, "lat", CRYPT_NOWQ)
        out.append((None if r is None else r <= 1.0,
                    f"{s}: 4k random read QD1 mean latency <= 1.0x dm-crypt without workqueues",
                    "row not run" if r is None else f"{r:.2f}x"))
        for row in ("seq-read-1M-qd1", "seq-write-1M-qd1"):
            r = ratio(row, s, "bw", CRYPT)
            out.append((None if r is None else r >= 1.3,
                        f"{s}: {row} (single stream) throughput >= 1.3x best dm-crypt",
                        "row not run" if r is None else f"{r:.2f}x"))
        for metric, cmp, text in (("bw", lambda r: r >= 1.0, "throughput >= 1.0x"),
                                  ("cpu", lambda r: r <= 1.0, "CPU per byte <= 1.0x")):
            got = [(ratio(row, s, metric, CRYPT), row) for row in rows]
            got = [g for g in got if g[0] is not None]
            if not got:
                out.append((None, f"{s}: every row {text} best dm-crypt", "no rows"))
                continue
            worst = (min(got) if metric == "bw" else max(got))
            bad = sum(1 for r, _ in got if not cmp(r))
            out.append((bad == 0, f"{s}: every row {text} best dm-crypt",
                        f"worst {worst[0]:.2f}x ({worst[1]}), {bad} of {len(got)} rows miss"))
        if NULL_MODE:
            continue
        # Sequential throughput against the cipher on one CPU, for this sector size.
        got = []
        for row in rows:
            if not row.startswith("seq-") or row.endswith("-2j") or (row, s) not in res:
                continue
            d = "decrypt" if "-read-" in row else "encrypt"
            bound = xts.get((SEAL_SECTOR[s], d))
            if bound:
                got.append((res[(row, s)]["bw_MBps"] / bound, row))
        if got:
            worst = min(got)
            out.append((worst[0] >= 0.9,
                        f"{s}: sequential throughput >= 0.9x xts(aes) on one CPU "
                        f"({SEAL_SECTOR[s]}-byte units)",
                        f"worst {worst[0]:.2f}x ({worst[1]})"))
        else:
            out.append((None, f"{s}: sequential throughput >= 0.9x xts(aes) on one CPU",
                        "no sequential rows or no cipher measurement"))
    return out


def status_word(ok):
    return "n/a " if ok is None else ("PASS" if ok else "FAIL")


def text_table(res, rat, best, rows, configs, metric):
    col, higher, head, unit = METRICS[metric]
    lines = [f"{head} ({'higher' if higher else 'lower'} is better): "
             f"configuration / best dm-crypt  |  / default dm-crypt"]
    w = max(len(r) for r in rows) + 2
    lines.append("".ljust(w) + "best dm-crypt".ljust(15) + "".join(c.rjust(14) for c in configs))
    for row in rows:
        cells = []
        for cfg in configs:
            r = rat.get((row, cfg, metric))
            cells.append((f"{fmt(r[0])}|{fmt(r[1])}" if r else "-").rjust(14))
        lines.append(row.ljust(w) + (best.get((row, metric)) or "-").ljust(15) + "".join(cells))
    return "\n".join(lines)


def md_table(rat, best, rows, configs, metric):
    col, higher, head, unit = METRICS[metric]
    out = ["| row | best dm-crypt | " + " | ".join(configs) + " |",
           "|---|---|" + "---:|" * len(configs)]
    for row in rows:
        cells = []
        for cfg in configs:
            r = rat.get((row, cfg, metric))
            cells.append(f"{fmt(r[0])} / {fmt(r[1])}" if r else "-")
        out.append(f"| {row} | {best.get((row, metric)) or '-'} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def md_abs_table(res, rows, configs, metric, nd):
    col = METRICS[metric][0]
    out = ["| row | " + " | ".join(configs) + " |", "|---|" + "---:|" * len(configs)]
    for row in rows:
        out.append(f"| {row} | " + " | ".join(
            fmt(res[(row, c)][col], nd) if (row, c) in res else "-" for c in configs) + " |")
    return "\n".join(out)


def write_csv(path, header, lines):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(lines)


def plots(out_dir, img_dir, rat, rows, configs, plot_gp, prefix):
    """PNG plots of the ratios against default dm-crypt; returns their file names."""
    shown = [c for c in configs if c not in ("raw", DEFAULT)]
    made = []
    for metric in RATIO_METRICS:
        col, higher, head, unit = METRICS[metric]
        dat = os.path.join(out_dir, f"plot-{metric}.dat")
        with open(dat, "w") as f:
            f.write("row " + " ".join(shown) + "\n")
            for row in rows:
                vals = [rat.get((row, c, metric), (None, None))[1] for c in shown]
                f.write(row + " " + " ".join("NaN" if v is None else f"{v:.4f}" for v in vals)
                        + "\n")
        png = f"{prefix}-{metric}.png"
        title = (f"{head}, ratio to default dm-crypt "
                 f"({'higher' if higher else 'lower'} is better)")
        cmd = ["gnuplot", "-e",
               f"datafile='{dat}'; outfile='{os.path.join(img_dir, png)}'; "
               f"ttl='{title}'; ncols={len(shown)}; nrows={len(rows)}", plot_gp]
        subprocess.run(cmd, check=True)
        made.append((png, title))
    return made


def markdown(args, meta, host, cipher, res, rat, best, rows, configs,
             targets, pngs, img_rel, matrix):  # noqa: C901 (one page, top to bottom)
    xts_driver, xts, xts_per = cipher["driver"], cipher["one"], cipher["one_per"]
    accel = host.get("accel", "unknown").upper()
    L = []
    L.append("# Performance\n")
    L.append("<!-- Generated by `make bench` (bench/report.py) from its last full run; "
             "edits here are overwritten. -->\n")
    L.append("`make bench` compares `seal` with dm-crypt over the same RAM disk in one guest "
             "boot, and measures the AES-XTS cipher alone on one CPU (the limit a "
             "single-CPU data path cannot pass) and on all CPUs at once (the limit for one "
             "that splits bios). Where the time goes, and why some targets are missed: "
             "[performance-analysis.md](performance-analysis.md). "
             f"This page shows the run of {host.get('date', '?')}.\n")
    if accel == "TCG":
        L.append("**Read the ratios, not the absolute numbers.** This run's guest ran under "
                 "QEMU's TCG (no KVM): every guest instruction is emulated, AES-NI included, "
                 "so absolute throughput and latency say nothing about real hardware. "
                 "Ratios between configurations measured in the same run do. The host is "
                 "shared with other work, so each measurement is noisy; the configurations "
                 "are interleaved (every repetition runs every row on every configuration, "
                 "one after the other) so that a slow period hits all of them alike, and "
                 "every number is the median of the repetitions.\n")
    L.append("## How to run\n")
    L.append("```\n"
             "make bench                    # full run, 6.12 guest, every disk model, and the overhead rows\n"
             "make bench BENCH_KERNEL=6.1   # the other pinned kernel\n"
             "make bench BENCH_QUICK=1      # smoke run: 1 repetition of 4 rows, short runs\n"
             "make bench BENCH_REPS=5 BENCH_RUNTIME=5   # longer, steadier\n"
             "make bench BENCH_DEVICES=\"nvme virtio2\" BENCH_NULL=0   # some disks, no overhead rows\n"
             "```\n")
    L.append("The disk models (`BENCH_DEVICES`, one guest each): `brd` (a RAM disk: bio-based, "
             "completes in the submitter), `nvme` (QEMU's NVMe, interrupt completion), "
             "`nvme-poll` (the same with a polled queue and fio `--hipri`; dm-crypt is left "
             "out: it never completes a polled bio), `virtio2` (virtio-blk, 2 queues); the "
             "NVMe and virtio disks are files in host memory. The overhead rows run the same "
             "matrix with no cipher: dm-crypt's `cipher_null` against the bench-only build of "
             "dm-seal.ko whose tfm is `ecb(cipher_null)` (`SEAL_TEST_CIPHER=null`, never "
             "installed). Under TCG the cipher costs about 50x what it costs on hardware and "
             "hides the data path; these rows measure the data path alone.\n")
    L.append("`make bench` installs what it needs (`make deps`, gnuplot from `bench/DEPS`), "
             "builds `dm-seal.ko` and the cipher probe `bench/xts-speed` for the guest kernel, "
             "boots one guest (`tests/vm/run`, 2 vCPUs) that runs `bench/guest-bench.sh`, "
             "then `bench/report.py` prints the ratio tables and the targets and writes "
             "`build/bench/results.csv` (medians and ratios), `build/bench/samples.csv` "
             "(every measurement), the plots and this page (a quick or partial run writes "
             "`build/bench/performance.md` instead). It exits non-zero only when a "
             "measurement failed, never because a target was missed. `tests/build/bench-report.sh` "
             "checks the report generator on made-up data in a second (`make bench` runs "
             "it before booting the guest).\n")
    L.append("## This run\n")
    L.append("| | |\n|---|---|")
    items = [
        ("date (UTC)", host.get("date")),
        ("dm-seal commit", host.get("commit")),
        ("host CPU", host.get("host_cpu")),
        ("host", f"{host.get('host_cores', '?')} cores, {host.get('host_mem', '?')}, "
                 f"{host.get('host_os', '?')}"),
        ("host load (1-min average) before / after", f"{host.get('load_before', '?')} / "
                                                       f"{host.get('load_after', '?')}"),
        ("accelerator", f"{accel} ({host.get('qemu', '?')}, "
                        f"`{host.get('qemu_cpu', '?')}`)"),
        ("guest kernel", meta.get("kernel")),
        ("guest CPU", f"{meta.get('vcpus')} vCPUs, \"{meta.get('cpu_model')}\", flags: "
                      f"{meta.get('cpu_flags')}"),
        ("guest memory", f"{int(meta.get('mem_kib', 0)) // 1024} MiB"),
        ("xts(aes) driver", xts_driver),
        ("device-mapper targets", meta.get("dm_targets")),
        ("disk", f"{DEVICES.get(meta.get('device', 'brd'), meta.get('device'))}, "
                 f"{meta.get('disk_mib')} MiB, filled before the first run"),
        ("fio", f"{meta.get('fio')}, io_uring, direct=1, {meta.get('runtime')} s per run "
                f"after {meta.get('ramp')} s ramp"),
        ("repetitions", meta.get("reps")),
        ("run time (guest boot to report)", host.get("duration")),
    ]
    for k, v in items:
        L.append(f"| {k} | {v} |")
    L.append("")
    L.append("## Configurations\n")
    L.append("All AES-256-XTS (`aes-xts-plain64`, one 64-byte key from the kernel keyring, "
             "`:64:logon:bench:xts`), over the same disk. `seal-4k` is what `sealctl "
             "format` creates by default (4096-byte sectors, like LUKS2 on 4K disks):\n")
    L.append("| name | table (after `0 <sectors>`) |\n|---|---|")
    tables = {}
    tpath = os.path.join(args.raw, "tables.txt")
    if os.path.exists(tpath):
        with open(tpath) as f:
            for line in f:
                name, table = line.rstrip("\n").split(" ", 1)
                tables[name] = " ".join(table.split()[2:])
    L.append("| raw | the disk itself, no device-mapper |")
    for c in configs:
        if c in tables:
            L.append(f"| {c} | `{tables[c]}` |")
    L.append("")
    L.append("Matrix (`bench/matrix`), each row on every configuration:\n")
    L.append("| row | fio rw | bs | iodepth | jobs |\n|---|---|---|---:|---:|")
    for row in rows:
        m = matrix[row]
        L.append(f"| {row} | {m['rw']} | {m['bs']} | {m['iodepth']} | {m['numjobs']} |")
    L.append("")
    L.append("## Targets (issue #6)\n")
    L.append("Each seal configuration is held to each target. \"Best dm-crypt\" is the best "
             "of the three dm-crypt configurations in that row for that metric; \"dm-crypt "
             "without workqueues\" the better of `crypt-nowq` and `crypt-4k-nowq`.\n")
    L.append("| result | target | measured |\n|---|---|---|")
    for ok, text, val in targets:
        L.append(f"| {status_word(ok).strip()} | {text} | {val} |")
    L.append("")
    L.append("## Ratios\n")
    L.append("Each cell is *configuration / best dm-crypt* and *configuration / default "
             "dm-crypt* for that row. The best dm-crypt configuration of a row is the one "
             "with the best median; each ratio is the median over the repetitions of the "
             "ratio within one repetition (the two ran seconds apart in the same fio run, "
             "so a busy period of the host weighs on both). Throughput: above 1 is better; "
             "latency and CPU per byte: below 1 is better.\n")
    noise = spread(res)
    if noise:
        L.append(f"Run-to-run noise in this run: the fastest repetition of a cell was "
                 f"{noise:.2f}x its slowest (median over all cells; per cell in "
                 "`results.csv`, `bw_MBps_min` and `bw_MBps_max`). The paired ratios cancel "
                 "part of it, not all: read a ratio near 1 as no measured difference. A "
                 "quieter host or more repetitions (`BENCH_REPS`) narrow it.\n")
    for m in RATIO_METRICS:
        col, higher, head, unit = METRICS[m]
        L.append(f"### {head[0].upper() + head[1:]}\n")
        L.append(md_table(rat, best, rows, configs, m))
        L.append("")
    L.append("CPU per byte is the guest's CPU time on all CPUs (`/proc/stat`: user, nice, "
             "system, irq, softirq, steal) between two snapshots that fio takes around each "
             "job (`exec_prerun` and `exec_postrun` run `bench/cpu-snap`; the window holds "
             "the ramp and the measured run), divided by the bytes the device moved in that "
             "window by its own counters (device-mapper keeps them; for the raw RAM disk, "
             "which keeps none, fio's throughput times the window). It includes fio's own "
             "CPU, alike for every configuration, and the job's start-up and tear-down.\n")
    if pngs:
        L.append("## Plots\n")
        for png, title in pngs:
            L.append(f"![{title}]({img_rel}/{png})\n")
    n = cipher["ncpus"]
    L.append("## The cipher alone\n")
    L.append("`bench/xts-speed` (a small kernel module built for the guest kernel) allocates "
             "`xts(aes)` as dm-crypt and seal do, and on one CPU encrypts (out of place) and "
             "decrypts (in place) one buffer per request, each with a new tweak, for "
             f"{host.get('xts_msecs', '?')} ms per cell, once per repetition; then the same "
             f"on all {n or '?'} CPUs at once, one thread per CPU, and sums them. "
             f"Medians, MB/s (10^6 bytes/s). Driver: `{xts_driver}`. One CPU is the bound "
             "for a data path that converts a bio on one CPU; all CPUs, for one that splits "
             "it, and the ratio between the two says how well this machine's CPUs scale "
             "(under TCG, vCPUs are host threads competing for the host's cores).\n")
    L.append(f"| request size | encrypt, 1 CPU | decrypt, 1 CPU | encrypt, {n or '?'} CPUs | "
             f"decrypt, {n or '?'} CPUs | samples |\n|---:|---:|---:|---:|---:|---:|")
    for size in sorted({k[0] for k in xts}):
        L.append(f"| {size} | {fmt(xts.get((size, 'encrypt')), 1)} | "
                 f"{fmt(xts.get((size, 'decrypt')), 1)} | "
                 f"{fmt(cipher['all'].get((size, 'encrypt')), 1)} | "
                 f"{fmt(cipher['all'].get((size, 'decrypt')), 1)} | "
                 f"{len(xts_per.get((size, 'encrypt'), []))} |")
    L.append("")
    bound = parallel_bound(res, rows, cipher)
    if bound:
        L.append("Single-stream rows against those bounds (the configuration's median "
                 "throughput over the cipher's, for its sector size and direction):\n")
        L.append(f"| row | configuration | / 1 CPU | / {n or '?'} CPUs |\n|---|---|---:|---:|")
        for row, cfg, r1, rn in bound:
            L.append(f"| {row} | {cfg} | {fmt(r1, 2)} | {fmt(rn, 2)} |")
        L.append("")
    L.append("## Medians\n")
    L.append("For reference only (under TCG the absolute values mean little). Every "
             "measurement is in `build/bench/samples.csv` after a run.\n")
    for m, nd in (("bw", 1), ("lat", 1), ("p99", 1), ("cpu", 2)):
        col, higher, head, unit = METRICS[m]
        L.append(f"### {head[0].upper() + head[1:]} ({unit})\n")
        L.append(md_abs_table(res, rows, ["raw"] + configs, m, nd))
        L.append("")
    return "\n".join(L)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("raw")
    ap.add_argument("out")
    ap.add_argument("--host", help="key=value facts about the host and the run")
    ap.add_argument("--doc", help="write the Markdown report here")
    ap.add_argument("--images", help="directory for the plots of --doc")
    ap.add_argument("--no-plots", action="store_true")
    ap.add_argument("--null", action="store_true",
                    help="the overhead rows: no cipher (runs-null.tsv, null_configs)")
    args = ap.parse_args()
    if args.null:
        use_null_configs()

    here = os.path.dirname(os.path.abspath(__file__))
    matrix = read_matrix(os.path.join(here, "matrix"))
    meta = read_kv(os.path.join(args.raw, "meta.txt"))
    host = read_kv(args.host) if args.host else {}
    if not meta:
        print(f"bench: no {args.raw}/meta.txt: the guest did not get far", file=sys.stderr)
        return 1
    all_configs = meta.get("null_configs" if args.null else "configs", "").split()
    configs = [c for c in CRYPT + SEAL[::-1] if c in all_configs]
    os.makedirs(args.out, exist_ok=True)

    samples, failures, warnings = load_samples(args.raw, matrix, int(meta.get("clk_tck", 100)),
                                               all_configs,
                                               "runs-null.tsv" if args.null else "runs.tsv")
    measured = {s["row"] for s in samples}
    rows = [r for r in matrix if r in measured]
    xts_driver, xts_per, xts_all_per, ncpus = load_xts(args.raw)
    xts = median_of(xts_per)
    cipher = {"driver": xts_driver, "one": xts, "one_per": xts_per,
              "all": median_of(xts_all_per), "ncpus": ncpus}
    if not xts:
        failures.append("no xts(aes) cipher measurement")
    res = medians(samples, rows, all_configs)
    by_rep = {(x["rep"], x["row"], x["config"]): x for x in samples}
    rat, best = ratios(res, by_rep, rows, ["raw"] + configs)

    write_csv(os.path.join(args.out, "samples.csv"),
              ["kernel", "rep", "row", "config", "bw_MBps", "iops", "lat_mean_us",
               "lat_p99_us", "cpu_ms_per_MiB", "cpu_util", "cpu_window_s", "bytes_source"],
              [[meta.get("kernel"), s["rep"], s["row"], s["config"],
                f"{s['bw_MBps']:.3f}", f"{s['iops']:.1f}", f"{s['lat_mean_us']:.2f}",
                f"{s['lat_p99_us']:.2f}", f"{s['cpu_ms_per_MiB']:.4f}",
                f"{s['cpu_util']:.3f}", f"{s['cpu_window_s']:.2f}", s["bytes_source"]]
               for s in samples])
    header = ["kernel", "accel", "row", "rw", "bs", "iodepth", "numjobs", "config", "reps"]
    header += [METRICS[m][0] for m in ("bw", "iops", "lat", "p99", "cpu")]
    header += ["bw_MBps_min", "bw_MBps_max"]
    for m in RATIO_METRICS:
        header += [f"{METRICS[m][0]}_vs_best_crypt", f"{METRICS[m][0]}_vs_default_crypt"]
    lines = []
    for row in rows:
        for cfg in ["raw"] + configs:
            if (row, cfg) not in res:
                continue
            r, mx = res[(row, cfg)], matrix[row]
            line = [meta.get("kernel"), host.get("accel", ""), row, mx["rw"], mx["bs"],
                    mx["iodepth"], mx["numjobs"], cfg, r["reps"]]
            line += [f"{r[METRICS[m][0]]:.4f}" for m in ("bw", "iops", "lat", "p99", "cpu")]
            line += [f"{r['bw_min']:.4f}", f"{r['bw_max']:.4f}"]
            for m in RATIO_METRICS:
                q = rat.get((row, cfg, m), (None, None))
                line += ["" if v is None else f"{v:.4f}" for v in q]
            lines.append(line)
    write_csv(os.path.join(args.out, "results.csv"), header, lines)

    shown = ["raw"] + configs
    print()
    print(f"bench: {meta.get('kernel')}, {host.get('accel', '?').upper()}, "
          f"{meta.get('vcpus')} vCPUs, xts(aes) driver {xts_driver}, "
          f"{meta.get('reps')} repetitions (medians)")
    for m in ("bw", "lat", "cpu"):
        print()
        print(text_table(res, rat, best, rows, shown, m))
    targets = check_targets(res, by_rep, rows, xts)
    noise = spread(res)
    if noise:
        print()
        print(f"run-to-run noise: a cell's fastest repetition was {noise:.2f}x its slowest "
              "(median over cells)")
    bound = parallel_bound(res, rows, cipher)
    if bound:
        print()
        print(f"single stream against xts(aes) on 1 CPU | on all {ncpus or '?'} CPUs:")
        for row, cfg, r1, rn in bound:
            print(f"  {row:18} {cfg:14} {r1:.2f} | " + ("-" if rn is None else f"{rn:.2f}"))
    print()
    print("targets of issue #6:")
    for ok, text, val in targets:
        print(f"  {status_word(ok)}  {text}: {val}")

    pngs = []
    doc = args.doc or os.path.join(args.out, "performance.md")
    img_dir = args.images if args.doc else args.out
    if not args.no_plots and rows:
        os.makedirs(img_dir, exist_ok=True)
        pngs = plots(args.out, img_dir, rat, rows, ["raw"] + configs,
                     os.path.join(here, "plot.gp"), "bench")
    img_rel = os.path.relpath(img_dir, os.path.dirname(os.path.abspath(doc)))
    with open(doc, "w") as f:
        f.write(markdown(args, meta, host, cipher, res, rat, best, rows,
                         configs, targets, pngs, img_rel, matrix))
    print()
    print(f"bench: {args.out}/results.csv, {doc}")
    for w in warnings:
        print(f"bench: warning: {w}", file=sys.stderr)
    if failures:
        print("bench: measurements failed:", file=sys.stderr)
        for f in failures:
            print(f"  {f}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
