#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Keys come only from the kernel keyring: each accepted key type works, every wrong key is
# refused with its message, the device outlives its keyring key, `key wipe` / `key set`
# behave, and the key bytes appear nowhere userspace can look.
# vm-timeout: 900
# check-kernels: 6.12
. "$SEAL_ROOT/tests/lib/ktap.sh"
. "$SEAL_ROOT/tests/lib/guest.sh"
. "$SEAL_ROOT/tests/lib/guest-trace.sh"

work=$(mktemp -d)
on_exit "rm -rf $work"
ktap_begin 34
load_seal || { ktap_fail "dm-seal.ko loads"; ktap_end; }
modprobe dm-crypt
dev=$(ramdisk 8)
len=8192	# 4 MiB
head -c $((len * 512)) /dev/urandom > "$work/plain"

# seal_table KEYSPEC: the table for a 4 MiB mapping with that key.
seal_table() { echo "0 $len seal aes-xts-plain64 $1 0 $dev 0"; }

# roundtrip NAME: write the plaintext through the mapping "k", read it back.
roundtrip()
{
	seal_mapped k &&
	dd if="$work/plain" of=/dev/mapper/k bs=1M oflag=direct status=none &&
	dd if=/dev/mapper/k of="$work/back" bs=1M iflag=direct status=none &&
	cmp -s "$work/plain" "$work/back"
}

head -c 64 /dev/urandom > "$work/key64"
head -c 32 /dev/urandom > "$work/key32"
keyctl padd logon seal-test:k64 @s < "$work/key64" >/dev/null
keyctl padd logon seal-test:k32 @s < "$work/key32" >/dev/null
keyctl padd user seal-test:u64 @s < "$work/key64" >/dev/null

# Accepted key types.
dm_track k
for spec in :64:logon:seal-test:k64 :32:logon:seal-test:k32 :64:user:seal-test:u64; do
	dmsetup create k --table "$(seal_table $spec)"
	ktap_check "key $spec: the table loads and data round-trips" roundtrip
	dmsetup remove k
done
# An encrypted key (its payload is decrypted by the kernel with a master user key).
keyctl add user seal-test:kmk "$(head -c 32 /dev/urandom | od -An -v -tx1 | tr -d ' \n')" @s >/dev/null
if keyctl add encrypted seal-test:enc "new default user:seal-test:kmk 64" @s >/dev/null; then
	dmsetup create k --table "$(seal_table :64:encrypted:seal-test:enc)"
	ktap_check "key :64:encrypted: the table loads and data round-trips" roundtrip
	dmsetup remove k
else
	ktap_fail "key :64:encrypted: cannot make an encrypted key"
fi
if grep -q '^CONFIG_TRUSTED_KEYS=' "/boot/config-$(uname -r)" "$SEAL_CACHE/kernels/$(uname -r)/boot/config-$(uname -r)" 2>/dev/null; then
	ktap_fail "key :64:trusted: this kernel has trusted keys; this test must learn to make one"
else
	ktap_skip "key :64:trusted: accepted" "$(uname -r) is built without CONFIG_TRUSTED_KEYS"
	table_refused "key :64:trusted: refused on a kernel without trusted keys" \
		"$(seal_table :64:trusted:seal-test:tr)" "Unsupported key type"
fi

# Refused keys.
table_refused "a hex key in the table is refused" \
	"$(seal_table "$(od -An -v -tx1 "$work/key64" | tr -d ' \n')")" \
	"Key must come from the kernel keyring, not the table"
table_refused "declared size 32 for a 64-byte key is refused" \
	"$(seal_table :32:logon:seal-test:k64)" "Key size does not match the keyring payload"
table_refused "declared size 48 is refused" \
	"$(seal_table :48:logon:seal-test:k64)" "Key size must be 32 or 64 bytes"
table_refused "a missing key is refused" \
	"$(seal_table :64:logon:seal-test:nosuchkey)" "Key lookup failed"
table_refused "a user key described as logon is refused" \
	"$(seal_table :64:logon:seal-test:u64)" "Key lookup failed"
table_refused "a logon key described as user is refused" \
	"$(seal_table :64:user:seal-test:k64)" "Key lookup failed"
table_refused "an unknown key type is refused" \
	"$(seal_table :64:asymmetric:seal-test:k64)" "Unsupported key type"
table_refused "a key spec without a description is refused" \
	"$(seal_table :64:logon:)" "Missing key description"
keyctl padd logon seal-test:revoked @s < "$work/key64" >/dev/null
keyctl revoke "$(keyctl search @s logon seal-test:revoked)"
table_refused "a revoked key is refused" \
	"$(seal_table :64:logon:seal-test:revoked)" "Key is revoked or expired"

# The device keeps working after its keyring key is unlinked or revoked.
keyctl padd logon seal-test:gone @s < "$work/key64" >/dev/null
dmsetup create k --table "$(seal_table :64:logon:seal-test:gone)"
keyctl unlink "$(keyctl search @s logon seal-test:gone)" @s >/dev/null
ktap_check "the device works after its key is unlinked from the keyring" roundtrip
dmsetup remove k
keyctl padd logon seal-test:gone @s < "$work/key64" >/dev/null
dmsetup create k --table "$(seal_table :64:logon:seal-test:gone)"
keyctl revoke "$(keyctl search @s logon seal-test:gone)"
ktap_check "the device works after its key is revoked" roundtrip

