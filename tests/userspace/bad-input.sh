#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Bad input that needs no kernel: each case asserts the one-line message, the
# exit code (sealctl(8), EXIT STATUS) and that the LUKS2 header area is
# byte-identical afterwards.
. "$(dirname "$0")/helpers/common.sh"
require swtpm cryptsetup mkfs.ext4 jq keyctl

ktap_begin 66
img=$WORK/img
printf 'right passphrase' >"$WORK/pass"
printf 'wrong passphrase' >"$WORK/wrong"
swtpm_start

# unchanged NAME IMAGE CMD...: CMD ran (any result), the header did not change
unchanged()
{
	local name=$1 image=$2 before
	shift 2
	before=$(hdr_hash "$image")
	"$@" >/dev/null 2>&1 </dev/null
	ktap_same "$name: header unchanged" "$(hdr_hash "$image")" "$before"
}

new_image "$img"
"$SEALCTL" format "$img" -d "$WORK/pass" 2>/dev/null
"$SEALCTL" enroll "$img" tpm2 -d "$WORK/pass" 2>/dev/null
good=$WORK/good
cp "$img" "$good"

# wrong passphrase
ktap_expect "wrong passphrase (exit 9)" 9 "^sealctl: $img: no keyslot accepts the key file$" \
	"$SEALCTL" open --test-passphrase --no-tokens -d "$WORK/wrong" "$img"
unchanged "wrong passphrase" "$img" "$SEALCTL" open --test-passphrase --no-tokens -d "$WORK/wrong" "$img"
ktap_expect "wrong passphrase for enroll (exit 9)" 9 "no keyslot accepts the key file" \
	"$SEALCTL" enroll "$img" passphrase --no-tokens -d "$WORK/wrong" --new-key-file "$WORK/pass"
unchanged "enroll with a wrong passphrase" "$img" \
	"$SEALCTL" enroll "$img" passphrase --no-tokens -d "$WORK/wrong" --new-key-file "$WORK/pass"

# not a LUKS device
zero=$WORK/zero
new_image "$zero"
ktap_expect "zeros: not a LUKS device (exit 4)" 4 "^sealctl: $zero: not a LUKS2 device$" \
	"$SEALCTL" open --test-passphrase -d "$WORK/pass" "$zero"
unchanged "not a LUKS device" "$zero" "$SEALCTL" open --test-passphrase -d "$WORK/pass" "$zero"
ext4=$WORK/ext4
new_image "$ext4"
mkfs.ext4 -q "$ext4"
ktap_expect "ext4: not a LUKS device, found ext4 (exit 4)" 4 "not a LUKS2 device \(found ext4\)" \
	"$SEALCTL" list "$ext4"
ktap_expect "format refuses an ext4 signature (exit 7)" 7 "device carries a ext4 signature \(use --force" \
	"$SEALCTL" format "$ext4" -d "$WORK/pass"
unchanged "format refused" "$ext4" "$SEALCTL" format "$ext4" -d "$WORK/pass"
# format --force reads and checks every input before it writes anything
ext4_sum=$(sha256sum <"$ext4")
printf 'one\ntwo\n' >"$WORK/answers"
ktap_expect "format --force, the two new passphrases differ (exit 9)" 9 \
	"the two entries differ; nothing was written" \
	python3 "$HELPERS/pty-run.py" "$WORK/answers" "$SEALCTL" format --force "$ext4"
ktap_same "... the ext4 file system is still there (blkid)" "$(blkid -p -o value -s TYPE "$ext4")" ext4
ktap_expect "format --force, the key file is missing (exit 10)" 10 "nothing was written" \
	"$SEALCTL" format --force "$ext4" -d "$WORK/nonexistent"
