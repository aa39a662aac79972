#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The LUKS2 key envelope on plain image files, checked with stock cryptsetup:
# format, enroll tpm2|passphrase|recovery, list, status, rotate-kek,
# remove-slot, the seal-tpm2 plugin under stock cryptsetup, volumes made by
# cryptsetup luksFormat, and the passphrase prompt on a terminal.
. "$(dirname "$0")/helpers/common.sh"
require swtpm cryptsetup jq python3 unshare strace

ktap_begin 69
img=$WORK/img
printf 'first passphrase' >"$WORK/p1"
printf 'second passphrase' >"$WORK/p2"
printf 'third passphrase' >"$WORK/p3"
swtpm_start

# cryptsetup_ok NAME KEYFILE [ARGS]: stock cryptsetup accepts KEYFILE
cryptsetup_ok()
{
	local name=$1 key=$2
	shift 2
	ktap_expect "$name" 0 "Command successful" \
		cryptsetup open -v --test-passphrase --key-file "$key" "$@" "$img"
}

dump() { cryptsetup luksDump "$img"; }
slot_field() { dump | sed -n "/^  $1: luks2/,/Digest ID/p" | sed -n "s/^\t$2: *//p"; }

new_image "$img"
ktap_expect "format" 0 "formatted LUKS2 aes-xts-plain64, 512-bit key, 4096-byte sectors.*keyslot 0" \
	"$SEALCTL" format "$img" -d "$WORK/p1"
ktap_same "luksDump: cipher aes-xts-plain64" "$(dump | sed -n 's/^\tcipher: //p')" aes-xts-plain64
ktap_same "luksDump: 4096-byte sectors" "$(dump | sed -n 's/^\tsector: //p')" "4096 [bytes]"
ktap_same "luksDump: 512-bit key" "$(slot_field 0 Key)" "512 bits"
ktap_same "luksDump: keyslot 0 argon2id" "$(slot_field 0 PBKDF)" argon2id
cryptsetup_ok "stock cryptsetup accepts the format passphrase" "$WORK/p1"

# SEAL_TEST_FAST_PBKDF=1 (set for every test here) makes the test build's passphrase keyslot
# cheap; the installed sealctl ignores it and pays libcryptsetup's benchmarked Argon2id cost.
cost() { cryptsetup luksDump "$1" | sed -n '/^  0: luks2/,/Digest ID/p' |
	awk -F': *' '/PBKDF:|Time cost:|Memory:|Threads:/ { printf "%s ", $2 }'; }
ktap_same "the test build honours SEAL_TEST_FAST_PBKDF (4 iterations, 32 KiB, 1 thread)" \
	"$(cost "$img")" "argon2id 4 32 1 "
release=$WORK/release
new_image "$release"
"$RELEASE_SEALCTL" format "$release" -d "$WORK/p1" >/dev/null 2>&1
read -r kdf iter mem threads <<<"$(cost "$release")"
ktap_diag "installed sealctl with SEAL_TEST_FAST_PBKDF=1: $kdf, time cost $iter, $mem KiB, $threads threads"
[ "$kdf" = argon2id ] && [ "${mem:-0}" -ge 65536 ]
ktap_result "the installed sealctl ignores it: argon2id, at least 64 MiB (the benchmark's floor)" $?
rm -f "$release"
ktap_expect "format refuses a LUKS device (exit 7)" 7 "carries a crypto_LUKS signature" \
	"$SEALCTL" format "$img" -d "$WORK/p1"

ktap_expect "enroll passphrase" 0 "passphrase enrolled in keyslot 1" \
	"$SEALCTL" enroll "$img" passphrase -d "$WORK/p1" --new-key-file "$WORK/p2"
cryptsetup_ok "stock cryptsetup accepts the second passphrase" "$WORK/p2"
ktap_same "keyslot 1 argon2id" "$(slot_field 1 PBKDF)" argon2id

