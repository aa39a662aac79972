#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A guest without a TPM: a volume enrolled elsewhere (a swtpm inside the guest, stopped
# before the checks) has a seal-tpm2 token that cannot be used. Unattended open says so
# and exits 11 (TPM absent) leaving nothing behind; with a terminal or a key file it falls
# back to the passphrase and opens; enroll tpm2 exits 11 and leaves the header alone.
# Then the same swtpm again, behind an active interposer (tests/userspace/helpers/
# tpm-proxy.py forge-pcr-read: PCR 15's extend swallowed, PCR_Event's and PCR_Read's
# answers forged): the TPM unlock discards its secret, a key-file unlock is undone, each
# with exit 21 and no mapping or keyring key left.
# vm-options: --scratch 64
# vm-timeout: 600
. "$SEAL_ROOT/tests/lib/ktap.sh"
. "$SEAL_ROOT/tests/lib/guest.sh"
. "$SEAL_ROOT/tests/kernel/sealctl-common.sh"

ktap_begin 22
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
ktap_end
