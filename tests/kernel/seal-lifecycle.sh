#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The device's life: suspend/resume while fio writes and verifies, a table reload to a new
# key (with suspend), the status counters, remove with no I/O, and module unload/reload.
# vm-timeout: 600
# check-kernels: 6.12
. "$SEAL_ROOT/tests/lib/ktap.sh"
. "$SEAL_ROOT/tests/lib/guest.sh"

work=$(mktemp -d)
on_exit "rm -rf $work"
ktap_begin 11
load_seal || { ktap_fail "dm-seal.ko loads"; ktap_end; }
modprobe dm-crypt
dev=$(ramdisk 64)
sectors=$(blockdev --getsz "$dev")
head -c 64 /dev/urandom | keyctl padd logon seal-test:old @s >/dev/null
head -c 64 /dev/urandom | keyctl padd logon seal-test:new @s >/dev/null
table() { echo "0 $sectors $1 aes-xts-plain64 :64:logon:seal-test:$2 0 $dev 0 1 sector_size:4096"; }

dm_track life
dmsetup create life --table "$(table seal old)"

# status INFO: "<valid|wiped> <sectors read> <sectors written> <read errors> <write errors>"
counters() { dmsetup status life | cut -d' ' -f4-; }
dd if=/dev/urandom of=/dev/mapper/life bs=1M count=3 oflag=direct status=none
dd if=/dev/mapper/life of=/dev/null bs=1M count=2 iflag=direct status=none
ktap_check "status counts 4096 sectors read, 6144 written, no errors" \
	test "$(counters)" = "valid 4096 6144 0 0"

# Suspend and resume ten times while fio writes and verifies.
fio --name=life --filename=/dev/mapper/life --direct=1 --ioengine=libaio --rw=randwrite \
	--bs=4k --iodepth=16 --numjobs=2 --offset_increment=30M --size=24M --verify=crc32c \
	--verify_fatal=1 --randrepeat=0 --eta=never --output="$work/fio.out" &
fio_pid=$!
cycles=0
sleep 1
for _ in $(seq 10); do
	kill -0 $fio_pid 2>/dev/null || break
	dmsetup suspend life && sleep 0.2 && dmsetup resume life && cycles=$((cycles + 1))
	sleep 0.1
done
wait $fio_pid
fio_rc=$?
ktap_diag "$cycles suspend/resume cycles during fio"
ktap_check "at least 5 suspend/resume cycles ran while fio was writing" test "$cycles" -ge 5
[ $fio_rc = 0 ] || ktap_diag "$(tail -20 "$work/fio.out")"
ktap_result "fio's writes all verify after suspend/resume under I/O" $fio_rc

# A table reload to a new key takes effect at resume, never before.
dd if=/dev/urandom of="$work/p" bs=1M count=4 status=none
dd if="$work/p" of=/dev/mapper/life bs=1M oflag=direct status=none
ktap_check "reload to a new key is accepted" dmsetup reload life --table "$(table seal new)"
dd if=/dev/mapper/life of="$work/b" bs=1M count=4 iflag=direct status=none
ktap_check "before resume the old key still serves" cmp "$work/p" "$work/b"
dmsetup suspend life && dmsetup resume life
dd if=/dev/mapper/life of="$work/b" bs=1M count=4 iflag=direct status=none
ktap_check_fails "after resume the new key is in use" cmp -s "$work/p" "$work/b"
dd if="$work/p" of=/dev/mapper/life bs=1M oflag=direct status=none
dmsetup remove life
ktap_check_fails "remove with no I/O leaves no device" dmsetup info life
dm_track ref
dmsetup create ref --table "$(table crypt new)"
dd if=/dev/mapper/ref of="$work/b" bs=1M count=4 iflag=direct status=none
ktap_check "dm-crypt with the new key reads what was written after the reload" cmp "$work/p" "$work/b"
dmsetup remove ref

# The module unloads after use and loads again.
ktap_check "the module unloads after use" rmmod dm_seal
ktap_check_fails "the seal target is gone after unload" sh -c 'dmsetup targets | grep -q "^seal "'
ktap_check "the module loads again and the target is back" \
	sh -c "insmod $(seal_module_path) && dmsetup targets | grep -q \"^seal \""
ktap_end
