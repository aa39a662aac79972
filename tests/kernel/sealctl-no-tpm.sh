#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A guest without a TPM: a volume enrolled elsewhere (a swtpm inside the guest, stopped
# before the checks) has a seal-tpm2 token that cannot be used. Unattended open says so
# and exits 11 (TPM absent) leaving nothing behind; with a terminal or a key file it falls
# back to the passphrase and opens; a sealtab entry with a key file opens and closes by
# NAME, a key file group or others may read, or not root's, is refused (exit 24) with
# nothing left; enroll tpm2 exits 11 and leaves the header alone.
# Then the same swtpm again, behind an active interposer (tests/userspace/helpers/
# tpm-proxy.py forge-pcr-read: PCR 15's extend swallowed, PCR_Event's and PCR_Read's
# answers forged): the TPM unlock discards its secret, a key-file unlock is undone, each
# with exit 21 and no mapping or keyring key left.
# Last, open --defer-lock (several tpm2 volumes at one boot, pending.h): refused outside an
# initramfs (exit 27); in one (/etc/initrd-release), two unseals in a row with PCR 15 left
# at its reset value, their records under /run/seal/pending holding no key bytes; lock-tpm
# behind the interposer fails (exit 21) and keeps the records; lock-tpm extends them and the
# lock, removes them, and the TPM refuses from then on (exit 12).
# Last, a TPM2 that appears after the initramfs, with no udevd to run 90-seal-tpm-late.rules
# (tpm_late.h): with /run/seal/tpm-not-locked there and PCR 15 at its reset value (the swtpm
# restarted), sealctl open --test-passphrase --token-only and stock cryptsetup through our
# plugin each extend PCR 15 with the rule's event and unseal nothing (sealctl: exit 12).
# vm-options: --scratch 64
# vm-timeout: 600
# check-kernels: 6.1
. "$SEAL_ROOT/tests/lib/ktap.sh"
. "$SEAL_ROOT/tests/lib/guest.sh"
. "$SEAL_ROOT/tests/kernel/sealctl-common.sh"

ktap_begin 55
load_seal || { ktap_fail "dm-seal.ko loads"; ktap_end; }
dev=/dev/vda
printf 'right passphrase' > "$work/pass"
dm_track v
ktap_check "the guest has no TPM device" sh -c '! ls /dev/tpm* 2>/dev/null | grep -q .'

# Enroll against a swtpm on the guest's loopback, then stop it.
ip link set lo up
mkdir -p "$work/tpm"
# swtpm_start: the guest's swtpm (state in $work/tpm) on 127.0.0.1:2321 and 2322, as $swtpm.
swtpm_start()
{
	swtpm socket --tpm2 --tpmstate dir="$work/tpm" \
		--server type=tcp,port=2321,bindaddr=127.0.0.1 \
		--ctrl type=tcp,port=2322,bindaddr=127.0.0.1 \
		--flags not-need-init,startup-clear >>"$work/swtpm.log" 2>&1 &
	swtpm=$!
	on_exit "kill $swtpm 2>/dev/null"
	for _ in $(seq 50); do
		(exec 3<>/dev/tcp/127.0.0.1/2321) 2>/dev/null && break
		sleep 0.1
	done
}
swtpm_start
ktap_check "format" "$SEALCTL" format "$dev" -d "$work/pass"
ktap_check "enroll tpm2 (swtpm in the guest)" "$SEALCTL" enroll "$dev" tpm2 -d "$work/pass" \
	--tcti swtpm:host=127.0.0.1,port=2321
kill "$swtpm"
wait "$swtpm" 2>/dev/null
hdr=$(head -c $((16 << 20)) "$dev" | sha256sum)

before=$(mappings)
ktap_expect "unattended open without a TPM: exit 11" 11 \
	"^sealctl: $dev: token 0 \(seal-tpm2\): no TPM2 reachable \(device:/dev/tpmrm0\)$" \
	setsid -w "$SEALCTL" open "$dev" v
ktap_expect "... and one line saying nothing else can unlock it" 11 \
	"^sealctl: $dev: no token unlocks the volume and no passphrase source \(no terminal, no --key-file\)$" \
	setsid -w "$SEALCTL" open "$dev" v
nothing_left "no TPM, unattended" "$before"
ktap_expect "--token-only without a TPM: exit 11" 11 "no token unlocks the volume.*--token-only" \
	"$SEALCTL" open "$dev" v --token-only
nothing_left "no TPM, --token-only" "$before"

