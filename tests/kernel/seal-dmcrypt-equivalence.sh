#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The same table with `crypt` in place of `seal` reads and writes the same bytes on disk:
# written by seal, read by dm-crypt; written by dm-crypt, read by seal; and the raw device
# holds identical ciphertext for the same plaintext. Over AES-128/256-XTS, 512 and 4096
# byte sectors, with and without iv_large_sectors, zero and non-zero iv_offset and offset.
# vm-timeout: 600
# check-kernels: 6.1
. "$SEAL_ROOT/tests/lib/ktap.sh"
. "$SEAL_ROOT/tests/lib/guest.sh"

# 1 MiB per configuration in make check (2048 sectors of 512 bytes, 256 of 4096), 4 under
# make stress
region_mib=1
[ -n "${SEAL_STRESS:-}" ] && region_mib=4
region=$((region_mib * 2048))	# 512-byte sectors
work=$(mktemp -d)
on_exit "rm -rf $work"

modprobe dm-crypt
load_seal || { ktap_begin 1; ktap_fail "dm-seal.ko loads"; ktap_end; }
dev=$(ramdisk 8)
head -c $((region_mib << 20)) /dev/urandom > "$work/p1"
head -c $((region_mib << 20)) /dev/urandom > "$work/p2"

# table TARGET KEYSIZE SECTOR_SIZE LARGE IV_OFFSET OFFSET
table()
{
	local opts=() n
	[ "$3" != 512 ] && opts+=("sector_size:$3")
	[ "$4" = y ] && opts+=(iv_large_sectors)
	n=${#opts[@]}
	echo "0 $region $1 aes-xts-plain64 :$2:logon:seal-test:eq$2 $5 $dev $6${opts[*]:+ $n ${opts[*]}}"
}

# io DEV in|out FILE: direct I/O over the whole region.
io()
{
	if [ "$2" = out ]; then
		dd if="$3" of="$1" bs=1M oflag=direct status=none
	else
		dd if="$1" of="$3" bs=1M count=$region_mib iflag=direct status=none
	fi
}

raw_region() { dd if="$dev" of="$2" bs=512 skip="$1" count=$region iflag=direct status=none; }

for ks in 32 64; do
	head -c "$ks" /dev/urandom | keyctl padd logon "seal-test:eq$ks" @s >/dev/null
done

ktap_begin 48
for ks in 32 64; do
	for cfg in "512 n" "4096 n" "4096 y"; do
		set -- $cfg
		ss=$1 large=$2
		for place in "0 0" "1032 72"; do
			set -- $place
			ivoff=$1 off=$2
			name="aes-$((ks * 4))-xts sector_size $ss iv_large_sectors=$large iv_offset $ivoff offset $off"
			seal=$(table seal "$ks" "$ss" "$large" "$ivoff" "$off")
			crypt=$(table crypt "$ks" "$ss" "$large" "$ivoff" "$off")
			rm -f "$work"/r* "$work"/b*

			dm_track eq-seal
			dmsetup create eq-seal --table "$seal" && io /dev/mapper/eq-seal out "$work/p1"
			dmsetup remove eq-seal
			raw_region "$off" "$work/r1"

			dm_track eq-crypt
			dmsetup create eq-crypt --table "$crypt" && io /dev/mapper/eq-crypt in "$work/b1"
			ktap_check "$name: dm-crypt reads what seal wrote" cmp "$work/p1" "$work/b1"
			# zeroed first, so that a dm-crypt write that never reaches the disk shows
			dd if=/dev/zero of="$dev" bs=512 seek="$off" count=$region oflag=direct status=none
			io /dev/mapper/eq-crypt out "$work/p1"
			raw_region "$off" "$work/r2"
			same_ciphertext "$name: same plaintext, same ciphertext on disk" \
				"$work/r1" "$work/r2" $((region_mib << 20))
			ktap_check_fails "$name: the disk does not hold the plaintext" cmp -s "$work/p1" "$work/r1"
			io /dev/mapper/eq-crypt out "$work/p2"
			dmsetup remove eq-crypt

			dmsetup create eq-seal --table "$seal" && io /dev/mapper/eq-seal in "$work/b2"
			ktap_check "$name: seal reads what dm-crypt wrote" cmp "$work/p2" "$work/b2"
			dmsetup remove eq-seal
		done
	done
done
ktap_end