"$SEALCTL" enroll "$img" recovery -d "$WORK/p1" >"$WORK/recovery" 2>"$WORK/err"
ktap_result "enroll recovery" $?
grep -Eqx '([0-9a-f]{8}-){7}[0-9a-f]{8}' "$WORK/recovery"
ktap_result "recovery key printed once on stdout, 256 bits in 8 groups" $?
printf %s "$(cat "$WORK/recovery")" >"$WORK/recovery.key"
cryptsetup_ok "stock cryptsetup accepts the recovery key" "$WORK/recovery.key"

ktap_expect "enroll tpm2" 0 "tpm2 enrolled in keyslot 3" "$SEALCTL" enroll "$img" tpm2 -d "$WORK/p1"
ktap_same "tpm2 keyslot: pbkdf2, minimum cost" "$(slot_field 3 PBKDF)/$(slot_field 3 Iterations)" pbkdf2/1000
dump | grep -A1 -E '^  [0-9]+: seal-tpm2' | grep -q 'Keyslot: *3'
ktap_result "luksDump: seal-tpm2 token assigned to keyslot 3" $?

tok=$(cryptsetup token export --token-id "$(cryptsetup luksDump --dump-json-metadata "$img" |
	jq -r '.tokens | to_entries[] | select(.value.type=="seal-tpm2") | .key')" "$img")
printf '%s\n' "$tok" | jq_true '.type=="seal-tpm2" and .keyslots==["3"] and ."seal-version"==1
	and ."tpm2-pcr-bank"=="sha256" and ."tpm2-pcrs"==[7,15] and ."tpm2-pcrs-initial"==[15]
	and (."tpm2-policy-hash"|length)==64 and ."tpm2-primary-template"=="tcg-srk-ecc-p256"
	and (."tpm2-primary-name"|length)==68 and ."tpm2-pin"==false
	and (."tpm2-private"|length)>0 and (."tpm2-public"|length)>0'
ktap_result "token JSON carries every field" $?

out=$("$SEALCTL" list "$img")
printf '%s\n' "$out" | grep -Eq '^0 +passphrase' &&
	printf '%s\n' "$out" | grep -Eq '^1 +passphrase' &&
	printf '%s\n' "$out" | grep -Eq '^2 +recovery +[0-9]+ +argon2id' &&
	printf '%s\n' "$out" | grep -Eq '^3 +tpm2 +[0-9]+ +pbkdf2 +pcrs=7\+15 bank=sha256 pin=no at-reset=15'
ktap_result "list shows passphrase, recovery and tpm2 keyslots" $?
[ -n "$out" ] || ktap_diag "$out"
"$SEALCTL" list --json "$img" | jq_true '[.keyslots[].type]==["passphrase","passphrase","recovery","tpm2"]'
ktap_result "list --json" $?
"$SEALCTL" status --json "$img" | jq_true '.cipher=="aes-xts-plain64" and ."key-bits"==512 and
	."sector-size"==4096 and .keyslots==4 and .supported==true'
ktap_result "status --json of the volume" $?

ktap_expect "stock cryptsetup opens the tpm2 keyslot through the plugin" 0 "Key slot 3 unlocked" \
	with_plugin cryptsetup open -v --test-passphrase --token-only --token-type seal-tpm2 "$img"
ktap_expect "stock luksDump shows the token through the plugin" 0 "tpm2-pcrs: +7\+15" \
	with_plugin cryptsetup luksDump "$img"
swtpm_reboot # the plugin unsealed: PCR 15 moved; a new boot
ktap_expect "sealctl unlocks with the token" 0 "keyslot 3 unlocks" \
	"$SEALCTL" open --test-passphrase --token-only "$img"

# a foreign token (libcryptsetup's built-in luks2-keyring) goes through a
# keyslot context after the own tokens
ktap_expect "foreign token (luks2-keyring) unlocks when the TPM is away" 0 \
	"token 0 \(seal-tpm2\): no TPM2 reachable.*|keyslot 0 unlocks" \
	keyctl session - sh -c 'keyctl add user sealtest:p1 "$(cat "$1")" @s >/dev/null &&
		cryptsetup token add --key-description sealtest:p1 --key-slot 0 "$2" &&
		SEAL_TCTI=$3 "$4" open --test-passphrase --token-only "$2"' - \
	"$WORK/p1" "$img" "$(no_tpm_tcti)" "$SEALCTL"
