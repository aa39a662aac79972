#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The guest half of `make bench` (bench/run boots it with tests/vm/run --out DIR).
# One disk (BENCH_DEVICE: brd, a RAM disk; nvme, QEMU's NVMe; nvme-poll, the same with a
# polled queue and fio's --hipri; virtio2, virtio-blk with 2 queues); device-mapper
# configurations over it, all AES-256-XTS with one key from the keyring: dm-crypt as a user
# can configure it, seal with 512- and 4096-byte sectors; the same fio matrix
# (bench/matrix) on each and on the raw disk. With BENCH_NULL_KO (the bench-only build of
# dm-seal.ko without a cipher), the same rows again with no cipher at all: dm-crypt's
# cipher_null against that build, the data paths' own cost (runs-null.tsv). Each
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
device=${BENCH_DEVICE:-brd}
null_ko=${BENCH_NULL_KO:-}
out=${SEAL_VM_OUT:?run me through tests/vm/run --out}
mkdir -p "$out/fio"
failed=0

say() { echo "bench: $*"; }
ms() { awk -v s="$1" 'BEGIN {printf "%d", s * 1000}'; }
fail() { echo "bench: FAILED: $*"; failed=1; }

# The guest loads no crypto template on demand: xts, and ecb and cipher_null for the
# overhead rows.
modprobe -a xts ecb crypto_null
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

# wait_for DEV: the disk's node appears (no udev in the guest: devtmpfs makes it).
wait_for() { for _ in $(seq 200); do [ -b "$1" ] && return 0; sleep 0.1; done; return 1; }

hipri=
case "$device" in
brd) dev=$(ramdisk "$disk_mib") || { fail "brd"; exit 1; } ;;
nvme|nvme-poll)
	modprobe nvme
	dev=/dev/nvme0n1
	wait_for $dev || { fail "no $dev"; exit 1; }
	[ "$device" = nvme-poll ] && hipri=1
	;;
virtio2) dev=/dev/vda; wait_for $dev || { fail "no $dev"; exit 1; } ;;
*) fail "BENCH_DEVICE must be brd, nvme, nvme-poll or virtio2, not $device"; exit 1 ;;
esac
# Every block exists before the first measurement (brd and the host's sparse file
# allocate on write).
dd if=/dev/zero of="$dev" bs=1M count="$disk_mib" oflag=direct status=none || fail "filling $dev"
sectors=$(blockdev --getsz "$dev")

# One AES-256-XTS key for every configuration, from the keyring (seal takes no other).
head -c 64 /dev/urandom | keyctl padd logon bench:xts @s >/dev/null || { fail "keyctl"; exit 1; }
key=:64:logon:bench:xts

# dm-crypt's version: high_priority came with 1.26 (Linux 6.10).
crypt_version=$(dmsetup targets | awk '$1 == "crypt" { sub(/^v/, "", $2); print $2 }')
crypt_hp=
[ "$(printf '%s\n' 1.26.0 "$crypt_version" | sort -V | head -1)" = 1.26.0 ] && crypt_hp=1

# name|target|cipher and key|optional parameters: every dm-crypt configuration a user
# picks among (cryptsetup's --perf-* flags and --sector-size), seal's two sector sizes.
# A polled run leaves dm-crypt out: it never completes a polled bio (issue #13: the NVMe
# timeout ends each one, 30 s).
configs=()
if [ -z "$hipri" ]; then
	configs+=(
		"crypt|crypt|aes-xts-plain64 $key|"
		"crypt-noread|crypt|aes-xts-plain64 $key|1 no_read_workqueue"
		"crypt-nowrite|crypt|aes-xts-plain64 $key|1 no_write_workqueue"
		"crypt-nowq|crypt|aes-xts-plain64 $key|2 no_read_workqueue no_write_workqueue"
	)
	[ -n "$crypt_hp" ] && configs+=("crypt-hp|crypt|aes-xts-plain64 $key|1 high_priority")
	configs+=(
		"crypt-4k|crypt|aes-xts-plain64 $key|2 sector_size:4096 iv_large_sectors"
		"crypt-4k-nowq|crypt|aes-xts-plain64 $key|4 no_read_workqueue no_write_workqueue sector_size:4096 iv_large_sectors"
	)
