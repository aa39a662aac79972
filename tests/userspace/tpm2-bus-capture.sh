#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A recording proxy between tpm2-tss and swtpm captures every byte on the TPM
# interface (command and control channels). The sealed secret must never
# cross it in clear - at enrollment or at unseal - in any encoding (raw,
# hex, base64). Control: the test-only plaintext-session variant of the same
# code WOULD expose it, so this test can fail. The same proxy then plays an
# active interposer that swallows PCR 15's extend and forges the TPM's answers
# (PCR_Event, PCR_Read): the unsealed secret must be discarded unused.
# Encrypted is not enough: a session that is not salted to a TPM key has a session key
# anyone who saw the nonces on the bus can compute (nothing secret goes into it). Every
# TPM2_StartAuthSession that enroll, open, the plugin and lock-tpm send must name a tpmKey
# and carry an encryptedSalt; control: the plaintext variant's session fails that check.
. "$(dirname "$0")/helpers/common.sh"
require swtpm cryptsetup python3

ktap_begin 38
img=$WORK/img
printf 'admin passphrase' >"$WORK/pass"
swtpm_start

# proxy_start CAPTURE [MODE]: route SEAL_TCTI through a new recording proxy
proxy_start()
{
	local port
	port=$(free_port_pair)
	rm -f "$WORK/ready"
	python3 "$HELPERS/tpm-proxy.py" "$port" "$SWTPM_PORT" "$1" "$WORK/ready" ${2:-} &
	SEAL_PIDS+=("$!")
	PROXY_PID=$!
	for _ in $(seq 100); do [ -e "$WORK/ready" ] && break; sleep 0.05; done
	export SEAL_TCTI="swtpm:host=127.0.0.1,port=$port"
}

proxy_stop()
{
	kill "$PROXY_PID" 2>/dev/null
	wait "$PROXY_PID" 2>/dev/null
	export SEAL_TCTI="swtpm:host=127.0.0.1,port=$SWTPM_PORT"
}

# hits NAME CAPTURE HEX WANT: WANT is "zero" or "some"
hits()
{
	local counts total
	counts=$(python3 "$HELPERS/count-secret.py" "$2" "$3")
	total=$(printf '%s\n' "$counts" | sed -n 's/.*total=\([0-9]*\).*/\1/p')
	ktap_diag "$1: $counts"
	if { [ "$4" = zero ] && [ "$total" = 0 ]; } || { [ "$4" = some ] && [ "$total" -gt 0 ]; }; then
		ktap_result "$1" 0
	else
		ktap_result "$1" 1
	fi
}

new_image "$img"
"$SEALCTL" format "$img" -d "$WORK/pass" 2>/dev/null

proxy_start "$WORK/enroll.cap"
ktap_expect "enroll tpm2 through the proxy" 0 "tpm2 enrolled" \
	"$SEALCTL" enroll "$img" tpm2 -d "$WORK/pass"
proxy_stop

proxy_start "$WORK/unseal.cap"
ktap_expect "unseal through the proxy" 0 "keyslot 1 unlocks" \
	"$SEALCTL" open --test-passphrase --token-only "$img"
proxy_stop

swtpm_reboot
proxy_start "$WORK/plugin.cap"
ktap_expect "unseal by stock cryptsetup + plugin through the proxy" 0 "Key slot 1 unlocked" \
	with_plugin cryptsetup open -v --test-passphrase --token-only --token-type seal-tpm2 "$img"
proxy_stop
# libcryptsetup asks the plugin twice for one open; the plugin unsealed once and measured
ktap_expect "the plugin measured its unseal: a second stock cryptsetup open is refused" 1 \
	"PCR values differ from the sealed policy" \
	with_plugin cryptsetup open -v --test-passphrase --token-only --token-type seal-tpm2 "$img"

