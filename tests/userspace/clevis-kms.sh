#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The KMS interface is the clevis pin interface: a test-only pin, testkms
# (helpers/clevis-encrypt-testkms, clevis-decrypt-testkms), whose key
# service answers on a UNIX socket (helpers/testkms-server.py), plugs into
# sealctl enroll clevis / open / list with no change to sealctl, alone and
# as shares of an sss threshold. No network.
. "$(dirname "$0")/helpers/common.sh"
require clevis jose socat cryptsetup python3 setsid

ktap_begin 8
printf 'first passphrase' >"$WORK/p1"
# clevis finds pins on PATH
export PATH=$HELPERS:$PATH
S() { setsid -w "$SEALCTL" "$@"; }

declare -a KMS_PID
kms_start()
{
	local i
	rm -f "$WORK/kms$1.sock"
	python3 "$HELPERS/testkms-server.py" "$WORK/kms$1.sock" &
	KMS_PID[$1]=$!
	SEAL_PIDS+=("$!")
	for i in $(seq 100); do
		[ -S "$WORK/kms$1.sock" ] && return 0
		sleep 0.05
	done
	echo "# key service $1 did not start" >&2
	exit 1
}
kms_stop() { kill "${KMS_PID[$1]}"; wait "${KMS_PID[$1]}" 2>/dev/null; }

kms_start 1
kms_start 2
img=$WORK/img
new_image "$img"
"$SEALCTL" format "$img" -d "$WORK/p1" >/dev/null 2>&1
ktap_expect "enroll clevis testkms: a keyslot whose KEK the key service wraps" 0 \
	"clevis testkms enrolled in keyslot 1" \
	S enroll "$img" clevis testkms "{\"socket\":\"$WORK/kms1.sock\"}" -d "$WORK/p1"
ktap_same "list: keyslot 1 is bound to the testkms pin" \
	"$("$SEALCTL" list "$img" | awk '$1 == 1 { print $2, $5 }')" "clevis testkms"
ktap_expect "open unlocks through the key service, unattended" 0 "keyslot 1 unlocks the volume" \
	S open "$img" --test-passphrase --token-only
kms_stop 1
kms_start 1
ktap_expect "the service lost its keys (restarted): the token fails (exit 25), one line" 25 \
	"token 0 \(clevis\): clevis decrypt failed: testkms: the key service at .* has no key" \
	S open "$img" --test-passphrase --token-only
ktap_expect "... and open falls through to the key file" 0 "keyslot 0 unlocks the volume" \
	S open "$img" --test-passphrase -d "$WORK/p1"

# two key services, both needed
cfg=$(printf '{"t":2,"pins":{"testkms":[{"socket":"%s"},{"socket":"%s"}]}}' \
	"$WORK/kms1.sock" "$WORK/kms2.sock")
ktap_expect "enroll clevis sss t=2 over two key services" 0 "clevis sss enrolled in keyslot 2" \
	S enroll "$img" clevis sss "$cfg" -d "$WORK/p1"
ktap_expect "both up: unlocks (keyslot 2)" 0 "keyslot 2 unlocks the volume" \
	S open "$img" --test-passphrase --token-only
kms_stop 2
ktap_expect "one of the two down: no unattended unlock (exit 25)" 25 "token 1 \(clevis\): clevis decrypt failed" \
	S open "$img" --test-passphrase --token-only

ktap_end
