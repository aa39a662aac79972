#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Known answers on the raw device under the target: the IEEE 1619 vectors that are one
# 512-byte data unit with distinct key halves (XTS-AES 4 and 10, read from the kernel's own
# crypto/testmgr.h), and a generated set checked sector by sector against OpenSSL's XTS for
# AES-128/256, 512 and 4096 byte sectors, with and without iv_large_sectors.
# vm-timeout: 600
# check-kernels: 6.12
. "$SEAL_ROOT/tests/lib/ktap.sh"
. "$SEAL_ROOT/tests/lib/guest.sh"

oracle=$SEAL_ROOT/tests/lib/xts-oracle.py
testmgr=$SEAL_CACHE/linux-source/crypto/testmgr.h
work=$(mktemp -d)
on_exit "rm -rf $work"

ktap_begin 11
load_seal || { ktap_fail "dm-seal.ko loads"; ktap_end; }
dev=$(ramdisk 4)

# The IEEE vectors: ciphertext put on the raw disk reads back as the plaintext, and the
# plaintext written through the target lands on the disk as the ciphertext.
"$oracle" vectors "$testmgr" > "$work/vectors"
ktap_check "the IEEE 1619 sector vectors 4 and 10 are found in testmgr.h" \
	test "$(cut -d' ' -f1 "$work/vectors" | tr '\n' ' ')" = "XTS-AES-4 XTS-AES-10 "
while read -r name key dusn ptext ctext; do
	ks=$((${#key} / 2))
	echo "$key" | xxd -r -p | keyctl padd logon "seal-test:kat" @s >/dev/null
	echo "$ptext" | xxd -r -p > "$work/p"
	echo "$ctext" | xxd -r -p > "$work/c"
	# Target sector 0 at raw sector 8, with iv_offset making its IV the vector's DUSN.
	table="0 8 seal aes-xts-plain64 :$ks:logon:seal-test:kat $dusn $dev 8"
	dd if="$work/c" of="$dev" bs=512 seek=8 oflag=direct status=none
	dm_track kat
	dmsetup create kat --table "$table"
	dd if=/dev/mapper/kat of="$work/r" bs=512 count=1 iflag=direct status=none
	ktap_check "$name (AES-$((ks * 4)), DUSN $dusn): decrypts to the IEEE plaintext" cmp "$work/p" "$work/r"
	dd if=/dev/zero of="$dev" bs=512 seek=8 count=1 oflag=direct status=none
	dd if="$work/p" of=/dev/mapper/kat bs=512 oflag=direct status=none
	dd if="$dev" of="$work/r" bs=512 skip=8 count=1 iflag=direct status=none
	ktap_check "$name (AES-$((ks * 4)), DUSN $dusn): encrypts to the IEEE ciphertext" cmp "$work/c" "$work/r"
	dmsetup remove kat
done < "$work/vectors"

# The generated set: 256 KiB of random plaintext per configuration, random iv_offset.
bytes=$((256 << 10))
for ks in 32 64; do
	for cfg in "512 n" "4096 n" "4096 y"; do
		set -- $cfg
		ss=$1 large=$2
		per=$((ss / 512))
		head -c "$ks" /dev/urandom > "$work/key"
		keyctl padd logon "seal-test:gen" @s < "$work/key" >/dev/null
		ivoff=$(( ($(od -An -N2 -tu2 /dev/urandom) + 1) * per ))
		opts=()
		[ "$ss" != 512 ] && opts+=("sector_size:$ss")
		[ "$large" = y ] && opts+=(iv_large_sectors)
		table="0 $((bytes / 512)) seal aes-xts-plain64 :$ks:logon:seal-test:gen $ivoff $dev 16"
		[ ${#opts[@]} != 0 ] && table="$table ${#opts[@]} ${opts[*]}"
		head -c "$bytes" /dev/urandom > "$work/p"
		dm_track gen
		dmsetup create gen --table "$table"
		dd if="$work/p" of=/dev/mapper/gen bs=64k oflag=direct status=none
		dmsetup remove gen
		dd if="$dev" of="$work/r" bs=512 skip=16 count=$((bytes / 512)) iflag=direct status=none
		if [ "$large" = y ]; then
			first=$((ivoff / per)) step=1
		else
			first=$ivoff step=$per
		fi
		ktap_check "AES-$((ks * 4))-XTS sector_size $ss iv_large_sectors=$large iv_offset $ivoff: every sector matches OpenSSL" \
			"$oracle" check "$work/key" "$ss" "$first" "$step" "$work/p" "$work/r"
	done
done
ktap_end
