#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A large read on a single-queue disk, whose requests complete in softirq (virtio-blk with
# one queue): a 64 MiB O_DIRECT read, one bio (the buffer is in huge pages), is decrypted
# where it may reschedule, not in the softirq that completed it; the data reads back.
# vm-options: --scratch 160 --virtio-queues 1 --mem 1024
# vm-timeout: 900
. "$SEAL_ROOT/tests/lib/ktap.sh"
. "$SEAL_ROOT/tests/lib/guest.sh"
. "$SEAL_ROOT/tests/lib/guest-trace.sh"

ktap_begin 5
load_seal || { ktap_fail "dm-seal.ko loads"; ktap_end; }
disk=/dev/vda
ktap_same "the disk has one request queue" "$(ls -d /sys/block/vda/mq/* | wc -l)" 1

head -c 64 /dev/urandom | keyctl padd logon seal-test:softirq @s >/dev/null
dm_track sq-seal
dmsetup create sq-seal --table "0 $(blockdev --getsz $disk) seal aes-xts-plain64 :64:logon:seal-test:softirq 0 $disk 0"
seal_mapped sq-seal || { ktap_fail "the seal mapping exists"; ktap_end; }

# fio's buffer in 2 MiB huge pages: the block layer then builds one bio for all 64 MiB.
mkdir -p /run/huge
mount -t hugetlbfs none /run/huge
on_exit "umount /run/huge"
echo 40 > /proc/sys/vm/nr_hugepages
big=(fio --name=big --filename=/dev/mapper/sq-seal --direct=1 --ioengine=psync --bs=64M
	--size=64M --iomem=mmaphuge:/run/huge/fio --output-format=terse)
ktap_check "a 64 MiB O_DIRECT write from huge pages" "${big[@]}" --rw=write \
	--verify=crc32c --do_verify=0

# One read: how many crypto sectors were decrypted in a BLOCK softirq (vector 4) and
# elsewhere, and the longest BLOCK softirq (microseconds).
trace=$(bpf_around '
tracepoint:irq:softirq_entry /args->vec == 4/ { @start[cpu] = nsecs; }
tracepoint:irq:softirq_exit /args->vec == 4 && @start[cpu]/ {
	@longest_us = max((nsecs - @start[cpu]) / 1000); delete(@start[cpu]); }
kprobe:crypto_skcipher_decrypt { if (@start[cpu]) { @softirq = count(); } else { @task = count(); } }' \
	'@softirq @task @longest_us' "${big[@]}" --rw=read --verify=crc32c --verify_only=1 --verify_fatal=1)
ktap_diag "BLOCK softirq and decryption during the read:" "$trace"
val() { printf '%s\n' "$trace" | sed -n "s/^@$1: //p"; }
# (The cipher may call itself, a SIMD wrapper its inner driver: at least one call a sector.)
soft=$(val softirq) task=$(val task)
ktap_diag "decryption calls: in BLOCK softirq ${soft:-0}, elsewhere ${task:-0}"
ktap_same "the 64 MiB read is decrypted outside softirq, every sector of it" \
	"in softirq ${soft:-0}, elsewhere $([ "${task:-0}" -ge $((64 * 2048)) ] && echo all)" \
	"in softirq 0, elsewhere all"
ktap_check "the 64 MiB read returns what was written (fio crc32c verify)" "${big[@]}" \
	--rw=read --verify=crc32c --verify_only=1 --verify_fatal=1
# The watchdog policy's rule: a stall or lockup with a dm-seal frame in its stack (decryption
# in the softirq) is a problem; one without is the host's to judge (tests/lib/guest-watchdog.sh).
ktap_same "the kernel logged no stall, lockup, oops or WARNING in dm-seal" \
	"$(dmesg | awk -f "$SEAL_ROOT/tests/lib/kernel-log-problems.awk" | grep '^problem: ' | head -3)" ""
ktap_end