# salted CAPTURE: CAPTURE.sessions (the proxy's StartAuthSession log) lists one session or more,
# each salted to a TPM key (tpmKey not TPM_RH_NULL, a non-empty encryptedSalt)
salted()
{
	local log=$1.sessions
	[ -s "$log" ] || { echo "no StartAuthSession"; return 1; }
	! grep -v -E 'tpmKey=0x(8[0-9a-f]{7}) .*salt=[1-9]' "$log"
}

# the secret, read back directly (not through the proxy)
swtpm_reboot
secret=$("$TOOL" unseal-token "$img" 0)
ktap_expect "the secret searched for is the real keyslot passphrase" 0 "Command successful" \
	cryptsetup open -v --test-passphrase --key-slot 1 \
	--key-file <(hex_to_b64 "$secret") "$img"
test -s "$WORK/enroll.cap" && test -s "$WORK/unseal.cap" && test -s "$WORK/plugin.cap"
ktap_result "captures are not empty" $?
hits "enrollment capture: secret never in clear" "$WORK/enroll.cap" "$secret" zero
hits "unseal capture: secret never in clear" "$WORK/unseal.cap" "$secret" zero
hits "plugin unseal capture: secret never in clear" "$WORK/plugin.cap" "$secret" zero
ktap_check "enrollment capture: every session salted to a TPM key" salted "$WORK/enroll.cap"
ktap_check "unseal capture (unseal, PCR 15 extend): every session salted to a TPM key" \
	salted "$WORK/unseal.cap"
ktap_check "plugin unseal capture: every session salted to a TPM key" salted "$WORK/plugin.cap"

# control: the same seal + unseal with plaintext sessions exposes the secret
control=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
proxy_start "$WORK/encrypted.cap"
ktap_expect "control, encrypted sessions: round trip" 0 "^$control" "$TOOL" roundtrip "$control"
proxy_stop
proxy_start "$WORK/plaintext.cap"
ktap_expect "control, plaintext sessions: round trip" 0 "^$control" \
	"$TOOL" --plaintext roundtrip "$control"
proxy_stop
hits "control, encrypted sessions: secret not visible" "$WORK/encrypted.cap" "$control" zero
hits "control, plaintext sessions: secret visible (the capture works)" \
	"$WORK/plaintext.cap" "$control" some
ktap_check_fails "control, plaintext sessions: an unsalted session seen (the salt check works)" \
	salted "$WORK/plaintext.cap"

# An active interposer that swallows PCR_Event and forges its success (drop-pcr-event), and
# one that also forges PCR_Read to show PCR 15 moved (forge-pcr-read; a fresh one for each
# command, so that the pre-check's PCR_Read still shows the reset value). The extend runs in
# an HMAC session salted to the primary key and the read-back in an audit session, so
# neither forgery verifies: the unsealed secret is discarded unused (no keyslot is opened,
# by sealctl or by the plugin) and lock-tpm fails, each with exit 21, and PCR 15 is still at
# its reset value after each.
# pcr15: read past the proxy on purpose (tpm2-tools use TPM2TOOLS_TCTI, swtpm itself, set by
# common.sh; sealctl and the plugin use SEAL_TCTI, the proxy): the truth, not the forgery.
pcr15() { tpm2_pcrread sha256:15 | sed -n 's/.*15 *: *0x//p'; }
swtpm_reboot
reset=$(pcr15)
for mode in drop-pcr-event forge-pcr-read; do
	proxy_start "$WORK/$mode.cap" "$mode"
	out=$("$SEALCTL" open --test-passphrase --token-only "$img" 2>&1)
	ktap_same "$mode: after an unseal, open --test-passphrase exits 21" "$?" 21
	ktap_diag "$out"
	ktap_check "$mode: ... saying the secret was discarded" \
		grep -q "PCR 15 extend not confirmed by the TPM: the secret was discarded" <<<"$out"
	ktap_check_fails "$mode: ... and no keyslot was opened" grep -qi "keyslot.*unlock" <<<"$out"
	proxy_stop
	proxy_start "$WORK/$mode-plugin.cap" "$mode"
	ktap_expect "$mode: the plugin discards its unsealed secret, stock cryptsetup opens nothing" 1 \
		"seal-tpm2 token 0: unsealed, but PCR 15 extend not confirmed by the TPM" \
		with_plugin cryptsetup open -v --test-passphrase --token-only --token-type seal-tpm2 "$img"
	proxy_stop
	proxy_start "$WORK/$mode-lock.cap" "$mode"
	ktap_expect "$mode: lock-tpm fails (exit 21)" 21 \
		"cannot extend PCR 15: the TPM's answer is not authentic" "$SEALCTL" lock-tpm
	proxy_stop
	ktap_same "$mode: the interposer kept PCR 15 at its reset value" "$(pcr15)" "$reset"
