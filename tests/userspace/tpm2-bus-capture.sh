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
direct_tcti=$SEAL_TCTI

# proxy_start CAPTURE: route SEAL_TCTI through a new recording proxy
proxy_start()
{
	local port
	port=$(free_port_pair)
	rm -f "$WORK/ready"
	python3 "$HELPERS/tpm-proxy.py" "$port" "$SWTPM_PORT" "$1" "$WORK/ready" &
	SEAL_PIDS+=("$!")
	PROXY_PID=$!
	for _ in $(seq 100); do [ -e "$WORK/ready" ] && break; sleep 0.05; done
	export SEAL_TCTI="swtpm:host=127.0.0.1,port=$port"
}

proxy_stop()
{
	kill "$PROXY_PID" 2>/dev/null
	wait "$PROXY_PID" 2>/dev/null
	export SEAL_TCTI=$direct_tcti
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

proxy_start "$WORK/plugin.cap"
ktap_expect "unseal by stock cryptsetup + plugin through the proxy" 0 "Key slot 1 unlocked" \
	with_plugin cryptsetup open -v --test-passphrase --token-only --token-type seal-tpm2 "$img"
proxy_stop

# the secret, read back directly (not through the proxy)
secret=$("$TOOL" unseal-token "$img" 0)
ktap_expect "the secret searched for is the real keyslot passphrase" 0 "Command successful" \
	cryptsetup open -v --test-passphrase --key-slot 1 \
	--key-file <(hex_to_b64 "$secret") "$img"
test -s "$WORK/enroll.cap" && test -s "$WORK/unseal.cap"
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

ktap_end