ktap_same "... the ext4 file system is still there (blkid)" "$(blkid -p -o value -s TYPE "$ext4")" ext4
ktap_same "... the image is byte-identical" "$(sha256sum <"$ext4")" "$ext4_sum"
# Ctrl-C at the prompt: the process dies of SIGINT, the terminal has its echo back
printf '^C\n' >"$WORK/answers"
out=$(PTY_RUN_STTY=1 python3 "$HELPERS/pty-run.py" "$WORK/answers" "$SEALCTL" format --force "$ext4" 2>&1)
rc=$?
ktap_same "format --force, Ctrl-C at the prompt: killed by SIGINT (status 130)" "$rc" 130
if printf '%s\n' "$out" | grep '^stty: ' | grep -Eq '(^|[[:space:]])echo([[:space:]]|$)'; then
	ktap_pass "... the terminal echoes again (stty: echo)"
else
	ktap_fail "... the terminal echoes again (stty: echo)" "$out"
fi
ktap_same "... the image is byte-identical" "$(sha256sum <"$ext4")" "$ext4_sum"
ktap_expect "format --force wipes it, showing what" 0 "wiping ext4 signature at offset" \
	"$SEALCTL" format --force "$ext4" -d "$WORK/pass"
ktap_same "blkid: now crypto_LUKS only" "$(blkid -p -o value -s TYPE "$ext4")" crypto_LUKS

# LUKS with another cipher, and LUKS1
cbc=$WORK/cbc
new_image "$cbc"
cryptsetup luksFormat -q --type luks2 --cipher aes-cbc-essiv:sha256 --key-size 256 \
	--pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file "$WORK/pass" "$cbc"
ktap_expect "LUKS2 aes-cbc-essiv: unsupported (exit 6)" 6 \
	"^sealctl: $cbc: cipher aes-cbc-essiv:sha256 with a 256-bit key; seal handles aes-xts-plain64 with 512 bits$" \
	"$SEALCTL" open --test-passphrase -d "$WORK/pass" "$cbc"
unchanged "other cipher" "$cbc" "$SEALCTL" open --test-passphrase -d "$WORK/pass" "$cbc"
luks1=$WORK/luks1
new_image "$luks1"
cryptsetup luksFormat -q --type luks1 --pbkdf-force-iterations 1000 --key-file "$WORK/pass" "$luks1"
ktap_expect "LUKS1: unsupported (exit 6)" 6 "LUKS1 volume; seal needs LUKS2" \
	"$SEALCTL" open --test-passphrase -d "$WORK/pass" "$luks1"

# corrupt primary header: the secondary copy carries on; readers write nothing
cp "$good" "$img"
dd if=/dev/urandom of="$img" bs=1 seek=4096 count=512 conv=notrunc status=none
ktap_expect "primary header corrupt: token still unlocks" 0 "keyslot 1 unlocks" \
	"$SEALCTL" open --test-passphrase --token-only "$img"
unchanged "primary header corrupt, token unlock" "$img" \
	"$SEALCTL" open --test-passphrase --token-only "$img"
ktap_expect "primary header corrupt: passphrase still unlocks" 0 "keyslot 0 unlocks" \
	"$SEALCTL" open --test-passphrase --no-tokens -d "$WORK/pass" "$img"
unchanged "primary header corrupt, passphrase unlock" "$img" \
	"$SEALCTL" open --test-passphrase --no-tokens -d "$WORK/pass" "$img"
ktap_expect "primary header corrupt: list works" 0 "tpm2" "$SEALCTL" list "$img"
unchanged "primary header corrupt, list and status" "$img" \
	sh -c '"$1" list "$2"; "$1" status "$2"' - "$SEALCTL" "$img"
ktap_expect "primary header corrupt: open without device-mapper still fails cleanly" 19 \
	"device-mapper unavailable" "$SEALCTL" open "$img" vol
unchanged "primary header corrupt, open" "$img" "$SEALCTL" open "$img" vol

# both headers corrupt
dd if=/dev/urandom of="$img" bs=1 seek=$((16384 + 4096)) count=512 conv=notrunc status=none
ktap_expect "both headers corrupt (exit 5)" 5 "^sealctl: $img: LUKS2 header damaged in both copies" \
	"$SEALCTL" open --test-passphrase -d "$WORK/pass" "$img"
