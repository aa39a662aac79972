#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# bench/report.py on made-up guest output whose answers are known: medians over the
# repetitions, ratios to the best and to the default dm-crypt, CPU per byte from the CPU
# snapshots, the targets' PASS/FAIL, and a failed measurement turning into exit status 1.
# Native and quick (no guest, no plots): part of `make check`, and `make bench` runs it
# before it boots the guest.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/ktap.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ktap_begin 20

# make_raw DIR: the output of a guest run with 3 repetitions of 2 rows.
make_raw()
{
	/usr/bin/python3 - "$1" <<'PY'
import json, os, sys
raw = sys.argv[1]
os.makedirs(f"{raw}/fio")
configs = ["raw", "crypt", "crypt-nowq", "crypt-4k-nowq", "seal-512", "seal-4k"]
with open(f"{raw}/meta.txt", "w") as f:
    f.write("kernel=6.12.0-test\nvcpus=2\nclk_tck=100\nreps=3\nruntime=3\nramp=0.5\n"
            "disk_mib=1024\nconfigs=" + " ".join(configs) + "\n")
with open(f"{raw}/tables.txt", "w") as f:
    for c in configs[1:]:
        f.write(f"{c} 0 2097152 crypt aes-xts-plain64 :64:logon:bench:xts 0 1:0 0\n")
# xts(aes): 4096-byte units 100 MB/s decrypt, 120 encrypt; 512: 80 / 90.
with open(f"{raw}/xts.txt", "w") as f:
    for rep in (1, 2, 3):
        for size, enc, dec in ((512, 90, 80), (4096, 120, 100)):
            for d, mbps in (("encrypt", enc), ("decrypt", dec)):
                f.write(f"rep {rep} xts_speed: driver xts-test cpu 1 size {size} {d} "
                        f"bytes {mbps * 1000000} ns 1000000000 mbps {mbps}\n")
                # Two CPUs at once: 1.6x one CPU (a sum of two per-CPU rates).
                f.write(f"rep {rep} xts_speed: driver xts-test cpus 2 size {size} {d} "
                        f"bytes {mbps * 1600000} ns 1000000000 mbps {mbps * 8 // 5}\n")
# Medians: throughput MB/s, mean latency us, CPU ticks per 100 MB moved.
want = {
    "seq-read-1M-qd1": {"raw": (900, 1, 10), "crypt": (60, 16, 200), "crypt-nowq": (70, 14, 150),
                        "crypt-4k-nowq": (75, 13, 100), "seal-512": (80, 12, 120),
                        "seal-4k": (100, 10, 90)},
    "rand-read-4k-qd1": {"raw": (400, 10, 10), "crypt": (10, 400, 300),
                         "crypt-nowq": (20, 200, 100), "crypt-4k-nowq": (25, 160, 120),
                         "seal-512": (22, 180, 110), "seal-4k": (40, 100, 90)},
}
with open(f"{raw}/runs.tsv", "w") as runs:
    runs.write("rep row status json cpu\n")
    for rep, scale in ((1, 1.0), (2, 1.1), (3, 0.8)):
        for row, cfgs in want.items():
            base = f"fio/{rep}-{row}"
            jobs, snaps, t, busy = [], [], 10.0, 1000
            for cfg, (mbps, lat, ticks) in cfgs.items():
                bw = mbps * 1e6 * scale
                d = {"bw_bytes": bw, "iops": bw / 4096, "total_ios": 1000, "io_bytes": 300e6,
                     "lat_ns": {"mean": lat * 1e3 / scale,
                                "percentile": {"99.000000": 2 * lat * 1e3}}}
                z = {"bw_bytes": 0, "iops": 0, "total_ios": 0, "io_bytes": 0,
                     "lat_ns": {"mean": 0, "percentile": {"99.000000": 0}}}
                jobs.append({"jobname": cfg, "error": 0, "read": d, "write": z})
                # 3 s windows moving 300 MB (brd: "raw" has no sector counters).
                secs = 300e6 / bw
                sec0 = 0 if cfg == "raw" else 5000
                sec1 = 0 if cfg == "raw" else 5000 + int(300e6 / 512)
                snaps.append(f"pre:{cfg} {t:.2f} {busy} 10 {sec0}")
                busy += int(3 * ticks * scale)
                t += secs
                snaps.append(f"post:{cfg} {t:.2f} {busy} 20 {sec1}")
                t += 1
            with open(f"{raw}/{base}.json", "w") as f:
                f.write("raw : Saving output of prerun in raw.prerun.txt\n")
                json.dump({"jobs": jobs}, f)
            with open(f"{raw}/{base}.cpu", "w") as f:
                f.write("\n".join(snaps) + "\n")
            runs.write(f"{rep} {row} ok {base}.json {base}.cpu\n")
PY
}