ktap_same "... and it was the luks2-keyring token" \
	"$(keyctl session - sh -c 'keyctl add user sealtest:p1 "$(cat "$1")" @s >/dev/null &&
		SEAL_TCTI=$3 "$4" open --test-passphrase --token-only "$2" 2>&1' - \
		"$WORK/p1" "$img" "$(no_tpm_tcti)" "$SEALCTL" 2>/dev/null | tail -1)" \
	"sealctl: $img: keyslot 0 unlocks the volume"
ktap_expect "foreign token without its key: one line, then the next method" 0 \
	"token [0-9]+ \(luks2-keyring\): no usable key" \
	env SEAL_TCTI="$(no_tpm_tcti)" "$SEALCTL" open --test-passphrase -d "$WORK/p1" "$img"
cryptsetup token remove --token-id "$(cryptsetup luksDump --dump-json-metadata "$img" |
	jq -r '.tokens | to_entries[] | select(.value.type=="luks2-keyring") | .key')" "$img"

# rotate-kek: a new TPM secret, the old keyslot and token gone, data key kept
digest=$(dump | sed -n '/^Digests:/,$p' | sed -n 's/^\tDigest: *//p')
ktap_expect "rotate-kek (tpm2 keyslots)" 0 "keyslot 3 replaced by keyslot 4" \
	"$SEALCTL" rotate-kek "$img" -d "$WORK/p1"
"$SEALCTL" list --json "$img" | jq_true '[.keyslots[] | select(.type=="tpm2") | .keyslot]==[4]'
ktap_result "only the new tpm2 keyslot remains" $?
ktap_same "exactly one seal-tpm2 token" \
	"$(cryptsetup luksDump --dump-json-metadata "$img" | jq '[.tokens[] | select(.type=="seal-tpm2")] | length')" 1
ktap_same "the volume key digest is unchanged" \
	"$(dump | sed -n '/^Digests:/,$p' | sed -n 's/^\tDigest: *//p')" "$digest"
swtpm_reboot # a new boot: the unlocks above moved PCR 15
ktap_expect "rotated tpm2 keyslot unlocks" 0 "keyslot 4 unlocks" \
	"$SEALCTL" open --test-passphrase --token-only "$img"
ktap_expect "rotate-kek of passphrase keyslot 1" 0 "keyslot 1 replaced by keyslot 1|keyslot 1 replaced" \
	"$SEALCTL" rotate-kek "$img" 1 --no-tokens -d "$WORK/p2" --new-key-file "$WORK/p3"
ktap_expect "the old passphrase is gone" 2 "No key available" \
	cryptsetup open -v --test-passphrase --key-file "$WORK/p2" "$img"
cryptsetup_ok "the new passphrase works" "$WORK/p3"
cryptsetup_ok "the first passphrase still works" "$WORK/p1"
ktap_expect "rotate-kek of the recovery keyslot prints a new key" 0 "^([0-9a-f]{8}-){7}[0-9a-f]{8}$" \
	"$SEALCTL" rotate-kek "$img" 2 -d "$WORK/p1"
ktap_expect "the old recovery key is gone" 2 "No key available" \
	cryptsetup open -v --test-passphrase --key-file "$WORK/recovery.key" "$img"

# remove-slot
rec=$("$SEALCTL" list --json "$img" | jq '.keyslots[] | select(.type=="recovery") | .keyslot')
hash=$(hdr_hash "$img")
ktap_expect "remove-slot without the passphrase of a keyslot that stays: refused (exit 10)" 10 \
	"no passphrase source" "$SEALCTL" remove-slot "$img" "$rec"
ktap_expect "remove-slot with the passphrase of the keyslot itself: refused (exit 18)" 18 \
	"that passphrase opens keyslot 0 itself" "$SEALCTL" remove-slot "$img" 0 -d "$WORK/p1"
ktap_same "the refusals leave the header unchanged" "$(hdr_hash "$img")" "$hash"
ktap_expect "remove-slot (recovery)" 0 "keyslot $rec removed" \
	"$SEALCTL" remove-slot "$img" "$rec" -d "$WORK/p1"
