#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# sealctl list --json and status --json DEV on a volume with every kind of keyslot
# (passphrase, recovery, tpm2 with and without a PIN, a foreign token) and a token that
# unlocks nothing: the output is valid against Documentation/sealctl-json.schema.json
# (python3-jsonschema), and carries the facts as typed fields (PCR lists as arrays of
# integers, the bank, the PIN flag, token ids). The dracut module's PCR check reads it.
. "$(dirname "$0")/helpers/common.sh"
require swtpm cryptsetup jq /usr/bin/python3
schema=$TOP/Documentation/sealctl-json.schema.json

ktap_begin 18
img=$WORK/img
printf 'first passphrase' >"$WORK/p1"
printf 'second passphrase' >"$WORK/p2"
printf '2468' >"$WORK/pin"
swtpm_start

# valid DEF NAME: the JSON in $WORK/out is valid against the schema's definition DEF
valid()
{
	local why rc
	why=$("$HELPERS/schema-check.py" "$schema" "$1" <"$WORK/out" 2>&1)
	rc=$?
	[ $rc = 0 ] || ktap_diag "$why"
	ktap_result "$2" $rc
}

# is NAME JQ-FILTER: the filter holds for $WORK/out (its answer is true: jq 1.6's -e would
# pass an empty $WORK/out)
is()
{
	local rc
	[ "$(jq "$2" "$WORK/out" 2>/dev/null)" = true ]
	rc=$?
	[ $rc = 0 ] || ktap_diag "$(jq -c . "$WORK/out" 2>&1)"
	ktap_result "$1" $rc
}

new_image "$img"
"$SEALCTL" format "$img" -d "$WORK/p1" >/dev/null 2>&1 &&
	"$SEALCTL" enroll "$img" passphrase -d "$WORK/p1" --new-key-file "$WORK/p2" >/dev/null 2>&1 &&
	"$SEALCTL" enroll "$img" recovery -d "$WORK/p1" >/dev/null 2>&1 &&
	"$SEALCTL" enroll "$img" tpm2 -d "$WORK/p1" >/dev/null 2>&1 &&
	"$SEALCTL" enroll "$img" tpm2 -d "$WORK/p1" --pcrs 0,7 --pin --pin-file "$WORK/pin" \
		>/dev/null 2>&1
ktap_result "a volume with passphrase, recovery and two tpm2 keyslots" $?
# a foreign token on keyslot 1, and one assigned to no keyslot
printf '{"type":"example-foreign","keyslots":["1"]}' >"$WORK/foreign.json"
printf '{"type":"example-orphan","keyslots":[]}' >"$WORK/orphan.json"
cryptsetup token import --json-file "$WORK/foreign.json" "$img" &&
	cryptsetup token import --json-file "$WORK/orphan.json" "$img"
ktap_result "cryptsetup imports a foreign and an orphan token" $?

"$SEALCTL" list --json "$img" >"$WORK/out"
ktap_result "list --json exits 0" $?
valid list "list --json is valid against the schema (list)"
is "keyslot types in order" \
	'[.keyslots[] | [.keyslot, .type]] == [[0,"passphrase"],[1,"example-foreign"],[2,"recovery"],[3,"tpm2"],[4,"tpm2"]]'
is "device and uuid" ".device == \"$img\" and .uuid == \"$(cryptsetup luksUUID "$img")\""
is "tpm2 default: PCRs [7,15] as integers, bank sha256, 15 at its reset value, no PIN" \
	'.keyslots[3].tpm2 == {"bank":"sha256","pcrs":[7,15],"pcrs-at-reset":[15],"pin":false}'
is "tpm2 --pcrs 0,7 --pin: PCRs [0,7], none at reset, PIN set" \
	'.keyslots[4].tpm2 == {"bank":"sha256","pcrs":[0,7],"pcrs-at-reset":[],"pin":true}'
ids=$(cryptsetup luksDump --dump-json-metadata "$img" |
	jq -c '[.tokens | to_entries[] | select(.value.keyslots != []) | {(.value.keyslots[0]): (.key | tonumber)}] | add')
is "token ids are luksDump's, as integers; a passphrase has none" \
	"([.keyslots[] | select(.token) | {(.keyslot | tostring): .token}] | add) == $ids and (.keyslots[0] | has(\"token\") | not)"
is "the orphan token is a token problem" \
	'[.["token-problems"][] | .type + ": " + .problem] == ["example-orphan: assigned to no keyslot"]'
is "no free-text details" '[.keyslots[] | has("details")] | any | not'

"$SEALCTL" list "$img" >"$WORK/table"
grep -Eq '^3 +tpm2 +[0-9]+ +pbkdf2 +pcrs=7\+15 bank=sha256 pin=no at-reset=15$' "$WORK/table" &&
	grep -Eq '^4 +tpm2 +[0-9]+ +pbkdf2 +pcrs=0\+7 bank=sha256 pin=yes$' "$WORK/table" ||
	ktap_diag "$(cat "$WORK/table")"
ktap_result "the human table says the same" $?

"$SEALCTL" status --json "$img" >"$WORK/out"
ktap_result "status --json DEV exits 0" $?
valid status-volume "status --json DEV is valid against the schema (status-volume)"
is "status DEV: typed fields" '.keyslots == 5 and ."sector-size" == 4096 and ."key-bits" == 512 and
	.supported == true and ."data-offset" == 32768'
# a mapping is not asked for here: this host may have no dm-seal (tests/kernel/sealctl-open.sh)

# The schema rejects what it should: a PCR list as text, a tpm2 keyslot without its policy.
"$SEALCTL" list --json "$img" | jq '.keyslots[3].tpm2.pcrs = "7+15"' >"$WORK/out"
! "$HELPERS/schema-check.py" "$schema" list <"$WORK/out" >/dev/null
ktap_result "the schema refuses PCRs as a string" $?
"$SEALCTL" list --json "$img" | jq 'del(.keyslots[3].tpm2)' >"$WORK/out"
! "$HELPERS/schema-check.py" "$schema" list <"$WORK/out" >/dev/null
ktap_result "the schema refuses a tpm2 keyslot without tpm2 or problem" $?

# The dracut module's sealtab tpm2-pcrs= check, on this volume, through the real sealctl.
got=$(
	PATH=$UBUILD:$PATH
	warn() { :; }
	info() { :; }
	. "$TOP/dracut/90seal/seal-lib.sh"
	for want in 7 7+15 15,7 0+7 0,7,15 8; do
		seal_tpm2_pcrs_ok "$img" "$want" && echo -n y || echo -n n
	done
)
ktap_same "initramfs: tpm2-pcrs= 7, 7+15, 15,7, 0+7 are covered; 0,7,15 and 8 are not" "$got" yyyynn

ktap_end
