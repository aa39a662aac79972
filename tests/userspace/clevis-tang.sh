#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# KEKs off the box through clevis and tang, on image files, with Debian's
# clevis, tang and jose: tang servers (tangd behind socat) on 127.0.0.1 only.
# enroll tang (thumbprint right, wrong, missing without a terminal), the
# standard clevis token both ways (clevis luks list/pass on our volume, our
# open on a `clevis luks bind` volume), unattended open, a hung server within
# --clevis-timeout, sss t=2 of 3 with one and two servers down, sss of tang
# and clevis's tpm2 pin (swtpm) with either missing (its unseal measured, even when it
# opened no keyslot, and in regen), regen after a key
# rotation, removing one server's keyslot, list and
# --json, a malformed token, and the KEK never in any argv or environment.
. "$(dirname "$0")/helpers/common.sh"
require clevis tpm2_pcrread jose socat curl cryptsetup jq python3 setsid swtpm /usr/libexec/tangd

ktap_begin 41
printf 'first passphrase' >"$WORK/p1"
# no controlling terminal: nothing may be confirmed by a person
S() { setsid -w "$SEALCTL" "$@"; }

# tang_listen N tangd|hung CMD: serve tang server N's port with socat, CMD per connection.
# A restart must take the same port (the bindings name it), which a connection of the
# stopped server keeps for a while (a socat child holds the listening socket until its
# connection ends or -T10 runs out): tried again for up to 30 s of the clock.
declare -a TANG_PORT TANG_PID TANG_URL TANG_TP
tang_listen()
{
	local n=$1 until=$((SECONDS + 30)) opts=()
	# tangd's connections end when idle; a hung server's are held as long as it sleeps
	[ "$2" = tangd ] && opts=(-T10 -t0.05)
	while :; do
		socat "${opts[@]}" TCP-LISTEN:"${TANG_PORT[n]}",bind=127.0.0.1,reuseaddr,fork \
			EXEC:"$3" 2>/dev/null &
		TANG_PID[n]=$!
		SEAL_PIDS+=("$!")
		wait_port "${TANG_PORT[n]}" && kill -0 "${TANG_PID[n]}" 2>/dev/null && return 0
		tang_stop "$n"
		[ $SECONDS -lt $until ] || { echo "# tang $n ($2) did not start" >&2; exit 1; }
		sleep 1
	done
}

# tang_start N: tang server N (keys in $WORK/tangN) on a free port, TANG_URL[N], TANG_TP[N]
tang_start()
{
	local n=$1 db=$WORK/tang$1
	if [ ! -d "$db" ]; then
		mkdir -p "$db"
		/usr/libexec/tangd-keygen "$db"
		TANG_PORT[n]=$(free_port_pair)
	fi
	tang_listen "$n" tangd "/usr/libexec/tangd $db"
	TANG_URL[n]=http://127.0.0.1:${TANG_PORT[n]}
	# tangd-keygen names each key file by its thumbprint
	TANG_TP[n]=$(basename "$(grep -l '"verify"' "$db"/*.jwk)" .jwk)
}
tang_stop() { kill "${TANG_PID[$1]}" 2>/dev/null; wait "${TANG_PID[$1]}" 2>/dev/null; }
# tang_hang N: a server that accepts and never answers, in place of server N
tang_hang()
{
	tang_stop "$1"
	tang_listen "$1" hung "sleep 60"
}

tang_start 1
tang_start 2
tang_start 3

img=$WORK/img
new_image "$img"
"$SEALCTL" format "$img" -d "$WORK/p1" >/dev/null 2>&1
before=$(hdr_hash "$img")
ktap_expect "enroll tang without --thumbprint and no terminal: refused (exit 26), key shown" 26 \
	"advertises the signing key ${TANG_TP[1]}: not trusted \(pass --thumbprint" \
	S enroll "$img" tang "${TANG_URL[1]}" -d "$WORK/p1"
ktap_expect "enroll tang with a wrong --thumbprint: refused (exit 26)" 26 \
	"--thumbprint names none of its signing keys" \
	S enroll "$img" tang "${TANG_URL[1]}" -d "$WORK/p1" --thumbprint "${TANG_TP[2]}"
