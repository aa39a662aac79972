#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Flushes and FUA writes reach the lower device: the target sits on dm-log-writes over a
# virtio disk with a write-back cache, and the log records the flags of every write that
# came down. O_DSYNC direct writes must arrive as FUA writes, fsync as a flush; stock
# dm-crypt in the same stack is the reference.
# vm-options: --scratch 64
. "$SEAL_ROOT/tests/lib/ktap.sh"
. "$SEAL_ROOT/tests/lib/guest.sh"

count_flags="$SEAL_ROOT/tests/lib/log-writes-flags.py"
ktap_begin 7
modprobe dm-log-writes && modprobe dm-crypt
load_seal || { ktap_fail "dm-seal.ko loads"; ktap_end; }
lower=/dev/vda
log=$(ramdisk 64)
head -c 64 /dev/urandom | keyctl padd logon seal-test:flush @s >/dev/null
ktap_check "the lower disk has a write-back cache (so flushes are not dropped above it)" \
	grep -qx "write back" /sys/block/vda/queue/write_cache

# run_stack TARGET: 8 O_DSYNC 4k writes, then one write and fsync; prints the log's counts
# per stretch between the marks "start" and "fsync".
run_stack()
{
	local sectors
	sectors=$(blockdev --getsz $lower)
	dd if=/dev/zero of="$log" bs=1M count=1 status=none
	dm_track lw
	dmsetup create lw --table "0 $sectors log-writes $lower $log"
	dm_track top
	dmsetup create top --table "0 $sectors $1 aes-xts-plain64 :64:logon:seal-test:flush 0 /dev/mapper/lw 0 1 sector_size:4096"
	dmsetup message lw 0 mark start
	dd if=/dev/urandom of=/dev/mapper/top bs=4k count=8 oflag=direct,dsync status=none
	dmsetup message lw 0 mark fsync
	dd if=/dev/urandom of=/dev/mapper/top bs=4k count=1 seek=100 oflag=direct conv=fsync status=none
	dmsetup remove top
	dmsetup remove lw
	"$count_flags" "$log"
}

# field MARK NAME COUNTS: the number after NAME on the line of the stretch after MARK.
field() { echo "$3" | grep "^$1 " | tr ' ' '\n' | grep -A1 -x "$2" | tail -1; }

crypt=$(run_stack crypt)
ktap_diag "dm-crypt:" "$crypt"
seal=$(run_stack seal)
ktap_diag "seal:" "$seal"
ktap_check "dm-crypt (reference) passes 8 O_DSYNC writes down as FUA writes" \
	test "$(field start fua "$crypt")" = 8
ktap_check "dm-crypt (reference) passes fsync's flush down" test "$(field fsync flush "$crypt")" -ge 1
ktap_check "seal passes each O_DSYNC write down as a FUA write" test "$(field start fua "$seal")" = 8
ktap_check "seal passes fsync's flush down" test "$(field fsync flush "$seal")" -ge 1
ktap_check "seal sets FUA exactly where dm-crypt does after the fsync mark" \
	test "$(field fsync fua "$seal")" = "$(field fsync fua "$crypt")"
ktap_check "seal writes the same number of data blocks as dm-crypt" \
	test "$(field start data "$seal")" = "$(field start data "$crypt")"
ktap_end