# key wipe / key set.
ktap_check_fails "key wipe is refused while the device is not suspended" dmsetup message k 0 key wipe
ktap_check_fails "key set is refused while the device is not suspended" \
	dmsetup message k 0 key set :64:logon:seal-test:k64
dmsetup suspend k
ktap_check "key wipe is accepted while suspended" dmsetup message k 0 key wipe
ktap_check "status says the key is wiped" sh -c 'dmsetup status k | grep -q " seal wiped "'
ktap_check_fails "resume without a key is refused" dmsetup resume k
ktap_check_fails "key set with a 32-byte key on a 64-byte table is refused" \
	dmsetup message k 0 key set :32:logon:seal-test:k32
ktap_check_fails "key set with a missing key is refused" \
	dmsetup message k 0 key set :64:logon:seal-test:nosuchkey
ktap_check_fails "resume is still refused after failed key sets" dmsetup resume k
keyctl padd logon seal-test:other @s < <(head -c 64 /dev/urandom) >/dev/null
ktap_check "key set with another key is accepted" dmsetup message k 0 key set :64:logon:seal-test:other
ktap_check "resume is accepted once a key is set" dmsetup resume k
# noise, not an error: the read must succeed and return all of it, unlike the plaintext
rm -f "$work/back"
timeout 60 dd if=/dev/mapper/k of="$work/back" bs=1M iflag=direct status=none
rc=$?
if [ $rc = 0 ] && [ "$(stat -c %s "$work/back")" = "$(stat -c %s "$work/plain")" ] &&
   ! cmp -s "$work/plain" "$work/back"; then
	ktap_pass "under another key the old data reads as noise, not plaintext"
else
	ktap_fail "under another key the old data reads as noise, not plaintext" \
		"dd exited $rc, read $(stat -c %s "$work/back" 2>/dev/null || echo no) bytes"
fi
dmsetup suspend k
# Reclaim that wrote to the suspended device would wait for a resume that comes only after
# the message: the messages allocate as GFP_NOIO (the task's PF_MEMALLOC_NOIO, 0x80000).
noio=$(bpf_around 'kprobe:request_key_tag, kprobe:crypto_skcipher_setkey /comm == "dmsetup"/
	{ printf("%s noio=%d\n", probe, (curtask->flags & 0x80000) ? 1 : 0); }' '' \
	sh -c 'dmsetup message k 0 key wipe && dmsetup message k 0 key set :64:logon:seal-test:k64')
ktap_same "while suspended, key wipe and key set look up and load keys with no I/O for memory" \
	"$(sort -u <<<"$noio" | xargs)" \
	"kprobe:crypto_skcipher_setkey noio=1 kprobe:request_key_tag noio=1"
dmsetup resume k
timeout 60 dd if=/dev/mapper/k of="$work/back" bs=1M iflag=direct status=none
ktap_check "key set with the right key brings the plaintext back" cmp -s "$work/plain" "$work/back"
ktap_check_fails "an unknown message is refused" dmsetup message k 0 key rotate
ktap_check "the table names the key, never its bytes" \
	sh -c 'dmsetup table k | grep -q " aes-xts-plain64 :64:logon:seal-test:k64 0 "'

# The key bytes, in raw, hex and base64 form, appear nowhere userspace can read.
# key_hits: how often either test key (or one XTS half) shows in tables, status, dmesg,
# /proc and sysfs.
key_hits()
{
	{
		dmsetup table --showkeys
		dmsetup status
		dmesg
		cat /proc/keys /proc/key-users /proc/crypto
		cat /proc/[0-9]*/cmdline /proc/[0-9]*/environ 2>/dev/null
		cat /sys/block/dm-*/dm/* 2>/dev/null
	} > "$work/visible"
	python3 - "$work/key64" "$work/key32" "$work/visible" <<'PY'
import base64, sys
haystack = open(sys.argv[3], 'rb').read()
hits = 0
for path in sys.argv[1:3]:
    key = open(path, 'rb').read()
    for half in (key, key[:len(key) // 2], key[len(key) // 2:]):
        for form in (half, half.hex().encode(), half.hex().upper().encode(), base64.b64encode(half)):
            hits += haystack.count(form)
print(hits)
PY
}
hits=$(key_hits)
ktap_diag "searched $(wc -c < "$work/visible") bytes of tables, status, dmesg, /proc and sysfs: $hits hits"
ktap_check "no key bytes in tables, status, dmesg, /proc or sysfs" test "$hits" = 0
# Control: the search does find a key that is visible (dm-crypt shows hex keys).
dm_track ctl
dmsetup create ctl --table "0 8 crypt aes-xts-plain64 $(od -An -v -tx1 "$work/key64" | tr -d ' \n') 0 $dev 0"
ktap_check "control: the same search finds the key dm-crypt shows with --showkeys" \
	test "$(key_hits)" -gt 0
dmsetup remove ctl
dmsetup remove k
ktap_end
