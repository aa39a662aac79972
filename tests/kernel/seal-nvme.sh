#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# seal on an NVMe disk (QEMU's model, blk-mq, one polled queue): polled I/O (io_uring and
# pvsync2 with --hipri) completes at a rate within a small factor (8) of dm-linear's on
# the same disk, with no NVMe timeout. io_uring's 1 MiB direct writes (REQ_NOWAIT first) on a
# disk that takes 128 KiB per request: no error is counted and every byte is encrypted once.
# Reads that complete in hard interrupt context are decrypted in that CPU's softirq, not
# handed to a kworker (a wake-up and a context switch each).
# vm-options: --nvme-scratch 256 --nvme-poll-queues 1 --mem 768
# vm-timeout: 900
. "$SEAL_ROOT/tests/lib/ktap.sh"
. "$SEAL_ROOT/tests/lib/guest.sh"
. "$SEAL_ROOT/tests/lib/guest-trace.sh"

ktap_begin 11
load_seal || { ktap_fail "dm-seal.ko loads"; ktap_end; }
modprobe nvme
nvme=/dev/nvme0n1
for _ in $(seq 100); do [ -b $nvme ] && break; sleep 0.1; done
[ -b $nvme ] || { ktap_fail "the NVMe disk appears" "$(dmesg | grep -i nvme | tail -5)"; ktap_end; }
ktap_same "the NVMe disk has a polled queue" "$(cat /sys/block/nvme0n1/queue/io_poll)" 1

sectors=$(blockdev --getsz $nvme)
half=$((sectors / 2))
head -c 64 /dev/urandom | keyctl padd logon seal-test:nvme @s >/dev/null
key=:64:logon:seal-test:nvme
for m in nv-linear nv-seal; do dm_track $m; done
dmsetup create nv-linear --table "0 $half linear $nvme 0"
dmsetup create nv-seal --table "0 $half seal aes-xts-plain64 $key 0 $nvme $half"
seal_mapped nv-seal || { ktap_fail "the seal mapping exists"; ktap_end; }
dm_sys() { echo "/sys/block/$(dmsetup info -c --noheadings -o blkdevname "$1")"; }
ktap_same "the seal mapping takes polled I/O" "$(cat "$(dm_sys nv-seal)/queue/io_poll")" 1

# iops DEV FIO-ARGS...: read IOPS of a 4 s fio run (direct, 4k random reads) on DEV, 0 when
# fio failed. Time-boxed: a polled request that is never polled ends only at the NVMe
# timeout (30 s), so fio then takes much longer than its run time; killed at 180 s.
iops()
{
	local dev=$1 json
	shift
	json=$(timeout -k 5 180 fio --name=poll --filename="$dev" --direct=1 --rw=randread \
		--bs=4k --size=64M --time_based=1 --runtime=4 --output-format=json "$@" 2>/dev/null)
	printf '%s' "$json" | python3 -c '
import json, sys
try:
    print(int(json.load(sys.stdin)["jobs"][0]["read"]["iops"]))
except Exception:
    print(0)'
}

# Written once through the page cache, so that reads return data, not holes.
dd if=/dev/urandom of=/dev/mapper/nv-seal bs=1M count=64 status=none
dd if=/dev/urandom of=/dev/mapper/nv-linear bs=1M count=64 status=none

# within_factor NAME FIO-ARGS...: seal's read rate is at least an eighth of dm-linear's, the
# better of two runs each, alternated: on a loaded host one 4 s run may be starved. The
# second pair runs only when the first misses the bound (the best of two cannot then do
# worse). Under TCG the cipher is emulated (on a quiet host seal ran at 0.56x); a polled
# request left to time out gives 0.
within_factor()
{
	local name=$1 seal=0 linear=0 n runs=0
	shift
	while [ $runs -lt 2 ]; do
		runs=$((runs + 1))
		n=$(iops /dev/mapper/nv-linear "$@"); [ "$n" -gt "$linear" ] && linear=$n
		n=$(iops /dev/mapper/nv-seal "$@"); [ "$n" -gt "$seal" ] && seal=$n
		[ "$linear" -gt 0 ] && [ $((seal * 8)) -ge "$linear" ] && break
	done
	ktap_diag "$name: dm-linear $linear IOPS, seal $seal IOPS (best of $runs)"
	[ "$linear" -gt 0 ] || { ktap_fail "$name: dm-linear ran (the probe works)"; return; }
	ktap_result "$name: seal within a factor of 8 of dm-linear" "$([ $((seal * 8)) -ge "$linear" ]; echo $?)"
}