ktap_same "refused enrollments leave the header as it was" "$(hdr_hash "$img")" "$before"
ktap_expect "enroll tang with the server's thumbprint" 0 "clevis tang enrolled in keyslot 1" \
	S enroll "$img" tang "${TANG_URL[1]}" -d "$WORK/p1" --thumbprint "${TANG_TP[1]}"
token=$(cryptsetup token export --token-id 0 "$img")
ktap_same "the token is clevis's own: type, keyslots, a JWE in JSON serialization" \
	"$(jq -c '[.type, .keyslots, (.jwe | keys)]' <<<"$token")" \
	'["clevis",["1"],["ciphertext","encrypted_key","iv","protected","tag"]]'
ktap_expect "clevis luks list reads our binding" 0 "^1: tang '\{\"url\":\"${TANG_URL[1]}\"" \
	clevis luks list -d "$img"
clevis luks pass -d "$img" -s 1 >"$WORK/kek" 2>/dev/null
ktap_expect "clevis luks pass recovers a KEK that opens keyslot 1 in stock cryptsetup" 0 \
	"Key slot 1 unlocked" \
	cryptsetup open -v --test-passphrase --key-slot 1 --key-file "$WORK/kek" "$img"

# the KEK in argv or the environment of any process while open runs?
( while :; do cat /proc/[0-9]*/cmdline /proc/[0-9]*/environ 2>/dev/null | tr '\0' '\n'; sleep 0.02; done ) \
	>"$WORK/procs" &
scan=$!
start=$(date +%s%N)
ktap_expect "open unlocks through the tang token, no prompt, no key file" 0 \
	"keyslot 1 unlocks the volume" S open "$img" --test-passphrase --token-only
ms=$((($(date +%s%N) - start) / 1000000))
kill $scan; wait $scan 2>/dev/null
ktap_diag "unlock through tang: $ms ms"
grep -q "clevis" "$WORK/procs" && ! grep -qF "$(cat "$WORK/kek")" "$WORK/procs"
ktap_result "while it ran, the KEK was in no process's argv or environment (clevis was seen)" $?

out=$("$SEALCTL" list "$img")
ktap_same "list: keyslot 1 is a clevis tang binding" \
	"$(awk '$1 == 1 { print $2, $3, $5 }' <<<"$out")" "clevis 0 tang(${TANG_URL[1]})"
"$SEALCTL" list --json "$img" >"$WORK/list.json"
schema_ok() { "$HELPERS/schema-check.py" "$TOP/Documentation/sealctl-json.schema.json" list <"$1"; }
ktap_check "list --json matches sealctl-json.schema.json" schema_ok "$WORK/list.json"
ktap_same "list --json: keyslot 1's binding" "$(jq -c '.keyslots[1].clevis' "$WORK/list.json")" \
	"{\"pin\":\"tang\",\"url\":\"${TANG_URL[1]}\"}"

# a server that accepts and never answers: the token gives up after --clevis-timeout
tang_hang 1
start=$(date +%s)
ktap_expect "tang hung, --token-only: exit 25 after --clevis-timeout" 25 \
	"token 0 \(clevis\): clevis decrypt took longer than 2 s \(no answer from tang\(${TANG_URL[1]}\)\)" \
	S open "$img" --test-passphrase --token-only --clevis-timeout 2
secs=$(($(date +%s) - start))
ktap_same "... within the bound, not the server's 60 s (took ${secs} s)" "$((secs <= 8))" 1
ktap_expect "tang hung: falls through to the key file" 0 "keyslot 0 unlocks the volume" \
	S open "$img" --test-passphrase --clevis-timeout 1 -d "$WORK/p1"
ktap_same "no clevis or curl of the timed-out token is left running" \
	"$(pgrep -f "curl.*127.0.0.1:${TANG_PORT[1]}" | wc -l)" 0
tang_stop 1
ktap_expect "tang down: falls through to the key file" 0 "keyslot 0 unlocks the volume" \
	S open "$img" --test-passphrase -d "$WORK/p1"
tang_start 1

# Shamir: any 2 of 3 tang servers; the thumbprints as a list
sss=$WORK/sss
new_image "$sss"
"$SEALCTL" format "$sss" -d "$WORK/p1" >/dev/null 2>&1
cfg=$(printf '{"t":2,"pins":{"tang":[{"url":"%s"},{"url":"%s"},{"url":"%s"}]}}' \
	"${TANG_URL[1]}" "${TANG_URL[2]}" "${TANG_URL[3]}")