done
# The read-back is authenticated too: an interposer that passes PCR_Event but alters what
# PCR_Read shows is caught at the PCR_Read, not taken for a PCR that did not move.
proxy_start "$WORK/tamper.cap" tamper-pcr-read
ktap_expect "tamper-pcr-read: lock-tpm refuses the altered PCR_Read answer (exit 21)" 21 \
	"cannot extend PCR 15: .*Esys_PCR_Read: .*Authorizing the TPM response failed" \
	"$SEALCTL" lock-tpm
proxy_stop

# A SIGTERM while the TPM's answer to the unseal is on its way (hold-unseal: the proxy holds it
# 3 s): sealctl blocks signals from the unseal to the extend, so the signal ends it only after
# PCR 15 has moved, and the secret it got cannot be had a second time.
swtpm_reboot
reset=$(pcr15)
proxy_start "$WORK/hold.cap" hold-unseal
rm -f "$WORK/ready.unseal"
"$SEALCTL" open --test-passphrase --token-only "$img" >"$WORK/hold.out" 2>&1 &
pid=$!
for _ in $(seq 200); do [ -e "$WORK/ready.unseal" ] && break; sleep 0.05; done
[ -e "$WORK/ready.unseal" ] || ktap_diag "the unseal never reached the proxy"
kill -TERM "$pid" 2>/dev/null
wait "$pid"
rc=$?
ktap_diag "sealctl exited $rc: $(cat "$WORK/hold.out")"
proxy_stop
ktap_result "SIGTERM while the unseal is in flight: sealctl is ended by it, unlocking nothing" \
	$([ -e "$WORK/ready.unseal" ] && [ "$rc" = 143 ] && ! grep -qi "keyslot.*unlock" "$WORK/hold.out"; echo $?)
ktap_check_fails "SIGTERM while the unseal is in flight: ... after PCR 15 was extended" \
	test "$(pcr15)" = "$reset"
ktap_expect "SIGTERM while the unseal is in flight: ... so the TPM refuses a second unseal (exit 12)" 12 \
	"PCR values differ" "$SEALCTL" open --test-passphrase --token-only "$img"
swtpm_reboot

proxy_start "$WORK/lock.cap"
ktap_expect "lock-tpm extends PCR 15 on a TPM that takes it" 0 "" "$SEALCTL" lock-tpm test
proxy_stop
ktap_check "lock-tpm capture: its session salted to a TPM key" salted "$WORK/lock.cap"
ktap_expect "after lock-tpm the token refuses (exit 12)" 12 "PCR values differ" \
	"$SEALCTL" open --test-passphrase --token-only "$img"
ktap_expect "lock-tpm: a bad reason is a usage error (exit 2)" 2 "invalid reason" \
	"$SEALCTL" lock-tpm 'Bad Reason'
ktap_expect "lock-tpm without a TPM: exit 11" 11 "no TPM2 reachable" \
	env SEAL_TCTI="$(no_tpm_tcti)" "$SEALCTL" lock-tpm

ktap_end
