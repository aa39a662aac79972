#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Online DEK rotation in the target: data written under key A, a table with A as the old
# key and B as the reencrypt key at boundary 0, then "reencrypt_step" messages walk the
# boundary to the end while fio writes and verifies and a reader compares what it reads
# with what was written. Afterwards the raw disk holds exactly OpenSSL's XTS of the data
# under B (and dm-crypt with B reads it); the status shows the boundary advancing; an I/O
# straddling the boundary reads and writes the right bytes; key wipe and key set cover
# both keys; bad messages and tables are refused with their sentence.
# vm-timeout: 900
# check-kernels: 6.12
. "$SEAL_ROOT/tests/lib/ktap.sh"
. "$SEAL_ROOT/tests/lib/guest.sh"

oracle=$SEAL_ROOT/tests/lib/xts-oracle.py
work=$(mktemp -d)
on_exit "rm -rf $work"
mib=2
sectors=$((mib * 2048))
half=$((sectors / 2))

ktap_begin 35
modprobe dm-crypt
load_seal || { ktap_fail "dm-seal.ko loads"; ktap_end; }
dev=$(ramdisk 4)
head -c 64 /dev/urandom > "$work/a"
head -c 64 /dev/urandom > "$work/b"
keyctl padd logon seal-test:reA @s < "$work/a" >/dev/null
keyctl padd logon seal-test:reB @s < "$work/b" >/dev/null
A=:64:logon:seal-test:reA
B=:64:logon:seal-test:reB
plain="0 $sectors seal aes-xts-plain64 $A 0 $dev 0"
reenc="$plain 3 reencrypt $B 0"

# boundary NAME: the boundary in the target's STATUSTYPE_INFO line.
boundary() { dmsetup status "$1" | awk '$3 == "seal" && $9 == "reencrypt" { print $10 }'; }

# Known data under key A only.
head -c $((mib << 20)) /dev/urandom > "$work/p"
dm_track re
dmsetup create re --table "$plain"
dd if="$work/p" of=/dev/mapper/re bs=1M oflag=direct status=none
dmsetup remove re

dmsetup create re --table "$reenc"
ktap_check "a table with a reencrypt key at boundary 0 loads" seal_mapped re
ktap_same "the table prints the reencrypt key and boundary back" \
	"$(dmsetup table re | cut -d' ' -f4-)" \
	"aes-xts-plain64 $A 0 $((0x$(stat -c %t "$dev"))):$((0x$(stat -c %T "$dev"))) 0 3 reencrypt $B 0"
ktap_same "status reports boundary 0" "$(boundary re)" 0
dd if=/dev/mapper/re of="$work/r" bs=1M iflag=direct status=none
ktap_check "at boundary 0 everything reads under the old key" cmp "$work/p" "$work/r"

# One step, then I/O straddling the boundary.
ktap_same "reencrypt_step 1000 answers the new boundary" \
	"$(dmsetup message re 0 reencrypt_step 1000)" 1000
ktap_same "status reports boundary 1000" "$(boundary re)" 1000
dd if=/dev/mapper/re of="$work/r" bs=512 skip=936 count=128 iflag=direct status=none
dd if="$work/p" of="$work/want" bs=512 skip=936 count=128 status=none
ktap_check "a read straddling the boundary returns the data" cmp "$work/want" "$work/r"
head -c $((96 * 512)) /dev/urandom > "$work/q"
dd if="$work/q" of=/dev/mapper/re bs=512 seek=960 oflag=direct status=none
dd if="$work/q" of="$work/p" bs=512 seek=960 conv=notrunc status=none
dd if=/dev/mapper/re of="$work/r" bs=512 skip=900 count=200 iflag=direct status=none
dd if="$work/p" of="$work/want" bs=512 skip=900 count=200 status=none
ktap_check "a write straddling the boundary reads back" cmp "$work/want" "$work/r"
dd if="$dev" of="$work/raw" bs=512 skip=960 count=40 iflag=direct status=none
dd if="$work/q" of="$work/want" bs=512 count=40 status=none
ktap_check "its part below the boundary is on disk under the new key" \
	"$oracle" check "$work/b" 512 960 1 "$work/want" "$work/raw"
