#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The foundation, independent of our target: stock dm-crypt (aes-xts-plain64) over a RAM
# disk in the guest kernel round-trips data, with a hex key and with a keyring key.
# check-kernels: 6.12
. "$SEAL_ROOT/tests/lib/ktap.sh"
. "$SEAL_ROOT/tests/lib/guest.sh"

ktap_begin 6
modprobe dm-crypt
dev=$(ramdisk 16)
sectors=$(blockdev --getsz "$dev")
work=$(mktemp -d)
on_exit "rm -rf $work"
head -c $((8 << 20)) /dev/urandom > "$work/plain"

key=$(random_hex 64)
# A function, so that a failure report names it rather than printing the key.
create_with_hex_key()
{
	dmsetup create rt-hex --table "0 $sectors crypt aes-xts-plain64 $key 0 $dev 0"
}
dm_track rt-hex
ktap_check "dm-crypt table with a hex key loads" create_with_hex_key
dd if="$work/plain" of=/dev/mapper/rt-hex bs=1M oflag=direct status=none
dd if=/dev/mapper/rt-hex of="$work/back" bs=1M count=8 iflag=direct status=none
ktap_check "data written through dm-crypt reads back identical" cmp "$work/plain" "$work/back"

dd if="$dev" of="$work/raw" bs=1M count=8 iflag=direct status=none
ktap_check_fails "the RAM disk holds ciphertext, not the plaintext" cmp -s "$work/plain" "$work/raw"
dmsetup remove rt-hex

# The same key through the kernel keyring gives the same ciphertext.
printf '%s' "$key" | xxd -r -p | keyctl padd logon seal-test:rt @s >/dev/null
dm_track rt-key
ktap_check "dm-crypt table with a logon keyring key loads" \
	dmsetup create rt-key --table "0 $sectors crypt aes-xts-plain64 :64:logon:seal-test:rt 0 $dev 0"
dd if=/dev/mapper/rt-key of="$work/back2" bs=1M count=8 iflag=direct status=none
ktap_check "the keyring key decrypts what the hex key encrypted" cmp "$work/plain" "$work/back2"
dmsetup remove rt-key
ktap_check_fails "the device is gone after remove" dmsetup info rt-key
ktap_end