ktap_expect "enroll clevis sss t=2 of 3 tang, one thumbprint missing: refused (exit 26)" 26 \
	"${TANG_URL[3]}: --thumbprint names none" \
	S enroll "$sss" clevis sss "$cfg" -d "$WORK/p1" --thumbprint "${TANG_TP[1]},${TANG_TP[2]}"
ktap_expect "enroll clevis sss t=2 of 3 tang, --thumbprint listing all three" 0 \
	"clevis sss enrolled in keyslot 1" \
	S enroll "$sss" clevis sss "$cfg" -d "$WORK/p1" --clevis-timeout 60 \
	--thumbprint "${TANG_TP[1]},${TANG_TP[2]},${TANG_TP[3]}"
ktap_same "list shows the threshold and the three servers" \
	"$("$SEALCTL" list "$sss" | sed -n 's/^1 .*pbkdf2 *//p')" \
	"sss(t=2: tang(${TANG_URL[1]}) tang(${TANG_URL[2]}) tang(${TANG_URL[3]}))"
tang_stop 2
ktap_expect "sss t=2: one server of three down, still unattended" 0 "keyslot 1 unlocks the volume" \
	S open "$sss" --test-passphrase --token-only --clevis-timeout 30
tang_stop 3
ktap_expect "sss t=2: two servers down, the token fails (exit 25)" 25 "token 0 \(clevis\): clevis decrypt failed" \
	S open "$sss" --test-passphrase --token-only --clevis-timeout 30
tang_start 2
tang_start 3

# this machine's TPM and a tang server, both needed (clevis's tpm2 pin, on swtpm)
swtpm_start
both=$WORK/both
new_image "$both"
"$SEALCTL" format "$both" -d "$WORK/p1" >/dev/null 2>&1
ktap_expect "enroll clevis sss t=2 of tang and tpm2" 0 "clevis sss enrolled in keyslot 1" \
	S enroll "$both" clevis sss "{\"t\":2,\"pins\":{\"tang\":[{\"url\":\"${TANG_URL[3]}\"}],\"tpm2\":{\"pcr_ids\":\"7\"}}}" \
	-d "$WORK/p1" --thumbprint "${TANG_TP[3]}" --clevis-timeout 60
# pcr15_moved NAME CMD...: CMD's result is checked before; then one result: PCR 15 was at
# its reset value before CMD and is not after it.
zero=0x0000000000000000000000000000000000000000000000000000000000000000
pcr15_moved()
{
	local name=$1 before after
	shift
	before=$(tpm2_pcrread sha256:15 2>&1)
	"$@"
	after=$(tpm2_pcrread sha256:15 2>&1)
	ktap_diag "PCR 15 before: ${before//$'\n'/ }; after: ${after//$'\n'/ }"
	ktap_same "$name" "$([[ $before == *$zero* && $after == *15:\ 0x* && $after != *$zero* ]] &&
		echo moved)" moved
}
# clevis's tpm2 pin extends nothing: sealctl measures a secret that came out of the TPM
pcr15_moved "... and PCR 15 moved (the tpm2 pin's unseal is measured)" \
	ktap_expect "tang and TPM there: unattended" 0 "keyslot 1 unlocks the volume" \
	S open "$both" --test-passphrase --token-only --clevis-timeout 30
# a tpm2 pin that unseals a secret opening no keyslot (its token pointed at the
# passphrase's): the unseal is measured all the same
swtpm_reboot
wrong=$WORK/wrong-slot
cp "$both" "$wrong"
cryptsetup token export --token-id 0 "$both" | jq -c '.keyslots = ["0"]' >"$WORK/wrong.json"
cryptsetup token remove --token-id 0 "$wrong"
cryptsetup token import --token-id 0 --json-file "$WORK/wrong.json" "$wrong"
pcr15_moved "... and PCR 15 moved (the unseal that opened nothing is measured)" \
	ktap_expect "a tpm2 pin's secret that opens no keyslot: exit 17" 17 \
	"token 0 \(clevis\): the decrypted key opens no keyslot \(keyslot 0\)" \
	S open "$wrong" --test-passphrase --token-only --clevis-timeout 30
