#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The guest half of `make bench` (bench/run boots it with tests/vm/run --out DIR).
# One brd RAM disk; five device-mapper configurations over it, all AES-256-XTS with one key
# from the keyring; the same fio matrix (bench/matrix) on each and on the raw disk. Each
# matrix row is one fio run with one job per configuration, one after the other
# (stonewall), so the configurations are interleaved: every repetition runs every row on
# every configuration, starting each repetition at a different configuration.
# Writes to $SEAL_VM_OUT:
#   meta.txt     kernel, CPU, fio, the settings of this run; tables.txt: the dm tables
#   xts.txt      the xts-speed module's lines (cipher throughput on one CPU and on all)
#   runs.tsv     one line per fio run: repetition, row, status, its JSON and CPU files
#   fio/*        fio's JSON output, and the CPU snapshots around each job (bench/cpu-snap)
# Exits non-zero if any measurement failed (the others still run).
# Settings (environment): BENCH_REPS, BENCH_RUNTIME, BENCH_RAMP (seconds), BENCH_DISK_MIB,
# BENCH_XTS_MSECS, BENCH_ROWS (names of matrix rows to run, space-separated; default all).
set -uo pipefail
. "$SEAL_ROOT/tests/lib/guest.sh"

reps=${BENCH_REPS:-3}
runtime=${BENCH_RUNTIME:-3}
ramp=${BENCH_RAMP:-1}
disk_mib=${BENCH_DISK_MIB:-1024}
xts_msecs=${BENCH_XTS_MSECS:-500}
rows_filter=${BENCH_ROWS:-}
out=${SEAL_VM_OUT:?run me through tests/vm/run --out}
mkdir -p "$out/fio"
failed=0

say() { echo "bench: $*"; }
ms() { awk -v s="$1" 'BEGIN {printf "%d", s * 1000}'; }
fail() { echo "bench: FAILED: $*"; failed=1; }

modprobe xts
modprobe dm-crypt || { fail "modprobe dm-crypt"; exit 1; }
load_seal || { fail "dm-seal.ko does not load"; exit 1; }

# xts_speed REP: the xts(aes) bounds, measured in each repetition like the rest (a busy
# host slows everything; the median over repetitions is what counts): on one CPU, which
# bounds a data path that converts a bio on one CPU, and on all CPUs at once, which bounds
# one that splits it.
xts_speed()
{
	local ko before args
	ko=$SEAL_BUILD/bench/xts-speed/$(uname -r)/xts-speed.ko
	for args in "cpu=$(($(nproc) - 1))" "all=1"; do
		before=$(dmesg | wc -l)
		# shellcheck disable=SC2086 # two words: a module parameter each
		if insmod "$ko" msecs="$xts_msecs" $args; then
			dmesg | tail -n +$((before + 1)) | grep -o 'xts_speed: driver .*' |
				sed "s/^/rep $1 /" >> "$out/xts.txt"
			rmmod xts_speed
		else
			fail "xts-speed.ko $args (repetition $1)"
		fi
	done
	say "repetition $1: xts(aes)," \
		"$(grep "^rep $1 " "$out/xts.txt" | awk '{printf "%s %s %s %s %s MB/s; ", $6, $7, $9, $10, $NF}')"
}

dev=$(ramdisk "$disk_mib") || { fail "brd"; exit 1; }
# Every page of the RAM disk exists before the first measurement (brd allocates on write).
dd if=/dev/zero of="$dev" bs=1M count="$disk_mib" oflag=direct status=none || fail "filling $dev"
sectors=$(blockdev --getsz "$dev")

# One AES-256-XTS key for every configuration, from the keyring (seal takes no other).
head -c 64 /dev/urandom | keyctl padd logon bench:xts @s >/dev/null || { fail "keyctl"; exit 1; }
key=:64:logon:bench:xts

