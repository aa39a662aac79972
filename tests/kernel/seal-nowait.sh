#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# REQ_NOWAIT (the target's DM_TARGET_NOWAIT feature): io_uring issues reads and writes to
# a seal mapping from the submitting task, without an io-wq worker, wherever it does so for
# a dm-linear mapping of the same disk (the kernel's own reference: brd takes REQ_NOWAIT on
# 6.12, not on 6.1); dm-crypt, which never does, shows that the probe sees workers. Over a
# lower device that cannot take REQ_NOWAIT (a dm-crypt mapping), every such bio is refused
# with "would block" and io_uring retries it from a worker: fio verifies the data both ways.
# vm-options: --mem 768
# vm-timeout: 600
. "$SEAL_ROOT/tests/lib/ktap.sh"
. "$SEAL_ROOT/tests/lib/guest.sh"

ktap_begin 11
modprobe dm-crypt
load_seal || { ktap_fail "dm-seal.ko loads"; ktap_end; }
ram=$(ramdisk 64)
sectors=$(blockdev --getsz "$ram")
half=$((sectors / 2))
head -c 64 /dev/urandom | keyctl padd logon seal-test:nowait @s >/dev/null
key=:64:logon:seal-test:nowait

# Two halves of the RAM disk: seal, linear and crypt directly on the first; seal on a
# dm-crypt mapping of the second.
for m in nw-seal nw-linear nw-crypt nw-lower nw-stacked; do dm_track $m; done
dmsetup create nw-seal --table "0 $half seal aes-xts-plain64 $key 0 $ram 0 2 sector_size:4096 iv_large_sectors"
dmsetup create nw-linear --table "0 $half linear $ram 0"
dmsetup create nw-crypt --table "0 $half crypt aes-xts-plain64 $key 0 $ram 0"
dmsetup create nw-lower --table "0 $half crypt aes-xts-plain64 $key 0 $ram $half"
dmsetup create nw-stacked --table "0 $half seal aes-xts-plain64 $key 0 /dev/mapper/nw-lower 0"

# io_workers: io_uring worker threads (iou-wrk-*) in the guest now. Threads, not processes,
# so every task's comm; read with builtins, since under TCG a ps per sample took about a
# second and the samples missed most of fio's run.
io_workers()
{
	local comm n=0 f
	for f in /proc/[0-9]*/task/*/comm; do
		read -r comm 2>/dev/null < "$f" && [[ $comm == iou-wrk* ]] && n=$((n + 1))
	done
	echo $n
}

# workers DEV RW: run fio (io_uring, direct, 4k, queue depth 4) on DEV for 4 s; print the
# most io_uring workers it had at once, sampled every 0.2 s from 1 s on (a worker may come
# and go between two samples, so one sample is not enough).
workers()
{
	local pid n most=0
	for _ in $(seq 20); do [ "$(io_workers)" = 0 ] && break; sleep 0.5; done
	fio --name=nowait --filename="$1" --ioengine=io_uring --direct=1 --rw="$2" --bs=4k \
		--iodepth=4 --size=16M --time_based=1 --runtime=4 --output=/dev/null &
	pid=$!
	sleep 1
	for _ in $(seq 12); do
		n=$(io_workers)
		[ "$n" -gt "$most" ] && most=$n
		sleep 0.2
	done
	wait $pid
	echo "$most"
}

# has_workers N: "workers" or "no workers", for messages.
has_workers() { if [ "$1" -gt 0 ]; then echo workers; else echo "no workers"; fi; }

for rw in randread randwrite; do
	linear=$(workers /dev/mapper/nw-linear $rw)
	seal=$(workers /dev/mapper/nw-seal $rw)
	crypt=$(workers /dev/mapper/nw-crypt $rw)
	ktap_diag "$rw: io_uring workers: linear $linear, seal $seal, dm-crypt $crypt"
	ktap_same "$rw: io_uring on seal has $(has_workers "$linear") like dm-linear on the same disk" \
		"$(has_workers "$seal")" "$(has_workers "$linear")"
	ktap_same "$rw: io_uring on dm-crypt has workers (the probe sees them)" \
		"$(has_workers "$crypt")" workers
done

# fio_verify NAME DEV FIO-ARGS...: write, then read back and verify (crc32c), through io_uring.
# 4k random writes cover 4 MiB in make check (1024 requests; 16 MiB under make stress): each
# is encrypted by emulated AES, twice over dm-crypt.
small=4M
[ -n "${SEAL_STRESS:-}" ] && small=16M
fio_verify()
{
	local name=$1 dev=$2
	shift 2
	ktap_check "$name" fio --name=seal --filename="$dev" --direct=1 --ioengine=io_uring \
		--verify=crc32c --verify_fatal=1 --do_verify=1 --randrepeat=0 --size=16M \
		--output-format=terse "$@"
}

fio_verify "io_uring 4k random writes at queue depth 1, read back and verified" \
	/dev/mapper/nw-seal --rw=randwrite --bs=4k --iodepth=1 --size=$small
fio_verify "io_uring 1M writes at queue depth 8, read back and verified" \
	/dev/mapper/nw-seal --rw=write --bs=1M --iodepth=8
fio_verify "io_uring 4M writes (the target takes 1M of each at a time), verified" \
	/dev/mapper/nw-seal --rw=write --bs=4M --iodepth=2
fio_verify "over a device without REQ_NOWAIT: 4k random writes at queue depth 16 verified" \
	/dev/mapper/nw-stacked --rw=randwrite --bs=4k --iodepth=16 --size=$small
fio_verify "over a device without REQ_NOWAIT: 1M writes at queue depth 4 verified" \
	/dev/mapper/nw-stacked --rw=write --bs=1M --iodepth=4

stacked=$(workers /dev/mapper/nw-stacked randread)
ktap_same "over a device without REQ_NOWAIT, io_uring falls back to its workers" \
	"$(has_workers "$stacked")" workers

ktap_same "the kernel logged no I/O error" \
	"$(dmesg | grep -E 'I/O error|Buffer I/O|seal: (En|De)crypting' | head -3)" ""
ktap_end