printf 'right passphrase\n' > "$work/answers"
out=$(python3 "$PTY_RUN" "$work/answers" "$SEALCTL" open "$dev" v 2>&1)
rc=$?
ktap_same "on a terminal it falls back to the prompt and opens" "$rc" 0
ktap_diag "pty transcript:" "$out"
ktap_check "the prompt came after the TPM line" \
	grep -q "token 0 (seal-tpm2): no TPM2 reachable" <<<"$out"
ktap_check "the mapping exists" test -b /dev/mapper/v
ktap_check_fails "no seal: key left" seal_keys
ktap_check "close" "$SEALCTL" close v
ktap_check "with a key file it opens" "$SEALCTL" open "$dev" v -d "$work/pass"
ktap_check "close" "$SEALCTL" close v

# A sealtab entry with a key file, the booted system's way to open a data disk: open NAME
# finds the device and the key file in the entry, close NAME; data written through it reads
# back after a reopen. A key file its group may read, or not root's, is refused before any
# unlock, with nothing left. (Here, with no TPM, as cheap as it gets: the token fails at
# once. Unknown names, exit 23: tests/userspace/sealtab-generator.sh.)
(
	umask 077
	printf 'right passphrase' > "$work/data.key"
	printf '# name device key-file options\ndata %s %s tries=1\n' "$dev" "$work/data.key" > "$work/sealtab"
)
dm_track data
head -c $((1 << 20)) /dev/urandom > "$work/data"
sha=$(sha256sum < "$work/data" | cut -d' ' -f1)
ktap_check "open NAME: the sealtab entry's device and key file" \
	setsid -w "$SEALCTL" --sealtab "$work/sealtab" open data
ktap_check "write 1 MiB through /dev/mapper/data" roundtrip_write data "$work/data"
ktap_check "close NAME: the mapping is gone" \
	sh -c "'$SEALCTL' close data && ! test -e /dev/mapper/data"
ktap_check "open NAME again" setsid -w "$SEALCTL" --sealtab "$work/sealtab" open data
ktap_same "the data reads back" "$(read_sha data $((1 << 20)))" "$sha"
ktap_check "close NAME" "$SEALCTL" close data
before=$(mappings)
chmod 0640 "$work/data.key"
ktap_expect "a key file its group may read: one line, exit 24" 24 \
	"^sealctl: $dev: key file $work/data.key refused: group or others may access it" \
	setsid -w "$SEALCTL" --sealtab "$work/sealtab" open data
chmod 0600 "$work/data.key"
chown 1 "$work/data.key"
ktap_expect "a key file not root's: one line, exit 24" 24 \
	"^sealctl: $dev: key file $work/data.key refused: not owned by root" \
	setsid -w "$SEALCTL" --sealtab "$work/sealtab" open data
nothing_left "refused key files" "$before"

ktap_expect "enroll tpm2 without a TPM: exit 11" 11 "no TPM2 reachable" \
	"$SEALCTL" enroll "$dev" tpm2 -d "$work/pass"
ktap_same "the header is unchanged" "$(head -c $((16 << 20)) "$dev" | sha256sum)" "$hdr"
nothing_left "no TPM, enroll" "$before"

# An active interposer between sealctl and the TPM the volume was enrolled with.
swtpm_start
python3 "$SEAL_ROOT/tests/userspace/helpers/tpm-proxy.py" 2331 2321 "$work/proxy.cap" \
	"$work/proxy.ready" forge-pcr-read &
on_exit "kill $! 2>/dev/null"
for _ in $(seq 100); do [ -e "$work/proxy.ready" ] && break; sleep 0.1; done
interposed=swtpm:host=127.0.0.1,port=2331
ktap_expect "interposer: the TPM unlock discards its unsealed secret: exit 21" 21 \
	"token 0 \(seal-tpm2\): unsealed, but PCR 15 extend not confirmed by the TPM: the secret was discarded" \
	setsid -w "$SEALCTL" open "$dev" v --tcti "$interposed"
nothing_left "interposer, TPM unlock" "$before" v
ktap_expect "interposer: a key-file unlock is undone when the extend is not confirmed: exit 21" 21 \
	"cannot extend PCR 15: the TPM's answer is not authentic" \
	"$SEALCTL" open "$dev" v -d "$work/pass" --tcti "$interposed"
nothing_left "interposer, key file" "$before" v

honest=swtpm:host=127.0.0.1,port=2321
uuid=$(cryptsetup luksUUID "$dev")
pending=/run/seal/pending
swtpm_pcr15() { TPM2TOOLS_TCTI=$honest pcr 15; }
pcr15=$(swtpm_pcr15)
ktap_same "PCR 15 is still at its reset value (the interposer swallowed its extends)" \
	"$pcr15" "0x$(printf '0%.0s' $(seq 64))"
