#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The target's contract with the block layer and with userspace, as
# Documentation/device-mapper/seal.rst states it: discards pass down only with
# allow_discards; the mapping's block sizes follow sector_size; I/O not aligned to it is
# refused and changes nothing; a write never touches the caller's pages; the IMA record of a
# table names the target and holds neither the key nor its description; after `key wipe` a
# direct read gets no plaintext from the device.
# The lower device is a loop device over a tmpfs file: it takes discards (a punched hole
# reads as zeros) and has 512-byte logical and physical blocks.
# vm-options: --append ima_policy=critical_data
# vm-timeout: 300
. "$SEAL_ROOT/tests/lib/ktap.sh"
. "$SEAL_ROOT/tests/lib/guest.sh"

write_check="$SEAL_ROOT/tests/lib/direct-write-check.py"
work=$(mktemp -d)
backing=$(mktemp -p /dev/shm)
on_exit "rm -rf $work $backing"
ktap_begin 22
load_seal || { ktap_fail "dm-seal.ko loads"; ktap_end; }
modprobe loop
head -c $((8 << 20)) /dev/urandom > "$backing"
lower=$(losetup --find --show "$backing")
on_exit "losetup -d $lower"
head -c 64 /dev/urandom > "$work/key"
keyctl padd logon seal-test:contract @s < "$work/key" >/dev/null
key=:64:logon:seal-test:contract