ktap_same "its seal-recovery token went with it" \
	"$(cryptsetup luksDump --dump-json-metadata "$img" | jq '[.tokens[] | select(.type=="seal-recovery")] | length')" 0
ktap_expect "remove-slot of an unused keyslot (exit 18)" 18 "keyslot 31 is not in use" \
	"$SEALCTL" remove-slot "$img" 31
ktap_expect "remove-slot of a bad number (exit 2)" 2 "invalid keyslot 'x'" "$SEALCTL" remove-slot "$img" x
for s in $("$SEALCTL" list --json "$img" | jq '.keyslots[1:][] | select(.type!="tpm2") | .keyslot'); do
	"$SEALCTL" remove-slot "$img" "$s" -d "$WORK/p1" 2>/dev/null
done
hash=$(hdr_hash "$img")
ktap_expect "the last passphrase keyslot beside a tpm2 one: refused without --force (exit 18)" 18 \
	"keyslot 0 is the last passphrase or recovery keyslot" \
	"$SEALCTL" remove-slot "$img" 0 -d "$WORK/p1"
ktap_same "refusal leaves the header unchanged" "$(hdr_hash "$img")" "$hash"
for s in $("$SEALCTL" list --json "$img" | jq '.keyslots[] | select(.type=="tpm2") | .keyslot'); do
	"$SEALCTL" remove-slot "$img" "$s" -d "$WORK/p1" 2>/dev/null
done
hash=$(hdr_hash "$img")
ktap_expect "the last keyslot is refused without --force (exit 18)" 18 "keyslot 0 is the last one" \
	"$SEALCTL" remove-slot "$img" 0
ktap_same "refusal leaves the header unchanged" "$(hdr_hash "$img")" "$hash"
ktap_expect "--force removes the last keyslot" 0 "keyslot 0 removed" \
	"$SEALCTL" remove-slot --force "$img" 0

# sector size 512
new_image "$img"
ktap_expect "format --sector-size 512" 0 "512-byte sectors" \
	"$SEALCTL" format --sector-size 512 "$img" -d "$WORK/p1"
ktap_same "luksDump: 512-byte sectors" "$(dump | sed -n 's/^\tsector: //p')" "512 [bytes]"

# a volume made by stock cryptsetup
new_image "$img"
cryptsetup luksFormat -q --type luks2 --cipher aes-xts-plain64 --key-size 512 --sector-size 4096 \
	--pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file "$WORK/p1" "$img"
ktap_expect "enroll tpm2 on a cryptsetup luksFormat volume" 0 "tpm2 enrolled in keyslot 1" \
	"$SEALCTL" enroll "$img" tpm2 -d "$WORK/p1"
swtpm_reboot # a new boot: the unlocks above moved PCR 15
ktap_expect "sealctl unlocks it with the token" 0 "keyslot 1 unlocks" \
	"$SEALCTL" open --test-passphrase --token-only "$img"
ktap_expect "sealctl unlocks it with the passphrase" 0 "keyslot 0 unlocks" \
	"$SEALCTL" open --test-passphrase --no-tokens -d "$WORK/p1" "$img"

# the prompt, on a terminal: a wrong answer, then the right one
printf 'nope\nfirst passphrase\n' >"$WORK/answers"
ktap_expect "prompt: wrong then right passphrase" 0 "try 1 of 3.*|keyslot 0 unlocks" \
	python3 "$HELPERS/pty-run.py" "$WORK/answers" "$SEALCTL" open --test-passphrase --no-tokens "$img"
out=$(python3 "$HELPERS/pty-run.py" "$WORK/answers" "$SEALCTL" open --test-passphrase --no-tokens "$img" 2>&1)
printf '%s\n' "$out" | grep -q "no keyslot accepts this passphrase (try 1 of 3)" &&
	printf '%s\n' "$out" | grep -q "keyslot 0 unlocks"