before=$(dmesg | wc -l)
hipri_uring=(--ioengine=io_uring --hipri=1 --iodepth=8)
within_factor "io_uring --hipri 4k random reads at queue depth 8" "${hipri_uring[@]}"
hipri_sync=(--ioengine=pvsync2 --hipri=1)
within_factor "pvsync2 --hipri 4k random reads" "${hipri_sync[@]}"

ktap_check "io_uring --hipri 4k random writes at queue depth 8, read back and verified" \
	timeout -k 5 120 fio --name=pollw --filename=/dev/mapper/nv-seal --direct=1 \
	"${hipri_uring[@]}" --rw=randwrite --bs=4k --size=8M --verify=crc32c --verify_fatal=1 \
	--do_verify=1 --randrepeat=0 --output-format=terse

# status NAME: read and write sectors, read and write errors, from the seal status line.
status() { dmsetup status "$1" | awk '{ print $5, $6, $7, $8 }'; }

# The cipher may call itself (a SIMD wrapper calls its inner driver): calls per sector
# from a write that cannot be refused (a synchronous one, not REQ_NOWAIT), phase 0; then,
# after a marker (kill(2) of signal 0 to pid 2147483646) moves the count to phase 1, the
# io_uring writes. One bpftrace for both: compiling and attaching one takes tens of
# seconds under TCG.
counts=$(bpf_around '
kprobe:crypto_skcipher_encrypt { @n[@phase] = count(); }
tracepoint:syscalls:sys_enter_kill /args->pid == 2147483646 && args->sig == 0/ { @phase = 1; }' \
	@n sh -c 'dd if=/dev/zero of=/dev/mapper/nv-seal bs=1M count=1 oflag=direct status=none
	echo 128 > /sys/block/nvme0n1/queue/max_sectors_kb
	dmsetup status nv-seal > /run/nv-before
	kill -0 2147483646 2>/dev/null
	fio --name=big --filename=/dev/mapper/nv-seal --direct=1 --ioengine=io_uring \
		--rw=write --bs=1M --iodepth=4 --size=16M')
baseline=$(sed -n 's/^@n\[0\]: //p' <<<"$counts")
encrypted=$(sed -n 's/^@n\[1\]: //p' <<<"$counts")
per_sector=$((${baseline:-0} / 2048))
ktap_diag "a synchronous 1 MiB write: ${baseline:-no} encryption calls, $per_sector per sector"
written=$(awk '{ print $6 }' /run/nv-before)
if [ "$per_sector" -gt 0 ]; then
	ktap_same "16 MiB of 1 MiB io_uring writes over 128 KiB requests: each sector encrypted once" \
		"$((${encrypted:-0} / per_sector)) sectors" "$((16 * 2048)) sectors"
else
	ktap_fail "16 MiB of 1 MiB io_uring writes over 128 KiB requests: each sector encrypted once" \
		"the synchronous write counted no encryption: the probe did not work"
fi
read -r _ now _ _ < <(status nv-seal)
ktap_same "... all of them written" "$((now - written))" $((16 * 2048))
ktap_check "1 MiB io_uring writes and reads over 128 KiB requests, verified" \
	timeout -k 5 300 fio --name=big --filename=/dev/mapper/nv-seal --direct=1 --ioengine=io_uring --bs=1M \
	--iodepth=4 --size=16M --rw=write --verify=crc32c --verify_fatal=1 --do_verify=1 \
	--output-format=terse
read -r _ _ rerr werr < <(status nv-seal)
ktap_same "... with no read or write error counted" "$rerr $werr" "0 0"

# Where 4k reads are decrypted: cipher calls in BLOCK/TASKLET softirq and elsewhere.
where=$(bpf_around '
tracepoint:irq:softirq_entry { @in[cpu] = 1; }
tracepoint:irq:softirq_exit { delete(@in[cpu]); }
kprobe:crypto_skcipher_decrypt { if (@in[cpu]) { @softirq = count(); } else { @task = count(); } }' \
	'@softirq @task' fio --name=rd --filename=/dev/mapper/nv-seal --direct=1 --ioengine=io_uring \
	--iodepth=8 --rw=randread --bs=4k --size=16M --io_size=8M)
soft=$(sed -n 's/^@softirq: //p' <<<"$where") task=$(sed -n 's/^@task: //p' <<<"$where")
ktap_diag "8 MiB of 4k reads: cipher calls in softirq ${soft:-0}, elsewhere ${task:-0}"
ktap_same "4k reads completing in hard interrupt context are decrypted in softirq, none in a task" \
	"$([ "${soft:-0}" -ge 2048 ] && echo all) in softirq, ${task:-0} in a task" "all in softirq, 0 in a task"

ktap_same "the kernel logged no NVMe timeout" \
	"$(dmesg | tail -n +$((before + 1)) | grep -iE 'nvme.*timeout' | head -3)" ""
ktap_end