# map NAME SECTORS OFFSET [OPTIONS...]: a seal mapping of SECTORS at OFFSET (512-byte
# sectors) of the lower device, checked to be one before any I/O.
map()
{
	local name=$1 sectors=$2 offset=$3 opts=
	shift 3
	[ $# -gt 0 ] && opts=" $# $*"
	dm_track "$name"
	dmsetup create "$name" --table "0 $sectors seal aes-xts-plain64 $key 0 $lower $offset$opts" &&
		seal_mapped "$name"
}
# queue NAME ATTR: the mapping's request-queue attribute ATTR from sysfs.
queue()
{
	local dev
	dev=$(stat -L -c '%t %T' "/dev/mapper/$1" | { read -r ma mi; echo $((0x$ma)):$((0x$mi)); })
	cat "/sys/dev/block/$dev/queue/$2"
}
# What the lower device holds is read from its backing file (what loop wrote there).
snapshot() { cp "$backing" "$work/snapshot"; }
lower_unchanged() { cmp "$work/snapshot" "$backing"; }
# direct_read DEV OFFSET BYTES FILE: BYTES from DEV at OFFSET into FILE, with O_DIRECT.
direct_read()
{
	dd if="$1" of="$4" bs=1M skip="$2" count="$3" iflag=direct,skip_bytes,count_bytes status=none
}
# hints NAME SECTOR_SIZE: the mapping's block sizes follow sector_size, never below the
# lower device's.
lower_pbs=$(cat "/sys/block/${lower#/dev/}/queue/physical_block_size")
hints()
{
	local ss=$2 want_pbs got io_min
	want_pbs=$((lower_pbs > ss ? lower_pbs : ss))
	got="$(queue "$1" logical_block_size) $(queue "$1" physical_block_size)"
	io_min=$(queue "$1" minimum_io_size)
	if [ "${io_min:-0}" -ge "$ss" ]; then
		ktap_same "sector_size $ss: logical and physical block size $ss $want_pbs, minimum_io_size $io_min" \
			"$got" "$ss $want_pbs"
	else
		ktap_fail "sector_size $ss: logical and physical block size $ss $want_pbs, minimum_io_size $io_min" \
			"minimum_io_size is $io_min, below $ss (block sizes $got)"
	fi
}

# 1. Discards, and the block sizes of 512-byte sectors. The mappings cover lower sectors
# 2048-4095 (1 MiB at 1 MiB).
map nodiscard 2048 2048 || ktap_diag "the mapping without allow_discards was not created"
hints nodiscard 512
ktap_same "without allow_discards the mapping takes no discards (discard_max_bytes)" \
	"$(queue nodiscard discard_max_bytes)" 0
snapshot
if blkdiscard /dev/mapper/nodiscard 2>"$work/err"; then
	ktap_fail "without allow_discards blkdiscard fails and the lower device is unchanged" \
		"blkdiscard succeeded"
else
	ktap_diag "blkdiscard without allow_discards: $(cat "$work/err")"
	ktap_check "without allow_discards blkdiscard fails and the lower device is unchanged" \
		lower_unchanged
fi
dmsetup remove nodiscard

# This mapping's table is also the one whose IMA record is checked below.
map discard 2048 2048 allow_discards sector_size:4096 iv_large_sectors ||
	ktap_diag "the mapping with allow_discards was not created"
max=$(queue discard discard_max_bytes)
ktap_check "with allow_discards the mapping takes discards (discard_max_bytes $max)" \
	test "${max:-0}" -gt 0
ktap_check_fails "control: the lower sectors 2048-3071 are not zeros before the discard" \
	cmp -s -i $((2048 * 512)):0 -n $((1024 * 512)) "$backing" /dev/zero
snapshot
blkdiscard -o 0 -l $((1024 * 512)) /dev/mapper/discard 2>"$work/err" ||
	ktap_diag "blkdiscard with allow_discards: $(cat "$work/err")"
ktap_check "with allow_discards the discarded 512 KiB reach the lower device at the table's offset (zeros)" \
	cmp -i $((2048 * 512)):0 -n $((1024 * 512)) "$backing" /dev/zero
dd if=/dev/zero of="$work/snapshot" bs=512 seek=2048 count=1024 conv=notrunc status=none
ktap_check "the lower device outside the discarded range is unchanged" lower_unchanged

# 2. IMA (Debian's kernels have CONFIG_IMA; the guest boots with ima_policy=critical_data,
# which measures device-mapper's table loads): the record of the table load carries the
# target's STATUSTYPE_IMA line, without the key or its description.
ima=/sys/kernel/security/ima/ascii_runtime_measurements
[ -e $ima ] || mount -t securityfs securityfs /sys/kernel/security
# The data of each ima-buf record (its last field, hex) decoded, one record a line; then
# how often the key (raw or hex) or its description occurs in the list or those records.
python3 -c '
import sys
text = open(sys.argv[2], "rb").read()
records = b"".join(bytes.fromhex(f[-1].decode()).replace(b"\n", b" ") + b"\n"
                   for f in map(bytes.split, text.splitlines())
                   if len(f) >= 6 and f[2] == b"ima-buf")
open(sys.argv[3], "wb").write(records)
key = open(sys.argv[1], "rb").read()
forms = [key, key.hex().encode(), key.hex().upper().encode(), b"seal-test:contract"]
print(sum((text + records).count(f) for f in forms))
' "$work/key" $ima "$work/ima" > "$work/hits" 2>"$work/err" || ktap_diag "$ima: $(cat "$work/err")"
want="target_name=seal,target_version=1.0.0,cipher_string=aes-xts-plain64,key_size=64"
want+=",key_type=logon,iv_offset=0,sector_size=4096,iv_large_sectors=y,allow_discards=y"
want+=",reencrypt=n;"
record=$(grep -aF "name=discard," "$work/ima" | grep -aF "target_name=seal" | tail -1)
ktap_diag "IMA: $(wc -l < "$work/ima") ima-buf records; the table's: ${record:-none}"
ktap_check "the IMA record of the table load carries the target's line" \
	grep -qF "target_index=0,target_begin=0,target_len=2048,$want" <<<"$record"
if [ -z "$record" ]; then
	ktap_fail "no IMA record holds the key or its description" "there is no record to search"
else
	ktap_same "no IMA record holds the key or its description" "$(cat "$work/hits")" 0
fi
dmsetup remove discard

# 3. 4096-byte sectors: the block sizes, and I/O not aligned to them is refused (EINVAL from
# the block layer, EIO from the target) and changes nothing below.
map unaligned 2048 4096 sector_size:4096 || ktap_diag "the 4096-byte-sector mapping was not created"
hints unaligned 4096
ktap_check "control: an aligned 4096-byte direct write at 4096 succeeds" \
	dd if=/dev/urandom of=/dev/mapper/unaligned bs=4096 seek=1 count=1 oflag=direct status=none
snapshot
# refused WHAT DD-ARGS...: dd with DD-ARGS must fail with EINVAL or EIO.
refused()
{
	local what=$1 out
	shift
	if out=$(dd "$@" status=none 2>&1); then
		ktap_fail "$what is refused" "dd succeeded"
	elif ! grep -qE 'Invalid argument|Input/output error' <<<"$out"; then
		ktap_fail "$what is refused" "dd failed, but not with EINVAL or EIO: $out"
	else
		ktap_pass "$what is refused"
	fi
}
refused "sector_size 4096: a 512-byte direct write at 512" \
	if=/dev/urandom of=/dev/mapper/unaligned bs=512 seek=1 count=1 oflag=direct
refused "sector_size 4096: a 4608-byte direct write at 0" \
	if=/dev/urandom of=/dev/mapper/unaligned bs=4608 count=1 oflag=direct
refused "sector_size 4096: a 512-byte direct read at 512" \
	if=/dev/mapper/unaligned of=/dev/null bs=512 skip=1 count=1 iflag=direct
ktap_check "the refused writes changed nothing on the lower device" lower_unchanged
dmsetup remove unaligned

# 4. A write encrypts into pages of its own: the caller's buffer is unchanged afterwards.
# 4 KiB (one cipher call), 1 MiB (a write that helpers on other CPUs share), 1.5 MiB
# (split into writes of at most 1 MiB). The mapping covers lower sectors 8192-16383.
map pages 8192 8192 || ktap_diag "the mapping for the buffer checks was not created"
roundtrip=0
for w in 0:4096 $((1 << 20)):$((1 << 20)) $((2 << 20)):$((3 << 19)); do
	off=${w%:*} size=${w#*:}
	ktap_check "a $size-byte direct write leaves the caller's buffer unchanged" \
		python3 "$write_check" /dev/mapper/pages "$off" "$size" "$work/plain"
	direct_read /dev/mapper/pages "$off" "$size" "$work/back" && cmp -s "$work/plain" "$work/back" ||
		{ ktap_diag "$size bytes at $off do not read back through the mapping"; roundtrip=1; }
	cmp -s -i 0:$((off + (4 << 20))) -n "$size" "$work/plain" "$backing" &&
		{ ktap_diag "$size bytes at $off are plaintext on the lower device"; roundtrip=1; }
done
ktap_result "those writes read back through the mapping and are not plaintext below it" $roundtrip

# 5. After `key wipe` (only while suspended), a direct read gets no plaintext: the mapping
# refuses to resume, the read waits, and fails once the table is replaced by one that fails
# I/O (dmsetup wipe_table). The plaintext is the last write's, at 2 MiB.
direct_read /dev/mapper/pages $((2 << 20)) $((1 << 20)) "$work/back"
ktap_check "control: before the wipe the plaintext reads back" \
	cmp -s -n $((1 << 20)) "$work/plain" "$work/back"
dmsetup suspend pages && dmsetup message pages 0 key wipe ||
	ktap_diag "suspend and key wipe failed"
: > "$work/after"
dd if=/dev/mapper/pages of="$work/after" bs=1M skip=2 count=1 iflag=direct status=none \
	2>"$work/reader" &
reader=$!
# The read is queued once dd waits in D state (on the suspended mapping).
for _ in $(seq 100); do
	[ "$(awk '{ print $3 }' /proc/$reader/stat 2>/dev/null)" = D ] && break
	sleep 0.1
done
dmsetup resume pages 2>/dev/null && ktap_diag "the mapping resumed without a key"
sleep 1
if ! kill -0 $reader 2>/dev/null; then
	ktap_fail "after key wipe the mapping stays suspended and a direct read gets no data" \
		"the read ended, with $(stat -c %s "$work/after") bytes"
else
	ktap_same "after key wipe the mapping stays suspended and a direct read gets no data" \
		"$(stat -c %s "$work/after")" 0
fi
dmsetup wipe_table pages || ktap_diag "dmsetup wipe_table failed"
for _ in $(seq 600); do
	kill -0 $reader 2>/dev/null || break
	sleep 0.1
done
kill $reader 2>/dev/null
wait $reader
rc=$?
got=$(stat -c %s "$work/after")
if [ $rc = 0 ] || [ $rc -gt 128 ] || { [ "$got" -gt 0 ] && cmp -s -n "$got" "$work/plain" "$work/after"; }; then
	ktap_fail "the waiting read then fails, with no plaintext" "dd exited $rc with $got bytes"
else
	ktap_diag "the read: $(cat "$work/reader")"
	ktap_same "the waiting read then fails, with no plaintext" "$got" 0
fi
dmsetup remove pages
ktap_end
