#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The LUKS2 key envelope on plain image files, checked with stock cryptsetup:
# format, enroll tpm2|passphrase|recovery, list, status, rotate-kek,
# remove-slot, the seal-tpm2 plugin under stock cryptsetup, volumes made by
# cryptsetup luksFormat, and the passphrase prompt on a terminal.
. "$(dirname "$0")/helpers/common.sh"
require swtpm cryptsetup jq python3 unshare

ktap_begin 63
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
printf '%s\n' "$tok" | jq -e '.type=="seal-tpm2" and .keyslots==["3"] and ."seal-version"==1
	and ."tpm2-pcr-bank"=="sha256" and ."tpm2-pcrs"==[7,15] and ."tpm2-pcrs-initial"==[15]
	and (."tpm2-policy-hash"|length)==64 and ."tpm2-primary-template"=="tcg-srk-ecc-p256"
	and (."tpm2-primary-name"|length)==68 and ."tpm2-pin"==false
	and (."tpm2-private"|length)>0 and (."tpm2-public"|length)>0' >/dev/null
ktap_result "token JSON carries every field" $?

out=$("$SEALCTL" list "$img")
printf '%s\n' "$out" | grep -Eq '^0 +passphrase' &&
	printf '%s\n' "$out" | grep -Eq '^1 +passphrase' &&
	printf '%s\n' "$out" | grep -Eq '^2 +recovery +[0-9]+ +argon2id' &&
	printf '%s\n' "$out" | grep -Eq '^3 +tpm2 +[0-9]+ +pbkdf2 +pcrs=7\+15 bank=sha256 pin=no at-reset=15'
ktap_result "list shows passphrase, recovery and tpm2 keyslots" $?
[ -n "$out" ] || ktap_diag "$out"
"$SEALCTL" list --json "$img" | jq -e '[.keyslots[].type]==["passphrase","passphrase","recovery","tpm2"]' >/dev/null
ktap_result "list --json" $?
"$SEALCTL" status --json "$img" | jq -e '.cipher=="aes-xts-plain64" and ."key-bits"==512 and
	."sector-size"==4096 and .keyslots==4 and .supported==true' >/dev/null
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
"$SEALCTL" list --json "$img" | jq -e '[.keyslots[] | select(.type=="tpm2") | .keyslot]==[4]' >/dev/null
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

ktap_end