ktap_expect "open --defer-lock outside an initramfs: exit 27, one line" 27 \
	"^sealctl: $dev: --defer-lock is for the initramfs only \(no /etc/initrd-release\)" \
	"$SEALCTL" open --defer-lock "$dev" v --tcti "$honest"
ktap_expect "--defer-lock with another command: exit 2" 2 "--defer-lock is an option of open only" \
	"$SEALCTL" lock-tpm --defer-lock
ktap_check_fails "... and nothing was unsealed or recorded" test -e "$pending"
touch /etc/initrd-release
on_exit "rm -f /etc/initrd-release"
cryptsetup luksDump --dump-volume-key --batch-mode --key-file "$work/pass" \
	--volume-key-file "$work/dek" "$dev" >/dev/null 2>&1
for i in 1 2; do
	ktap_check "initramfs: open --defer-lock unseals unattended ($i of 2)" \
		setsid -w "$SEALCTL" open --defer-lock "$dev" v --tcti "$honest"
	ktap_same "... PCR 15 has not moved ($i of 2)" "$(swtpm_pcr15)" "$pcr15"
	ktap_check "... close ($i of 2)" "$SEALCTL" close v
done
ktap_same "two records of the unseal and two of the volume are pending" \
	"$(grep -c "^seal:$uuid:unsealed\$" "$pending/$uuid.unsealed") $(grep -cE "^seal:$uuid:[0-9a-f]{64}\$" "$pending/$uuid.unsealed")" "2 2"
ktap_check_fails "no DEK bytes in the records (hex)" \
	grep -qiE "$(od -An -v -tx1 "$work/dek" | tr -d ' \n' | cut -c1-32)|$(od -An -v -tx1 "$work/dek" | tr -d ' \n' | cut -c65-96)" \
	"$pending/$uuid.unsealed"
ktap_expect "lock-tpm behind the interposer: exit 21" 21 "cannot extend PCR 15" \
	"$SEALCTL" lock-tpm boot --tcti "$interposed"
ktap_check "... the pending records are kept (the initramfs powers off)" test -s "$pending/$uuid.unsealed"
ktap_check "lock-tpm" "$SEALCTL" lock-tpm boot --tcti "$honest"
ktap_check_fails "PCR 15 moved" test "$(swtpm_pcr15)" = "$pcr15"
ktap_same "the pending records are gone" "$(ls -A "$pending")" ""
ktap_expect "after lock-tpm the TPM refuses: exit 12" 12 "PCR values differ" \
	"$SEALCTL" open --defer-lock --test-passphrase --token-only "$dev" --tcti "$honest"

# The late TPM. A restart of the swtpm is a reboot for it: PCR 15 back at its reset value.
rm -f /etc/initrd-release
swtpm_restart() { kill "$swtpm"; wait "$swtpm" 2>/dev/null; swtpm_start; }
pcr15_lc() { local v; v=$(swtpm_pcr15); echo "${v,,}"; }
late=$(python3 -c 'import hashlib, sys
e = hashlib.sha256(b"seal:lock:tpm-late").digest()
print("0x" + hashlib.sha256(bytes(32) + e).hexdigest())')
mkdir -p /run/seal
touch /run/seal/tpm-not-locked
on_exit "rm -f /run/seal/tpm-not-locked"
swtpm_restart
ktap_same "swtpm restarted: PCR 15 at its reset value" "$(swtpm_pcr15)" "$pcr15"
ktap_expect "late TPM, no udev: open --test-passphrase --token-only unseals nothing: exit 12" 12 \
	"token 0 \(seal-tpm2\): PCR values differ from the sealed policy" \
	"$SEALCTL" open --test-passphrase --token-only "$dev" --tcti "$honest"
ktap_same "... PCR 15 moved by the udev rule's event (seal:lock:tpm-late)" "$(pcr15_lc)" "$late"
swtpm_restart
ktap_same "swtpm restarted: PCR 15 at its reset value again" "$(swtpm_pcr15)" "$pcr15"
if [ -z "$TOKEN_DIR" ]; then
	ktap_fail "late TPM: cryptsetup through our plugin" "cannot tell libcryptsetup's plugin directory"
else
	export SEAL_TCTI=$honest
	ktap_check_fails "late TPM, no udev: cryptsetup --token-only through our plugin unlocks nothing" \
		with_plugin cryptsetup open --test-passphrase --token-only --token-type seal-tpm2 "$dev" \
		</dev/null
	unset SEAL_TCTI
fi
# (should libcryptsetup ask the token twice, the second call finds PCR 15 moved: no extend)
ktap_same "... PCR 15 moved by the udev rule's event, once" "$(pcr15_lc)" "$late"
ktap_end