unchanged "both headers corrupt, open" "$img" "$SEALCTL" open --test-passphrase -d "$WORK/pass" "$img"
ktap_expect "both headers corrupt: enroll refused (exit 5)" 5 "damaged in both copies" \
	"$SEALCTL" enroll "$img" passphrase -d "$WORK/pass" --new-key-file "$WORK/pass"
unchanged "both headers corrupt, enroll" "$img" \
	"$SEALCTL" enroll "$img" passphrase -d "$WORK/pass" --new-key-file "$WORK/pass"

# device missing or too small
ktap_expect "device missing (exit 3)" 3 "^sealctl: $WORK/nonexistent: device not found$" \
	"$SEALCTL" open --test-passphrase -d "$WORK/pass" "$WORK/nonexistent"
ktap_expect "device missing for format (exit 3)" 3 "device not found" \
	"$SEALCTL" format "$WORK/nonexistent" -d "$WORK/pass"
small=$WORK/small
new_image "$small" 8M
ktap_expect "device too small for format (exit 3)" 3 "device too small \(8388608 bytes" \
	"$SEALCTL" format "$small" -d "$WORK/pass"
new_image "$small" 1K
ktap_expect "device too small for a header (exit 3)" 3 "device too small \(1024 bytes\)" \
	"$SEALCTL" list "$small"
cp "$good" "$img"
truncate -s 16M "$img"
ktap_expect "header without data area (exit 3)" 3 "device too small: no data area" \
	"$SEALCTL" open --test-passphrase -d "$WORK/pass" "$img"

# TPM absent
cp "$good" "$img"
ktap_expect "TPM absent: token refused (exit 11)" 11 "token 0 \(seal-tpm2\): no TPM2 reachable" \
	env SEAL_TCTI="$(no_tpm_tcti)" "$SEALCTL" open --test-passphrase --token-only "$img"
ktap_expect "TPM absent (default device:/dev/tpmrm0)" 11 "no TPM2 reachable \(device:/dev/tpmrm0\)" \
	env -u SEAL_TCTI "$SEALCTL" open --test-passphrase --token-only "$img"
ktap_expect "TPM absent: passphrase fallback" 0 "keyslot 0 unlocks" \
	env SEAL_TCTI="$(no_tpm_tcti)" "$SEALCTL" open --test-passphrase -d "$WORK/pass" "$img"
ktap_expect "TPM absent: enroll tpm2 refused (exit 11)" 11 "^sealctl: $img: no TPM2 reachable" \
	env SEAL_TCTI="$(no_tpm_tcti)" "$SEALCTL" enroll "$img" tpm2 -d "$WORK/pass"
unchanged "TPM absent, enroll" "$img" \
	env SEAL_TCTI="$(no_tpm_tcti)" "$SEALCTL" enroll "$img" tpm2 -d "$WORK/pass"
tcti=$SEAL_TCTI
SEAL_TCTI=$(no_tpm_tcti)
ktap_expect "TPM absent: plugin says so, cryptsetup fails" 1 "^seal-tpm2 token 0: no TPM2 reachable$" \
	with_plugin cryptsetup open --test-passphrase --token-only --token-type seal-tpm2 "$img"
SEAL_TCTI=$tcti

# malformed token JSON (after a reboot: the unlocks above extended PCR 15)
swtpm_reboot
cp "$good" "$img"
printf '{"type":"seal-tpm2","keyslots":["1"],"seal-version":1,"tpm2-private":"!!!"}' >"$WORK/bad.json"
cryptsetup token import --json-file "$WORK/bad.json" "$img"
ktap_result "stock cryptsetup imports a malformed seal-tpm2 token (no plugin)" $?
ktap_expect "a malformed token does not stop the good one" 0 "keyslot 1 unlocks" \
	"$SEALCTL" open --test-passphrase --token-only "$img"
ktap_expect "list names the malformed token" 0 "^token 1 \(seal-tpm2\): malformed: tpm2-private$" \
	"$SEALCTL" list "$img"