# field CSV ROW CONFIG COLUMN: one value of results.csv
field()
{
	/usr/bin/python3 -c '
import csv, sys
for r in csv.DictReader(open(sys.argv[1])):
    if r["row"] == sys.argv[2] and r["config"] == sys.argv[3]:
        print(r[sys.argv[4]])' "$@"
}

near() { /usr/bin/python3 -c 'import sys; sys.exit(abs(float(sys.argv[1]) - float(sys.argv[2])) > 0.005)' "$1" "$2"; }

make_raw "$work/raw"
/usr/bin/python3 "$top/bench/report.py" "$work/raw" "$work/out" --no-plots > "$work/stdout" 2>&1
rc=$?
csv=$work/out/results.csv
ktap_check "the report exits 0 when every measurement is there" [ $rc = 0 ]
ktap_check "median throughput" near "$(field "$csv" seq-read-1M-qd1 seal-4k bw_MBps)" 100
ktap_check "median mean latency" near "$(field "$csv" rand-read-4k-qd1 seal-4k lat_mean_us)" 100
ktap_check "throughput vs best dm-crypt" \
	near "$(field "$csv" seq-read-1M-qd1 seal-4k bw_MBps_vs_best_crypt)" 1.3333
ktap_check "throughput vs default dm-crypt" \
	near "$(field "$csv" seq-read-1M-qd1 seal-512 bw_MBps_vs_default_crypt)" 1.3333
ktap_check "latency vs best dm-crypt is against the lowest latency" \
	near "$(field "$csv" rand-read-4k-qd1 seal-4k lat_mean_us_vs_best_crypt)" 0.625
# 300 MB moved per window, ticks per window 3 * t: CPU-ms per MiB = 30 t / (300e6 / 2^20).
ktap_check "CPU per byte from the snapshots and the device's counters" \
	near "$(field "$csv" seq-read-1M-qd1 seal-4k cpu_ms_per_MiB)" "$(/usr/bin/python3 -c 'print(30 * 90 / (300e6 / 2**20))')"
ktap_check "CPU per byte of the raw disk from fio's throughput" \
	near "$(field "$csv" seq-read-1M-qd1 raw cpu_ms_per_MiB_vs_default_crypt)" 0.05
ktap_check "every measurement in samples.csv" [ "$(wc -l < "$work/out/samples.csv")" = 37 ]
ktap_check "latency target vs default passes" grep -q 'PASS  seal-4k: 4k random read QD1 mean latency <= 0.7x default dm-crypt: 0.25x' "$work/stdout"
ktap_check "latency target vs no-workqueue fails" grep -q 'FAIL  seal-512: 4k random read QD1 mean latency <= 1.0x dm-crypt without workqueues: 1.12x' "$work/stdout"
ktap_check "single-stream target" grep -q 'PASS  seal-4k: seq-read-1M-qd1 (single stream) throughput >= 1.3x best dm-crypt: 1.33x' "$work/stdout"
ktap_check "a row that was not run is n/a" grep -q 'n/a   seal-4k: seq-write-1M-qd1' "$work/stdout"
ktap_check "cipher bound target" grep -q 'PASS  seal-4k: sequential throughput >= 0.9x xts(aes) on one CPU (4096-byte units): worst 1.00x' "$work/stdout"
ktap_check "every-row throughput target" grep -q 'FAIL  seal-512: every row throughput >= 1.0x best dm-crypt: worst 0.88x (rand-read-4k-qd1), 1 of 2 rows miss' "$work/stdout"
ktap_check "the Markdown report" grep -q '^| PASS | seal-4k: 4k random read QD1' "$work/out/performance.md"
# seal-4k reads 100 MB/s; xts(aes) decrypts 4096-byte units at 100 on one CPU, 160 on two.
ktap_check "single stream against the cipher on one CPU and on all" \
	grep -q '^  seq-read-1M-qd1    seal-4k        1.00 | 0.62$' "$work/stdout"
ktap_check "the cipher on all CPUs in the Markdown report" \
	grep -q '^| 4096 | 120.0 | 100.0 | 192.0 | 160.0 | 3 |$' "$work/out/performance.md"

# A failed fio run is a failed measurement: exit 1, named.
sed -i 's/^2 rand-read-4k-qd1 ok/2 rand-read-4k-qd1 fail/' "$work/raw/runs.tsv"
/usr/bin/python3 "$top/bench/report.py" "$work/raw" "$work/out2" --no-plots > "$work/stdout2" 2>&1
rc=$?
ktap_check "a failed fio run makes the report exit 1" [ $rc = 1 ]
ktap_check "and it is named" grep -q 'repetition 2 row rand-read-4k-qd1: fio failed' "$work/stdout2"

ktap_end