dd if="$dev" of="$work/raw" bs=512 skip=1000 count=56 iflag=direct status=none
dd if="$work/q" of="$work/want" bs=512 skip=40 count=56 status=none
ktap_check "its part above the boundary is on disk under the old key" \
	"$oracle" check "$work/a" 512 1000 1 "$work/want" "$work/raw"

# The rest while fio writes and verifies the upper half and a reader checks the lower.
fio --name=rot --filename=/dev/mapper/re --direct=1 --ioengine=libaio --verify=crc32c \
	--verify_fatal=1 --do_verify=1 --randrepeat=0 --offset=$((half * 512)) \
	--size=$((half * 512)) --rw=randwrite --bsrange=4k-64k --blockalign=4k --iodepth=8 \
	--loops=2 --output-format=terse > "$work/fio.out" 2>&1 &
fio_pid=$!
(
	bad=0
	while [ ! -e "$work/stop" ]; do
		off=$((RANDOM % (half / 8 - 32) * 8))
		dd if=/dev/mapper/re of="$work/rr" bs=512 skip=$off count=256 iflag=direct status=none
		dd if="$work/p" of="$work/rw" bs=512 skip=$off count=256 status=none
		cmp -s "$work/rr" "$work/rw" || { echo "read at $off differs"; bad=1; }
	done
	exit $bad
) > "$work/reader.out" 2>&1 &
reader_pid=$!
seen=() fails=0
while :; do
	b=$(dmsetup message re 0 reencrypt_step 256)
	[ -n "$b" ] || { fails=$((fails + 1)); break; }
	seen+=("$b")
	[ "$b" = "$sectors" ] && break
	[ ${#seen[@]} -gt 40 ] && break
done
touch "$work/stop"
wait $reader_pid
reader_rc=$?
wait $fio_pid
fio_rc=$?
ktap_same "every step succeeded and the boundary reached the end" "$fails ${seen[-1]}" "0 $sectors"
mono=0
for ((i = 1; i < ${#seen[@]}; i++)); do
	[ "${seen[i]}" -gt "${seen[i - 1]}" ] || mono=1
done
ktap_same "the boundary grew with each step (${#seen[@]} steps)" "$mono" 0
ktap_same "status reports the end as the boundary" "$(boundary re)" "$sectors"
ktap_same "fio wrote and verified the upper half during the rotation" "$fio_rc" 0
[ "$fio_rc" = 0 ] || ktap_diag "$(cat "$work/fio.out")"
ktap_same "reads of the lower half during the rotation returned the data" "$reader_rc" 0
[ "$reader_rc" = 0 ] || ktap_diag "$(head -5 "$work/reader.out")"
ktap_check "the mapping's counters show no I/O error" \
	sh -c "dmsetup status re | awk '{ exit !(\$7 == 0 && \$8 == 0) }'"

# The result: ciphertext under B everywhere, the data the same.
dd if=/dev/mapper/re of="$work/r" bs=1M iflag=direct status=none
dd if="$work/r" of="$work/rl" bs=512 count=$half status=none
dd if="$work/p" of="$work/pl" bs=512 count=$half status=none
ktap_check "after the rotation the lower half reads as written" cmp "$work/pl" "$work/rl"
dd if="$dev" of="$work/raw" bs=1M count=$mib iflag=direct status=none
ktap_check "the raw disk is OpenSSL's AES-256-XTS of the data under the new key" \
	"$oracle" check "$work/b" 512 0 1 "$work/r" "$work/raw"
ktap_same "a further step changes nothing" "$(dmsetup message re 0 reencrypt_step 8)" "$sectors"
dmsetup remove re
dm_track dc
dmsetup create dc --table "0 $sectors crypt aes-xts-plain64 $B 0 $dev 0"
dd if=/dev/mapper/dc of="$work/c" bs=1M iflag=direct status=none
dmsetup remove dc
ktap_check "dm-crypt with the new key reads the same data" cmp "$work/r" "$work/c"

# Messages: refused ones, and the keys of both.
# Old key A, new key B, boundary at the end: all of it reads under B.
dmsetup create re --table "$plain 3 reencrypt $B $sectors"
msg_refused()
{
	local name=$1 want=$2 before
	shift 2
	before=$(dmesg | wc -l)
	if dmsetup message re 0 "$@" >/dev/null 2>&1; then
		ktap_fail "$name" "the message '$*' was accepted"
	elif ! dmesg | tail -n +$((before + 1)) | grep -qF "$want"; then
		ktap_fail "$name" "wanted '$want' in dmesg, got: $(dmesg | tail -n +$((before + 1)) | tail -2)"
	else
		ktap_pass "$name"
	fi
}
msg_refused "reencrypt_step 0 is refused" "must be 1 to" reencrypt_step 0
msg_refused "reencrypt_step 8x is refused" "must be 1 to" reencrypt_step 8x
msg_refused "reencrypt_step of more than 64 MiB is refused" "must be 1 to" reencrypt_step 131073
dmsetup suspend re
msg_refused "reencrypt_step while suspended is refused" "while the device is suspended" \
	reencrypt_step 8
dmsetup message re 0 key wipe
ktap_same "key wipe wipes both keys" "$(dmsetup status re | cut -d' ' -f3,4)" "seal wiped"
dmsetup message re 0 key set "$A"
ktap_check_fails "with only the old key set again, resume is refused" dmsetup resume re
dmsetup message re 0 key set "$A" "$B"
ktap_check "with both keys set again, resume succeeds" dmsetup resume re
dd if=/dev/mapper/re of="$work/r2" bs=1M iflag=direct status=none
ktap_check "and the data reads as before" cmp "$work/r" "$work/r2"
ktap_same "the boundary is where the table put it" "$(boundary re)" "$sectors"
dmsetup remove re
dmsetup create re --table "$plain"
msg_refused "reencrypt_step on a table without a reencrypt key is refused" \
	"the table has no reencrypt key" reencrypt_step 8
dmsetup remove re

# 4096-byte sectors with iv_large_sectors: the step uses the table's IVs.
dmsetup create re --table "0 2048 seal aes-xts-plain64 $A 64 $dev 0 2 sector_size:4096 iv_large_sectors"
head -c 1M /dev/urandom > "$work/p4"
dd if="$work/p4" of=/dev/mapper/re bs=64k oflag=direct status=none
dmsetup remove re
dmsetup create re --table "0 2048 seal aes-xts-plain64 $A 64 $dev 0 5 sector_size:4096 iv_large_sectors reencrypt $B 0"
msg_refused "reencrypt_step 4 with sector_size:4096 is refused" "must be 1 to" reencrypt_step 4
dmsetup message re 0 reencrypt_step 1024 >/dev/null
dmsetup message re 0 reencrypt_step 1024 >/dev/null
dd if="$dev" of="$work/raw4" bs=1M count=1 iflag=direct status=none
ktap_check "sector_size 4096, iv_large_sectors: the disk is the data under the new key" \
	"$oracle" check "$work/b" 4096 8 1 "$work/p4" "$work/raw4"
dmsetup remove re

# Tables.
table_refused "a boundary beyond the end is refused" "$plain 3 reencrypt $B $((sectors + 8))" \
	"Reencrypt boundary is beyond the end of the target"
table_refused "an unaligned boundary is refused" "$plain 4 sector_size:4096 reencrypt $B 4" \
	"Reencrypt boundary is not a multiple of sector_size"
table_refused "a missing reencrypt key is refused" \
	"$plain 3 reencrypt :64:logon:seal-test:missing 0" "Reencrypt key lookup failed"
ktap_end
