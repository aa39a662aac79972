#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A recording proxy between tpm2-tss and swtpm captures every byte on the TPM
# interface (command and control channels). The sealed secret must never
# cross it in clear - at enrollment or at unseal - in any encoding (raw,
# hex, base64). Control: the test-only plaintext-session variant of the same
# code WOULD expose it, so this test can fail.
. "$(dirname "$0")/helpers/common.sh"
require swtpm cryptsetup python3

ktap_begin
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

# An active interposer that swallows PCR_Event and forges its success: the extend is read
# back, so the unsealed secret is discarded unused (the keyslot is not opened) and lock-tpm
# fails; PCR 15 is still at its reset value, so a real unseal afterwards still works.
pcr15() { tpm2_pcrread sha256:15 | sed -n 's/.*15 *: *0x//p'; }
swtpm_reboot
reset=$(pcr15)
proxy_start "$WORK/drop.cap" drop-pcr-event
ktap_expect "a dropped PCR 15 extend after an unseal: refused, the secret unused (exit 16)" 16 \
	"PCR 15 could not be extended: the secret was discarded" \
	"$SEALCTL" open --test-passphrase --token-only "$img"
ktap_expect "a dropped PCR 15 extend: lock-tpm fails (exit 16)" 16 \
	"cannot extend PCR 15: .*did not take the extend" "$SEALCTL" lock-tpm
proxy_stop
ktap_same "the interposer kept PCR 15 at its reset value" "$(pcr15)" "$reset"
ktap_expect "lock-tpm extends PCR 15 on a TPM that takes it" 0 "" "$SEALCTL" lock-tpm test
ktap_expect "after lock-tpm the token refuses (exit 12)" 12 "PCR values differ" \
	"$SEALCTL" open --test-passphrase --token-only "$img"
ktap_expect "lock-tpm: a bad reason is a usage error (exit 2)" 2 "invalid reason" \
	"$SEALCTL" lock-tpm 'Bad Reason'
ktap_expect "lock-tpm without a TPM: exit 11" 11 "no TPM2 reachable" \
	env SEAL_TCTI="$(no_tpm_tcti)" "$SEALCTL" lock-tpm

ktap_end