ktap_result "prompt: one line per failed try" $?
printf 'first passphrase\n' >"$WORK/answers"
out=$(PTY_RUN_INSPECT=1 python3 "$HELPERS/pty-run.py" "$WORK/answers" "$SEALCTL" open --test-passphrase --no-tokens "$img" 2>&1)
printf '%s\n' "$out" | grep -Eq '^inspect VmLck:[[:space:]]+[1-9][0-9]* kB'
ktap_result "at the prompt the passphrase buffer is mlock'ed (VmLck > 0)" $?
printf '%s\n' "$out" | grep -q '^inspect Max core file size 0 0 bytes'
ktap_result "at the prompt core dumps are off (RLIMIT_CORE 0)" $?
printf 'a\nb\n' >"$WORK/answers"
ktap_expect "prompt: --tries 2 wrong answers (exit 9)" 9 "no keyslot accepts the passphrase \(2 tries\)" \
	python3 "$HELPERS/pty-run.py" "$WORK/answers" "$SEALCTL" open --test-passphrase --no-tokens --tries 2 "$img"
printf 'new one\nnew one\n' >"$WORK/answers"
ktap_expect "prompt: new passphrase asked twice" 0 "passphrase enrolled in keyslot 2" \
	python3 "$HELPERS/pty-run.py" "$WORK/answers" "$SEALCTL" enroll "$img" passphrase --no-tokens -d "$WORK/p1"
printf 'one\ntwo\n' >"$WORK/answers"
ktap_expect "prompt: differing new passphrases refused" 9 "the two entries differ" \
	python3 "$HELPERS/pty-run.py" "$WORK/answers" "$SEALCTL" enroll "$img" passphrase --no-tokens -d "$WORK/p1"

# Killed half-way. enroll and rotate-kek are killed (SIGKILL, which nothing can catch) at
# their Nth write to the image: strace injects the signal as the write is entered, so that
# write never happens. N runs over every STRIDE-th write (every write with SEAL_STRESS=1,
# every fourth one otherwise) until a run completes unkilled; the image is restored before
# each run. After each kill the header holds the old state or the new one (or, between a new
# keyslot and the old one's removal, both): stock cryptsetup reads it, sealctl lists it, the
# admin passphrase opens keyslot 0, and every seal-tpm2 token opens the keyslot it names with
# its own secret (one that names a half-destroyed keyslot would spend the boot's one unseal,
# PCR 15 moved, on a secret that opens nothing, and the next token would be refused).
SECONDS=0
cut=$WORK/cut
cut_stride=$([ "${SEAL_STRESS:-}" = 1 ] && echo 1 || echo 4)
swtpm_reboot # PCR 15 at its reset value: the tokens below unseal (seal-tpm-tool does not measure)

# cut_opens KEYSLOT|any KEYFILE: stock cryptsetup opens KEYSLOT (or any keyslot) with KEYFILE
cut_opens()
{
	local slot=()
	[ "$1" = any ] || slot=(--key-slot "$1")
	cryptsetup open --test-passphrase "${slot[@]}" --key-file "$2" "$cut" >/dev/null 2>&1
}

# cut_state: which KEK opens the volume now: "old", "new", "old+new", or what is wrong with the
# header. CUT_OLD and CUT_NEW are the old and new passphrase files; without CUT_NEW, CUT_OLD is
# the old tpm2 secret in hex and any other token's secret is new; with neither (enroll tpm2)
# the old state is keyslot 0's passphrase with no token.
cut_state()
{
	local json t k s old=0 new=0
	json=$(cryptsetup luksDump --dump-json-metadata "$cut" 2>/dev/null) || { echo "luksDump fails"; return; }
	[ -n "${CUT_OLD:-}" ] || [ "$(jq '.tokens | length' <<<"$json")" != 0 ] || old=1
	"$SEALCTL" list "$cut" >/dev/null 2>&1 || { echo "sealctl list fails"; return; }
	cut_opens 0 "$WORK/p1" || { echo "the admin passphrase does not open keyslot 0"; return; }
	for t in $(jq -r '.tokens | to_entries[] | select(.value.type=="seal-tpm2") | .key' <<<"$json"); do
		k=$(jq -r --arg t "$t" '.tokens[$t].keyslots[0] // "none"' <<<"$json")
		s=$("$TOOL" unseal-token "$cut" "$t" 2>/dev/null)
		cut_opens "$k" <(hex_to_b64 "$s") || { echo "token $t does not open keyslot $k"; return; }
		[ -n "${CUT_NEW:-}" ] || if [ "$s" = "$CUT_OLD" ]; then old=1; else new=1; fi
	done
	if [ -n "${CUT_NEW:-}" ]; then
		cut_opens any "$CUT_OLD" && old=1
		cut_opens any "$CUT_NEW" && new=1
	fi
	case $old$new in 10) echo old ;; 01) echo new ;; 11) echo old+new ;; *) echo "no KEK opens it" ;; esac
}

