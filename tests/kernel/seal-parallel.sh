#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The data path's parallel and deferred paths give dm-crypt's ciphertext: bios large enough
# to be shared between CPUs (1M and odd sizes, 512 and 4096 byte sectors, several at once),
# read and written on a RAM disk (completions in the submitter's context) and on a
# virtio-blk disk (completions in hard interrupt context, decrypted by a worker); writes
# while the guest is short of memory (bounce pages from the pool) verified by fio.
# seal-one-cpu.sh runs this file again in a guest with one vCPU.
# vm-options: --scratch 64 --mem 512
# vm-timeout: 900
. "$SEAL_ROOT/tests/lib/ktap.sh"
. "$SEAL_ROOT/tests/lib/guest.sh"

work=$(mktemp -d)
tracing=/sys/kernel/tracing
on_exit "echo 0 > $tracing/events/workqueue/workqueue_execute_start/enable 2>/dev/null; \
	umount $work/hog 2>/dev/null; rm -rf $work"

ktap_begin 18
modprobe dm-crypt
load_seal || { ktap_fail "dm-seal.ko loads"; ktap_end; }
ram=$(ramdisk 64)
virtio=/dev/vda
region_mib=24
region=$((region_mib * 2048))	# 512-byte sectors
head -c $((region_mib << 20)) /dev/urandom > "$work/plain"
head -c 64 /dev/urandom | keyctl padd logon seal-test:par @s >/dev/null
ktap_diag "$(nproc) CPUs, $(grep MemTotal /proc/meminfo)"

# table TARGET DEV SECTOR_SIZE: iv_offset and offset are not zero, so that IVs and positions
# on the disk both have to come out right.
table()
{
	local opts=
	[ "$3" != 512 ] && opts=" 2 sector_size:$3 iv_large_sectors"
	echo "0 $region $1 aes-xts-plain64 :64:logon:seal-test:par 2048 $2 8$opts"
}

# write_all DEV: the plaintext in pieces of many sizes, several writers at once; the
# sizes are not multiples of the runners' batch.
write_all()
{
	local mib=$((region_mib / 4)) i bs
	i=0
	for bs in 1M 136K 4100K 36K; do
		dd if="$work/plain" of="$1" bs=$bs skip=$((i * mib))M seek=$((i * mib))M \
			count=$((mib))M iflag=skip_bytes,count_bytes oflag=direct,seek_bytes \
			status=none &
		i=$((i + 1))
	done
	wait
}

# read_all DEV FILE: read the whole mapping back, in large and odd sizes at once.
read_all()
{
	local mib=$((region_mib / 2))
	dd if="$1" of="$2.a" bs=1M count=$mib iflag=direct status=none &
	dd if="$1" of="$2.b" bs=260K skip=${mib}M count=${mib}M \
		iflag=direct,skip_bytes,count_bytes status=none &
	wait
	cat "$2.a" "$2.b" > "$2"
	rm -f "$2.a" "$2.b"
}

# raw DEV FILE: the region's ciphertext on the disk, 8 sectors in.
raw()
{
	dd if="$1" of="$2" bs=1M skip=4096 count=$((region_mib << 20)) \
		iflag=direct,skip_bytes,count_bytes status=none
}

# helper_runs: how many seal runner work items the trace holds. Fails (no count) when the
# trace is off or holds no work item at all (dm-crypt's own ran meanwhile): then 0 would
# prove nothing.
helper_runs()
{
	local t
	[ "$(cat "$tracing/events/workqueue/workqueue_execute_start/enable" 2>/dev/null)" = 1 ] ||
		{ echo "workqueue_execute_start tracing is off"; return 1; }
	t=$(cat "$tracing/trace") || return 1
	grep -q workqueue_execute_start <<<"$t" || { echo "the trace holds no work item at all"; return 1; }
	grep -c seal_runner_work <<<"$t" || [ $? = 1 ]	# (grep -c's count 0 exits 1)
}

mountpoint -q "$tracing" || mount -t tracefs nodev "$tracing" 2>/dev/null
echo > "$tracing/trace" 2>/dev/null
echo 1 > "$tracing/events/workqueue/workqueue_execute_start/enable" 2>/dev/null

