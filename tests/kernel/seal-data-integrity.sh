#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Data integrity under load: fio writes and verifies (crc32c) through the target, random
# and sequential, mixed block sizes, several jobs at once, with 512 and 4096 byte sectors;
# and a filesystem: mkfs.ext4, files written, unmounted, fsck clean, read back identical.
# vm-timeout: 900
# check-kernels: 6.1
# (The data path on 6.12 is in seal-parallel, -nvme, -nowait, -reencrypt, -flush-fua and
# -target-contract; make stress runs this file on both kernels.)
. "$SEAL_ROOT/tests/lib/ktap.sh"
. "$SEAL_ROOT/tests/lib/guest.sh"

work=$(mktemp -d)
on_exit "umount $work/mnt 2>/dev/null; rm -rf $work"

ktap_begin 11
load_seal || { ktap_fail "dm-seal.ko loads"; ktap_end; }
dev=$(ramdisk 96)
sectors=$(blockdev --getsz "$dev")
head -c 64 /dev/urandom | keyctl padd logon seal-test:fio @s >/dev/null

# fio_verify NAME FIO-ARGS...: write then verify the whole mapping; the test fails on any
# verify error or I/O error that fio reports.
fio_verify()
{
	local name=$1
	shift
	ktap_check "$name" fio --name=seal --filename=/dev/mapper/fio --direct=1 \
		--ioengine=libaio --verify=crc32c --verify_fatal=1 --do_verify=1 \
		--randrepeat=0 --size=32M --group_reporting --output-format=terse "$@"
}

for ss in 512 4096; do
	opts=
	[ "$ss" != 512 ] && opts=" 1 sector_size:$ss"
	dm_track fio
	dmsetup create fio --table "0 $sectors seal aes-xts-plain64 :64:logon:seal-test:fio 0 $dev 0$opts"
	ktap_check "sector_size $ss: the seal table loads" seal_mapped fio
	fio_verify "sector_size $ss: sequential write+verify, 1M blocks, 2 jobs at queue depth 8" \
		--rw=write --bs=1M --iodepth=8 --numjobs=2 --offset_increment=40M
	fio_verify "sector_size $ss: random write+verify, 4k-64k blocks, 4 jobs at queue depth 16" \
		--rw=randwrite --bsrange=4k-64k --blockalign=4k --iodepth=16 --numjobs=4 \
		--offset_increment=20M --size=16M
	fio_verify "sector_size $ss: random read/write mix with verify, 4k and 128k blocks" \
		--rw=randrw --bssplit=4k/70:128k/30 --blockalign=4k --iodepth=4 --numjobs=2 \
		--offset_increment=40M --verify_backlog=64
	dmsetup remove fio
done

dm_track fs
dmsetup create fs --table "0 $sectors seal aes-xts-plain64 :64:logon:seal-test:fio 0 $dev 0 1 sector_size:4096"
mkdir -p "$work/mnt"
mkfs.ext4 -q -F -b 4096 /dev/mapper/fs
mount /dev/mapper/fs "$work/mnt"
mkdir -p "$work/mnt/files"
for i in $(seq 20); do
	head -c $((i * 37 * 1024)) /dev/urandom > "$work/mnt/files/f$i"
done
(cd "$work/mnt/files" && sha256sum f* > "$work/sums")
umount "$work/mnt"
dmsetup remove fs
dmsetup create fs --table "0 $sectors seal aes-xts-plain64 :64:logon:seal-test:fio 0 $dev 0 1 sector_size:4096"
ktap_check "ext4 on the target: fsck finds nothing to fix" fsck.ext4 -f -n /dev/mapper/fs
mount -o ro /dev/mapper/fs "$work/mnt"
ktap_check "ext4 on the target: 20 files read back identical after a new mapping" \
	sh -c "cd $work/mnt/files && sha256sum -c --quiet $work/sums"
umount "$work/mnt"
ktap_check_fails "ext4 on the target: the raw disk has no ext4 superblock" blkid -p "$dev"
ktap_end