cryptsetup token remove --token-id 0 "$img"
ktap_expect "malformed token alone (exit 17)" 17 "token 1 \(seal-tpm2\): malformed: tpm2-private" \
	"$SEALCTL" open --test-passphrase --token-only "$img"
unchanged "malformed token" "$img" "$SEALCTL" open --test-passphrase --token-only "$img"
ktap_expect "malformed token: passphrase fallback" 0 "keyslot 0 unlocks" \
	"$SEALCTL" open --test-passphrase -d "$WORK/pass" "$img"
cp "$good" "$img"
ktap_expect "the plugin's validate refuses to import it" 1 "malformed: tpm2-private" \
	with_plugin cryptsetup token import --json-file "$WORK/bad.json" "$img"

# a token without seal-version: not ours to interpret, malformed (format.md)
cp "$good" "$img"
cryptsetup token export --token-id 0 "$img" | jq -c 'del(."seal-version")' >"$WORK/nover.json"
cryptsetup token import --token-replace --token-id 0 --json-file "$WORK/nover.json" "$img"
ktap_expect "a token without seal-version is malformed (exit 17)" 17 \
	"token 0 \(seal-tpm2\): malformed: seal-version" \
	"$SEALCTL" open --test-passphrase --token-only "$img"

# a tampered sealed blob: well-formed JSON, but the TPM refuses to load it (a new boot: the
# unlock above moved PCR 15, which is checked before the TPM is asked)
swtpm_reboot
cp "$good" "$img"
cryptsetup token export --token-id 0 "$img" | python3 -c '
import base64, json, sys
t = json.load(sys.stdin)
blob = bytearray(base64.b64decode(t["tpm2-private"]))
blob[len(blob) // 2] ^= 0x01
t["tpm2-private"] = base64.b64encode(bytes(blob)).decode()
json.dump(t, sys.stdout)' >"$WORK/tampered.json"
cryptsetup token import --token-replace --token-id 0 --json-file "$WORK/tampered.json" "$img"
ktap_expect "tampered sealed blob: other TPM error, with the TPM's code (exit 16)" 16 \
	"token 0 \(seal-tpm2\): TPM2 error \(Esys_Load: 0x[0-9a-f]+ .*\)" \
	"$SEALCTL" open --test-passphrase --token-only "$img"
unchanged "tampered sealed blob" "$img" "$SEALCTL" open --test-passphrase --token-only "$img"

# PCR mismatch
tpm2_pcrextend 7:sha256=$(printf '%064d' 7) >/dev/null
ktap_expect "PCR mismatch (exit 12)" 12 "token 0 \(seal-tpm2\): PCR values differ from the sealed policy" \
	"$SEALCTL" open --test-passphrase --token-only "$img"
unchanged "PCR mismatch" "$img" "$SEALCTL" open --test-passphrase --token-only "$img"

# open without device-mapper (this host): fails cleanly, leaves nothing
cp "$good" "$img"
ktap_expect "open without device-mapper (exit 19)" 19 "device-mapper unavailable" \
	"$SEALCTL" open "$img" vol
unchanged "open without device-mapper" "$img" "$SEALCTL" open "$img" vol
keyctl show @u 2>/dev/null | grep -q 'logon.*seal:'
[ $? != 0 ]
ktap_result "no seal: key left in the user keyring" $?
ktap_skip "name already in use" "needs device-mapper: guest test"

# the command line
ktap_expect "unknown command (exit 2)" 2 "unknown command 'frobnicate'" "$SEALCTL" frobnicate
ktap_expect "unknown KEK type (exit 2)" 2 "unknown KEK type 'fido2'" "$SEALCTL" enroll "$img" fido2
ktap_expect "bad --pcrs (exit 2)" 2 "invalid --pcrs '24'" "$SEALCTL" enroll "$img" tpm2 --pcrs 24
ktap_expect "bad --sector-size (exit 2)" 2 "--sector-size must be 512 or 4096" \
	"$SEALCTL" format "$img" --sector-size 1024
ktap_expect "close of a missing mapping" 19 "device-mapper unavailable|no such mapping" \
	"$SEALCTL" close nosuch

ktap_end