# regen unlocks through the keyslot's own token: its tpm2 pin's unseal is measured too
swtpm_reboot
cp "$both" "$WORK/both-regen"
pcr15_moved "... and PCR 15 moved (regen's tpm2 pin unseal is measured)" \
	ktap_expect "regen of the sss(tang, tpm2) keyslot through its own token" 0 \
	"keyslot 1 replaced by keyslot 2" \
	S regen "$WORK/both-regen" 1 --thumbprint "${TANG_TP[3]}" --clevis-timeout 60
tang_stop 3
ktap_expect "TPM there, tang down: no unattended unlock (exit 25)" 25 "token 0 \(clevis\): clevis decrypt failed" \
	S open "$both" --test-passphrase --token-only --clevis-timeout 30
tang_start 3
swtpm_stop
ktap_expect "tang there, TPM gone: no unattended unlock (exit 25)" 25 "token 0 \(clevis\): clevis decrypt failed" \
	S open "$both" --test-passphrase --token-only --clevis-timeout 30

# the other way round: a volume bound by clevis luks bind opens with sealctl
ours=$WORK/bound
new_image "$ours"
"$SEALCTL" format "$ours" -d "$WORK/p1" >/dev/null 2>&1
clevis luks bind -y -k "$WORK/p1" -d "$ours" tang "{\"url\":\"${TANG_URL[2]}\"}" >/dev/null 2>&1
ktap_expect "a volume bound with clevis luks bind: open unlocks through its token" 0 \
	"keyslot 1 unlocks the volume" S open "$ours" --test-passphrase --token-only

# per-server copies: rotate one server's keys away, re-bind, decommission it
ktap_expect "enroll a second server's copy" 0 "clevis tang enrolled in keyslot 2" \
	S enroll "$img" tang "${TANG_URL[2]}" -d "$WORK/p1" --thumbprint "${TANG_TP[2]}"
cp "$img" "$WORK/img.before-regen"
/usr/libexec/tangd-rotate-keys -d "$WORK/tang1" >/dev/null 2>&1
newtp=$(basename "$(grep -l '"verify"' "$WORK/tang1"/[!.]*.jwk)" .jwk)
ktap_expect "regen: the rotated server's new key, not confirmed: refused (exit 26)" 26 \
	"advertises the signing key $newtp: not trusted" S regen "$img" 1
ktap_expect "regen binds keyslot 1 again, to the new keys (its own token unlocks, no passphrase)" 0 \
	"keyslot 1 replaced by keyslot 3" S regen "$img" 1 --thumbprint "$newtp"
rm -f "$WORK/tang1"/.*.jwk
tang_stop 2
ktap_expect "old keys deleted, server 2 down: the re-bound keyslot unlocks through server 1" 0 \
	"keyslot 3 unlocks the volume" S open "$img" --test-passphrase --token-only
ktap_expect "a header copy from before regen no longer unlocks through server 1" 25 \
	"token 0 \(clevis\): clevis decrypt failed" \
	S open "$WORK/img.before-regen" --test-passphrase --token-only
tang_start 2
"$SEALCTL" remove-slot "$img" 3 -d "$WORK/p1" >/dev/null 2>&1
tang_stop 1
ktap_expect "server 1's keyslot removed (server down too): server 2's keyslot still unlocks" 0 \
	"keyslot 2 unlocks the volume" S open "$img" --test-passphrase --token-only

# a malformed clevis token: one line, exit 17, nothing written
bad=$WORK/bad
new_image "$bad"
"$SEALCTL" format "$bad" -d "$WORK/p1" >/dev/null 2>&1
printf '{"type":"clevis","keyslots":["0"],"jwe":{"protected":"e30","iv":"", "ciphertext":"x","tag":"y","encrypted_key":""}}' |
	cryptsetup token import "$bad"
before=$(hdr_hash "$bad")
ktap_expect "a malformed clevis token: one clear line, exit 17" 17 \
	"token 0 \(clevis\): malformed: \"jwe\" has an empty" \
	S open "$bad" --test-passphrase --token-only
ktap_expect "list names the malformed token" 0 "0 +clevis +0 +argon2id +token malformed" \
	"$SEALCTL" list "$bad"
ktap_same "... and the header is unchanged" "$(hdr_hash "$bad")" "$before"

ktap_end