# name|target|optional parameters
configs=(
	"crypt|crypt|"
	"crypt-nowq|crypt|2 no_read_workqueue no_write_workqueue"
	"crypt-4k-nowq|crypt|4 no_read_workqueue no_write_workqueue sector_size:4096 iv_large_sectors"
	"seal-512|seal|"
	"seal-4k|seal|2 sector_size:4096 iv_large_sectors"
)
names=(raw)
declare -A path=([raw]=$dev) sysname=([raw]=${dev#/dev/})
for c in "${configs[@]}"; do
	IFS='|' read -r name target opts <<<"$c"
	table="0 $sectors $target aes-xts-plain64 $key 0 $dev 0${opts:+ $opts}"
	dm_track "bench-$name"
	dmsetup create "bench-$name" --table "$table" || { fail "dmsetup create: $table"; exit 1; }
	names+=("$name")
	path[$name]=/dev/mapper/bench-$name
	sysname[$name]=$(dmsetup info -c --noheadings -o blkdevname "bench-$name")
	echo "$name $(dmsetup table "bench-$name")" >> "$out/tables.txt"
done

{
	echo "kernel=$(uname -r)"
	echo "cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
	echo "cpu_flags=$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' |
		grep -xE 'aes|pclmulqdq|avx|avx2|vaes|vpclmulqdq|avx512f|avx512vl' | xargs)"
	echo "vcpus=$(nproc)"
	echo "mem_kib=$(awk '/MemTotal/ {print $2}' /proc/meminfo)"
	echo "clk_tck=$(getconf CLK_TCK)"
	echo "fio=$(fio --version)"
	echo "disk_mib=$disk_mib"
	echo "reps=$reps"
	echo "runtime=$runtime"
	echo "ramp=$ramp"
	echo "configs=${names[*]}"
	echo "dm_targets=$(dmsetup targets | awk '$1 == "crypt" || $1 == "seal" {print $1, $2}' | xargs)"
} > "$out/meta.txt"

# The matrix rows, filtered.
rows=()
while read -r name rw bs qd jobs; do
	[ -z "$name" ] && continue
	[ -n "$rows_filter" ] && [[ " $rows_filter " != *" $name "* ]] && continue
	rows+=("$name $rw $bs $qd $jobs")
done < <(sed -e 's/#.*//' "$SEAL_ROOT/bench/matrix")
[ ${#rows[@]} -gt 0 ] || { fail "no matrix rows (BENCH_ROWS=$rows_filter)"; exit 1; }

# run_row REP ROW CONFIG...: one fio run, one job per configuration in the order given.
run_row()
{
	local rep=$1 row=$2 name rw bs qd jobs base region cfg rc status=ok
	shift 2
	read -r name rw bs qd jobs <<<"$row"
	base=fio/$rep-$name
	# Each job of a 2-job row gets its own half of the disk.
	region=$(((disk_mib / jobs) & ~3))
	{
		echo "[global]"
		echo "ioengine=io_uring"
		echo "direct=1"
		echo "rw=$rw"
		echo "bs=$bs"
		echo "iodepth=$qd"
		echo "numjobs=$jobs"
		echo "size=${region}M"
		echo "offset_increment=${region}M"
		echo "time_based=1"
		echo "runtime=$(ms "$runtime")ms"
		echo "ramp_time=$(ms "$ramp")ms"
		echo "norandommap=1"
		echo "randrepeat=0"
		echo "lat_percentiles=1"
		echo "group_reporting=1"
		echo "thread=1"
		echo "clocksource=clock_gettime"
		for cfg in "$@"; do
			echo
			echo "[$cfg]"
			echo "stonewall"
			echo "filename=${path[$cfg]}"
			echo "exec_prerun=$SEAL_ROOT/bench/cpu-snap pre:$cfg $out/$base.cpu ${sysname[$cfg]}"
			echo "exec_postrun=$SEAL_ROOT/bench/cpu-snap post:$cfg $out/$base.cpu ${sysname[$cfg]}"
		done
	} > "$out/$base.fio"
	# fio leaves <job>.prerun.txt files in its working directory.
	(cd /run && fio --output-format=json --output="$out/$base.json" "$out/$base.fio") \
		>/dev/null 2>"$out/$base.err"
	rc=$?
	if [ $rc != 0 ] || ! grep -q '"jobs"' "$out/$base.json" 2>/dev/null; then
		status=fail
		fail "fio $name (rep $rep), exit $rc: $(head -c 300 "$out/$base.err")"
	fi
	[ -s "$out/$base.err" ] || rm -f "$out/$base.err"
	echo "$rep $name $status $base.json $base.cpu" >> "$out/runs.tsv"
}

echo "rep row status json cpu" > "$out/runs.tsv"
say "${#rows[@]} rows x ${#names[@]} configurations x $reps repetitions," \
	"${runtime}s + ${ramp}s ramp each"
for rep in $(seq "$reps"); do
	xts_speed "$rep"
	order=()
	for i in "${!names[@]}"; do
		order+=("${names[$(((i + rep - 1) % ${#names[@]}))]}")
	done
	for row in "${rows[@]}"; do
		start=$SECONDS
		run_row "$rep" "$row" "${order[@]}"
		say "repetition $rep/$reps ${row%% *} ($((SECONDS - start))s)"
	done
done
exit $failed