for disk in "$ram" "$virtio"; do
	for ss in 512 4096; do
		name="$(basename "$disk") sector_size $ss"
		rm -f "$work"/r* "$work"/back*

		dm_track par-seal
		# no I/O unless the table loaded (seal_mapped): the checks then fail on the missing files
		dmsetup create par-seal --table "$(table seal "$disk" "$ss")"
		seal_mapped par-seal && write_all /dev/mapper/par-seal &&
			read_all /dev/mapper/par-seal "$work/back1"
		ktap_check "$name: seal reads back what it wrote in large bios" \
			cmp "$work/plain" "$work/back1"
		dmsetup remove par-seal
		raw "$disk" "$work/r1"

		dm_track par-crypt
		dmsetup create par-crypt --table "$(table crypt "$disk" "$ss")"
		[ -b /dev/mapper/par-crypt ] && read_all /dev/mapper/par-crypt "$work/back2"
		ktap_check "$name: dm-crypt reads what seal wrote" cmp "$work/plain" "$work/back2"
		dd if=/dev/zero of="$disk" bs=1M seek=4096 count=$((region_mib << 20)) \
			oflag=direct,seek_bytes iflag=count_bytes status=none
		[ -b /dev/mapper/par-crypt ] &&
			dd if="$work/plain" of=/dev/mapper/par-crypt bs=1M oflag=direct status=none
		dmsetup remove par-crypt
		raw "$disk" "$work/r2"
		same_ciphertext "$name: the same ciphertext as dm-crypt's" "$work/r1" "$work/r2" \
			$((region_mib << 20))

		dmsetup create par-seal --table "$(table seal "$disk" "$ss")"
		seal_mapped par-seal && read_all /dev/mapper/par-seal "$work/back3"
		ktap_check "$name: seal reads what dm-crypt wrote in large bios" \
			cmp "$work/plain" "$work/back3"
		dmsetup remove par-seal
	done
done

runs=$(helper_runs)
rc=$?
echo 0 > "$tracing/events/workqueue/workqueue_execute_start/enable" 2>/dev/null
if [ "$rc" != 0 ]; then
	ktap_fail "the helpers' runs were traced" "$runs"
elif [ "$(nproc)" -gt 1 ]; then
	# Timing decides how many helpers start before their bio's own CPU has claimed
	# everything, but over hundreds of large bios some must.
	ktap_diag "helpers ran $runs times"
	ktap_result "large bios are shared with another CPU" $((runs == 0))
else
	ktap_result "no helpers with one CPU" $((runs != 0))
fi

# Writes while memory is short: a tmpfs file takes all but 96 MiB of the available memory
# (less makes the guest thrash on its own programs' pages, read over 9p) and the writers
# keep far more bounce pages in flight than the pool holds; fio verifies every block.
rm -f "$work"/r* "$work"/back* "$work/plain"
dm_track par-mem
dmsetup create par-mem --table "0 $region seal aes-xts-plain64 :64:logon:seal-test:par 0 $ram 0"
# a refused table must not let fio verify a regular file at /dev/mapper/par-mem
mem_dev=/dev/mapper/par-mem
seal_mapped par-mem || mem_dev=/nonexistent/par-mem
mkdir -p "$work/hog"
mount -t tmpfs -o size=100% tmpfs "$work/hog"
free_kib=$(awk '/MemAvailable/ { print $2 }' /proc/meminfo)
dd if=/dev/zero of="$work/hog/fill" bs=1M count=$((free_kib / 1024 - 96)) status=none
ktap_diag "memory left: $(awk '/MemAvailable/ { print $2 }' /proc/meminfo) KiB"
ktap_check "writes under memory pressure: 1M and 4k writers at queue depth 16 verify" \
	fio --name=mem --filename="$mem_dev" --direct=1 --ioengine=libaio \
		--verify=crc32c --verify_fatal=1 --do_verify=1 --randrepeat=0 \
		--rw=randwrite --bssplit=1M/50:4k/50 --blockalign=4k --iodepth=16 --numjobs=2 \
		--size=12M --offset_increment=12M --group_reporting --output-format=terse
umount "$work/hog"
dmsetup remove par-mem
ktap_end