fi
configs+=(
	"seal-512|seal|aes-xts-plain64 $key|"
	"seal-4k|seal|aes-xts-plain64 $key|2 sector_size:4096 iv_large_sectors"
)
# The overhead configurations, no cipher: dm-crypt's cipher_null (an empty key) and the
# bench-only build of seal, whose tfm is ecb(cipher_null) whatever the table says.
null_configs=(
	"crypt-null|crypt|cipher_null-ecb -|"
	"crypt-null-nowq|crypt|cipher_null-ecb -|2 no_read_workqueue no_write_workqueue"
	"seal-null-512|seal|aes-xts-plain64 $key|"
	"seal-null-4k|seal|aes-xts-plain64 $key|2 sector_size:4096 iv_large_sectors"
)
declare -A path=([raw]=$dev) sysname=([raw]=${dev#/dev/})

# make_configs CONFIG...: create each mapping, append its name to the array made.
made=()
make_configs()
{
	local c name target cipher opts table
	for c in "$@"; do
		IFS='|' read -r name target cipher opts <<<"$c"
		table="0 $sectors $target $cipher 0 $dev 0${opts:+ $opts}"
		dm_track "bench-$name"
		dmsetup create "bench-$name" --table "$table" || { fail "dmsetup create: $table"; exit 1; }
		path[$name]=/dev/mapper/bench-$name
		sysname[$name]=$(dmsetup info -c --noheadings -o blkdevname "bench-$name")
		echo "$name $(dmsetup table "bench-$name")" >> "$out/tables.txt"
		made+=("$name")
	done
}
make_configs "${configs[@]}"
names=(raw "${made[@]}")

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
	echo "device=$device"
	echo "hipri=${hipri:-0}"
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
	base=fio/$prefix$rep-$name
	# Each job of a 2-job row gets its own half of the disk.
	region=$(((disk_mib / jobs) & ~3))
	{
		echo "[global]"
		echo "ioengine=io_uring"
		[ -n "$hipri" ] && echo "hipri=1"
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
	echo "$rep $name $status $base.json $base.cpu" >> "$out/$runs"
}

# run_matrix NAME...: every row on the configurations NAME..., $reps times, interleaved.
run_matrix()
{
	local rep i row start order
	echo "rep row status json cpu" > "$out/$runs"
	say "${#rows[@]} rows x $# configurations x $reps repetitions," \
		"${runtime}s + ${ramp}s ramp each${hipri:+, polled (--hipri)}"
	for rep in $(seq "$reps"); do
		[ -z "$prefix" ] && xts_speed "$rep"
		order=("$@")
		for ((i = 1; i < rep; i++)); do order=("${order[@]:1}" "${order[0]}"); done
		for row in "${rows[@]}"; do
			start=$SECONDS
			run_row "$rep" "$row" "${order[@]}"
			say "${prefix}repetition $rep/$reps ${row%% *} ($((SECONDS - start))s)"
		done
	done
}

runs=runs.tsv prefix=
run_matrix "${names[@]}"

if [ -n "$null_ko" ]; then
	# The null build replaces dm-seal.ko: the same target name, so never both at once.
	for name in "${names[@]:1}"; do dmsetup remove "bench-$name" || fail "remove bench-$name"; done
	rmmod dm_seal && insmod "$null_ko" || { fail "loading $null_ko"; exit 1; }
	echo "null_driver=$(awk '/^name/ { n = $3 } /^driver/ && n == "ecb(cipher_null)" { print $3; exit }' /proc/crypto)" \
		>> "$out/meta.txt"
	made=()
	make_configs "${null_configs[@]}"
	nulls=(raw "${made[@]}")
	echo "null_configs=${nulls[*]}" >> "$out/meta.txt"
	runs=runs-null.tsv prefix=null-
	run_matrix "${nulls[@]}"
fi
exit $failed