# cut_strays: the keyslots besides 0 that no token names (with tpm2 KEKs only): a keyslot
# added but killed before its token was written, which no one can open (not a failure:
# libcryptsetup commits a keyslot and its token in two header writes)
cut_strays()
{
	[ -z "${CUT_NEW:-}" ] || return
	cryptsetup luksDump --dump-json-metadata "$cut" 2>/dev/null |
		jq -r '([.tokens[].keyslots[]] + ["0"]) as $named | [.keyslots | keys[] |
			select(. as $k | $named | index($k) | not)] | join(",")'
}

# cut_loop NAME "STATES" CMD...: CMD killed at its 1st, (1 + stride)th, ... write to $cut, each
# time on a copy of $cut.orig, until it completes; after each kill the state is one of STATES,
# and the run that completes leaves "new"
cut_loop()
{
	local name=$1 allowed=$2 n=1 rc st strays kills=0 bad=0 states=
	shift 2
	while [ $n -le 500 ]; do
		cp --sparse=always "$cut.orig" "$cut"
		# in a subshell of its own, whose stderr takes bash's "Killed"
		(strace -qq -o /dev/null -P "$cut" -e trace=write --inject=write:signal=KILL:when=$n \
			"$@" >/dev/null 2>&1 </dev/null; exit $?) 2>/dev/null
		rc=$?
		st=$(cut_state)
		[ $rc = 137 ] || break
		kills=$((kills + 1))
		states+=" $n:${st// /_}"
		strays=$(cut_strays)
		[ -z "$strays" ] || states+="(stray:$strays)"
		[[ " $allowed " == *" $st "* ]] || { bad=$((bad + 1)); ktap_diag "$name: killed at write $n: $st"; }
		n=$((n + cut_stride))
	done
	ktap_diag "$name: write:state after each kill:$states; unkilled at write $n: exit $rc, $st"
	# at least 3 kills: the injection works, the loop is not vacuous
	ktap_result "$name, killed at each of $kills writes (every ${cut_stride}): old or new state each time" \
		"$([ $kills -ge 3 ] && [ $bad = 0 ] && echo 0 || echo 1)"
	ktap_same "$name, not killed: completes with the new state" "$rc $st" "0 new"
}

new_image "$cut.orig"
"$SEALCTL" format "$cut.orig" -d "$WORK/p1" >/dev/null 2>&1
CUT_OLD=
cut_loop "enroll tpm2" "old new" "$SEALCTL" enroll "$cut" tpm2 -d "$WORK/p1"
"$SEALCTL" enroll "$cut.orig" tpm2 -d "$WORK/p1" >/dev/null 2>&1
CUT_OLD=$("$TOOL" unseal-token "$cut.orig" 0)
cut_loop "rotate-kek of a tpm2 keyslot" "old new old+new" "$SEALCTL" rotate-kek "$cut" -d "$WORK/p1"
"$SEALCTL" enroll "$cut.orig" passphrase -d "$WORK/p1" --new-key-file "$WORK/p2" >/dev/null 2>&1
CUT_OLD=$WORK/p2 CUT_NEW=$WORK/p3 cut_loop "rotate-kek of a passphrase keyslot" "old new old+new" \
	"$SEALCTL" rotate-kek "$cut" 2 --no-tokens -d "$WORK/p2" --new-key-file "$WORK/p3"
ktap_diag "the kills took $SECONDS s"

ktap_end
