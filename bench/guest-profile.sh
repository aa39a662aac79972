#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The guest half of bench/profile: where the CPU time of one fio job goes, on seal-4k and
# on default dm-crypt over one RAM disk. Sampling profilers see nothing useful under TCG
# (perf's cpu-clock samples land almost all in the idle loop), so this measures two things
# that do not depend on sampling:
#   <tag>.s0, .s1  CPU time per thread at the start and end of a 3-second window of the
#                  run (/proc/*/task/*/schedstat, the scheduler's clock), and per CPU
#                  (/proc/stat ticks)
#   <tag>.trace    a function_graph trace (absolute times, durations) of the data path's
#                  functions for a short window: seal's and dm-crypt's own, brd's submit,
#                  the block layer's direct I/O entry
# for each PROFILE_ROWS entry "rw bs iodepth" (fio, io_uring, direct) and configuration.
set -uo pipefail
. "$SEAL_ROOT/tests/lib/guest.sh"
out=${SEAL_VM_OUT:?run me through tests/vm/run --out}
rows=${PROFILE_ROWS:-"write 1M 1;read 1M 1"}

modprobe xts
modprobe dm-crypt
load_seal || exit 1
dev=$(ramdisk 512) || exit 1
dd if=/dev/zero of="$dev" bs=1M count=512 oflag=direct status=none
sectors=$(blockdev --getsz "$dev")
head -c 64 /dev/urandom | keyctl padd logon bench:xts @s >/dev/null
key=:64:logon:bench:xts
declare -A table=(
	[crypt]="crypt aes-xts-plain64 $key 0 $dev 0"
	[seal-4k]="seal aes-xts-plain64 $key 0 $dev 0 2 sector_size:4096 iv_large_sectors"
)
for cfg in crypt seal-4k; do
	dm_track "prof-$cfg"
	dmsetup create "prof-$cfg" --table "0 $sectors ${table[$cfg]}" || exit 1
done

tracing=/sys/kernel/tracing
mountpoint -q "$tracing" || mount -t tracefs nodev "$tracing"
on_exit "echo 0 > $tracing/tracing_on; echo nop > $tracing/current_tracer"
pattern='^(seal_(map|try_alloc_bounce|free_bounce|runner_run|runner_work|read_endio|write_endio|io_end|read_work)|brd_submit_bio|blkdev_direct_IO|kcryptd_crypt|crypt_convert|crypt_alloc_buffer|crypt_free_buffer_pages|crypt_endio)( |$)'
grep -E "$pattern" "$tracing/available_filter_functions" | awk '{print $1}' | sort -u \
	> "$out/functions.txt"

# snapshot FILE DEV: the time, DEV's sectors moved, ticks per CPU (/proc/stat: busy, idle), then per-thread run time in ns
# with the thread's name (schedstat). Python, so that it takes a moment, not seconds.
snapshot()
{
	/usr/bin/python3 - "$1" "$2" <<'PY'
import os, sys, time
out = [f"time {time.clock_gettime_ns(time.CLOCK_MONOTONIC)}"]
# Sectors read and written by the mapping (its own counters).
w = open(f"/sys/block/{sys.argv[2]}/stat").read().split()
out.append(f"sectors {int(w[2]) + int(w[6])}")
for line in open("/proc/stat"):
    w = line.split()
    if w[0].startswith("cpu") and w[0] != "cpu":
        v = [int(x) for x in w[1:9]]
        out.append(f"cpu {w[0]} {sum(v) - v[3] - v[4]} {v[3] + v[4]}")
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            t = f"/proc/{pid}/task/{tid}"
            comm = open(f"{t}/comm").read().strip().replace(" ", "_")
            out.append(f"thread {tid} {open(f'{t}/schedstat').read().split()[0]} {comm}")
    except OSError:
        pass
open(sys.argv[1], "w").write("\n".join(out) + "\n")
PY
}

IFS=';' read -r -a row_list <<<"$rows"
for row in "${row_list[@]}"; do
	read -r rw bs qd <<<"$row"
	for cfg in crypt seal-4k; do
		tag="$rw-$bs-qd$qd-$cfg"
		echo "profile: $tag"
		# Stopped below, once the window and the trace are taken.
		fio --name=p --filename="/dev/mapper/prof-$cfg" --ioengine=io_uring --direct=1 \
			--rw="$rw" --bs="$bs" --iodepth="$qd" --size=400M --time_based=1 \
			--runtime=600 --eta=never --output=/dev/null &
		fio_pid=$!
		blk=$(dmsetup info -c --noheadings -o blkdevname "prof-$cfg")
		sleep 2
		snapshot "$out/$tag.s0" "$blk"
		sleep 3
		snapshot "$out/$tag.s1" "$blk"

		echo nop > "$tracing/current_tracer"
		cat "$out/functions.txt" > "$tracing/set_ftrace_filter"
		echo function_graph > "$tracing/current_tracer"
		echo 1 > "$tracing/options/funcgraph-abstime"
		echo 1 > "$tracing/options/funcgraph-proc"
		echo 8192 > "$tracing/buffer_size_kb"
		echo > "$tracing/trace"
		echo 1 > "$tracing/tracing_on"
		sleep 0.5
		echo 0 > "$tracing/tracing_on"
		cat "$tracing/trace" > "$out/$tag.trace"
		echo nop > "$tracing/current_tracer"
		# fio exits non-zero when interrupted; that is how it is stopped here.
		kill -INT "$fio_pid"
		wait "$fio_pid"
	done
done
exit 0
