#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# TPM layer against swtpm: seal/unseal round trip through sealctl, refusal on
# a changed PCR, on the PCR 15 measurement, on another primary key (cleared
# TPM, other TPM), PIN and dictionary-attack lockout; a second tpm2 keyslot tried when the
# first refuses. The TPM layer's own API (round trips of chosen secrets, its error codes)
# is tested in C: tpm2-layer.sh.
. "$(dirname "$0")/helpers/common.sh"
require swtpm tpm2_pcrextend tpm2_clear cryptsetup

ktap_begin 50
img=$WORK/img
printf 'admin passphrase' >"$WORK/pass"
swtpm_start "$WORK/tpm-a"

new_image "$img"
"$SEALCTL" format "$img" -d "$WORK/pass" 2>/dev/null
ktap_expect "enroll tpm2 (PCRs 7+15)" 0 "tpm2 enrolled in keyslot 1 \(PCRs 7\+15\)" \
	"$SEALCTL" enroll "$img" tpm2 -d "$WORK/pass"
ktap_expect "enroll tpm2 warns that PCRs 7+15 do not cover the kernel command line" 0 \
	"warning: PCRs 7\+15 do not cover the kernel command line" \
	"$SEALCTL" enroll "$img" tpm2 -d "$WORK/pass"
ktap_expect "PCR 9 (GRUB's kernel and initramfs files) leaves the command line free: the warning stays" 0 \
	"warning: PCRs 7\+9\+15 do not cover the kernel command line" \
	"$SEALCTL" enroll "$img" tpm2 --pcrs 7+9+15 -d "$WORK/pass"
out=$("$SEALCTL" enroll "$img" tpm2 --pcrs 7+8+9+15 -d "$WORK/pass" 2>&1)
ktap_result "no such warning with PCRs 8 and 9 (GRUB's)" \
	"$(grep -q "tpm2 enrolled" <<<"$out" && ! grep -q warning <<<"$out" && echo 0 || echo 1)"
for slot in 4 3 2; do
	"$SEALCTL" remove-slot "$img" $slot -d "$WORK/pass" >/dev/null 2>&1
done
# Administrative commands never spend the boot's unattended unlock: with no passphrase
# source they are refused, the TPM untouched (the token below still unseals once).
ktap_expect "enroll with no passphrase source does not unlock through the TPM: refused (exit 10)" 10 \
	"no passphrase source" "$SEALCTL" enroll "$img" recovery </dev/null
ktap_expect "rotate-kek with no passphrase source: refused likewise (exit 10)" 10 \
	"no passphrase source" "$SEALCTL" rotate-kek "$img" </dev/null
ktap_same "... PCR 15 still at its reset value after both" \
	"$(tpm2_pcrread sha256:15 | sed -n 's/.*15 *: *0x//p')" "$(printf '%064d' 0)"
ktap_expect "token unseals without interaction" 0 "keyslot 1 unlocks" \
	"$SEALCTL" open --test-passphrase --token-only "$img"
ktap_expect "--test-passphrase measured its unseal: a second one is refused (exit 12)" 12 \
	"PCR values differ from the sealed policy" \
	"$SEALCTL" open --test-passphrase --token-only "$img"
swtpm_reboot
secret=$("$TOOL" unseal-token "$img" 0)
ktap_expect "unsealed secret (base64) is the keyslot passphrase" 0 "Command successful" \
	cryptsetup open --test-passphrase -v --key-slot 1 --key-file <(hex_to_b64 "$secret") "$img"
ktap_same "secret is 32 bytes" "${#secret}" 64

hash=$(hdr_hash "$img")
tpm2_pcrextend 7:sha256=$(printf '%064d' 1) >/dev/null
ktap_expect "PCR 7 changed: refused as PCR mismatch (exit 12)" 12 \
	"token 0 \(seal-tpm2\): PCR values differ from the sealed policy" \
	"$SEALCTL" open --test-passphrase "$img"
ktap_expect "PCR mismatch falls back to the key file" 0 "keyslot 0 unlocks" \
	"$SEALCTL" open --test-passphrase -d "$WORK/pass" "$img"
ktap_same "PCR mismatch leaves the header unchanged" "$(hdr_hash "$img")" "$hash"

# re-seal to the new PCR 7; then play "a volume was unlocked this boot"
ktap_expect "rotate-kek re-seals to the current PCR 7" 0 "keyslot 1 replaced by keyslot 2" \
	"$SEALCTL" rotate-kek "$img" -d "$WORK/pass"
ktap_expect "rotated token unseals" 0 "keyslot 2 unlocks" \
	"$SEALCTL" open --test-passphrase --token-only "$img"
tpm2_pcrevent 15 <(printf 'seal:measurement') >/dev/null
ktap_expect "PCR 15 extended (unlocked this boot): refused" 12 "PCR values differ" \
	"$SEALCTL" open --test-passphrase --token-only "$img"
ktap_expect "enroll while PCR 15 is extended binds its reset value" 0 \
	"PCR 15 is extended already \(a volume was unlocked this boot\)" \
	"$SEALCTL" enroll "$img" tpm2 -d "$WORK/pass"
ktap_expect "--pcrs 7 without 15 still unseals" 0 "tpm2 enrolled in keyslot [0-9]+ \(PCRs 7\)" \
	"$SEALCTL" enroll "$img" tpm2 --pcrs 7 -d "$WORK/pass"
ktap_expect "the PCR-7-only token unlocks" 0 "unlocks the volume" \
	"$SEALCTL" open --test-passphrase --token-only "$img"

# the unsealer's measurement: what `sealctl open` extends after an unlock
swtpm_stop
swtpm_start "$WORK/tpm-m"
img3=$WORK/img3
new_image "$img3"
"$SEALCTL" format "$img3" -d "$WORK/pass" 2>/dev/null
"$SEALCTL" enroll "$img3" tpm2 -d "$WORK/pass" 2>/dev/null
uuid=$(cryptsetup luksUUID "$img3")
key=$(od -An -tx1 -N64 /dev/urandom | tr -d ' \n')
event=$("$TOOL" measure "$uuid" "$key")
printf '%s\n' "$event" | grep -Eqx "seal:$uuid:[0-9a-f]{64}"
ktap_result "measurement is seal:UUID:HMAC" $?
case $event in *"$key"* | *"${key:0:64}"* | *"${key:64}"*) ktap_result "measurement does not contain the key" 1 ;;
	*) ktap_result "measurement does not contain the key" 0 ;; esac
want=$(python3 -c 'import hashlib, sys
e = hashlib.sha256(sys.argv[1].encode()).digest()
print(hashlib.sha256(bytes(32) + e).hexdigest())' "$event")
got=$(tpm2_pcrread sha256:15 | sed -n 's/.*15 *: *0x//p' | tr 'A-F' 'a-f')
ktap_same "PCR 15 = extend(0, sha256(measurement))" "$got" "$want"
ktap_expect "after the measurement the token refuses (unseal once per boot)" 12 "PCR values differ" \
	"$SEALCTL" open --test-passphrase --token-only "$img3"
ktap_expect "... and the passphrase still opens" 0 "keyslot 0 unlocks" \
	"$SEALCTL" open --test-passphrase -d "$WORK/pass" "$img3"
swtpm_stop
swtpm_start "$WORK/tpm-a"

# another primary: the owner seed changes with TPM2_Clear
tpm2_clear >/dev/null
hash=$(hdr_hash "$img")
ktap_expect "cleared TPM: other primary key refused (exit 14)" 14 \
	"TPM2 primary key differs from the one recorded at enrollment" \
	"$SEALCTL" open --test-passphrase --token-only "$img"
swtpm_stop
swtpm_start "$WORK/tpm-b"
ktap_expect "other TPM: primary key refused (exit 14)" 14 "primary key differs" \
	"$SEALCTL" open --test-passphrase --token-only "$img"
ktap_same "refusals leave the header unchanged" "$(hdr_hash "$img")" "$hash"

# PIN and dictionary-attack lockout
printf '1234' >"$WORK/pin"
printf '9999' >"$WORK/badpin"
img2=$WORK/img2
new_image "$img2"
"$SEALCTL" format "$img2" -d "$WORK/pass" 2>/dev/null
ktap_expect "enroll tpm2 with a PIN" 0 "tpm2 enrolled in keyslot 1 \(PCRs 7\+15, PIN\)" \
	"$SEALCTL" enroll "$img2" tpm2 --pin --pin-file "$WORK/pin" -d "$WORK/pass"
ktap_expect "PIN token without a PIN: skipped, exit 15" 15 "needs a PIN" \
	"$SEALCTL" open --test-passphrase --token-only "$img2"
ktap_expect "PIN token with the PIN unlocks" 0 "keyslot 1 unlocks" \
	"$SEALCTL" open --test-passphrase --token-only --pin-file "$WORK/pin" "$img2"
# that unseal moved PCR 15: the PIN is not even tried (no dictionary-attack count)
ktap_expect "PIN token after PCR 15 moved: PCR mismatch before the PIN is used (exit 12)" 12 \
	"PCR values differ from the sealed policy" \
	"$SEALCTL" open --test-passphrase --token-only --pin-file "$WORK/badpin" "$img2"
# On a terminal too (script(1) gives sealctl one): the check comes before the prompt, so no PIN
# is asked for and the TPM counts no failed authorization.
da_failures() { printf '%d' "$(tpm2_getcap properties-variable | awk '/TPM2_PT_LOCKOUT_COUNTER/ { print $2 }')"; }
da_before=$(da_failures)
out=$(timeout 30 script -qec "$SEALCTL open --test-passphrase --token-only $img2" /dev/null </dev/null 2>&1)
rc=$?
ktap_diag "on a terminal: exit $rc: $out"
ktap_result "PIN token after PCR 15 moved, on a terminal: PCR mismatch (exit 12), no PIN prompt" \
	$([ $rc = 12 ] && grep -q "PCR values differ" <<<"$out" && ! grep -qi "PIN.*:" <<<"$(grep -v "sealctl:" <<<"$out")"; echo $?)
ktap_same "... and the TPM counted no failed authorization" "$(da_failures)" "$da_before"
img4=$WORK/img4
new_image "$img4"
"$SEALCTL" format "$img4" -d "$WORK/pass" 2>/dev/null
ktap_expect "enroll --pcrs none (bound to this TPM only)" 0 "\(PCRs none\)" \
	"$SEALCTL" enroll "$img4" tpm2 --pcrs none -d "$WORK/pass"
ktap_expect "the TPM-only token unlocks" 0 "keyslot 1 unlocks" \
	"$SEALCTL" open --test-passphrase --token-only "$img4"
# a password on the owner hierarchy makes CreatePrimary fail with BAD_AUTH: named as that,
# not as a wrong PIN
swtpm_reboot
tpm2_changeauth -c owner ownerpass >/dev/null
ktap_expect "an owner password: CreatePrimary's bad authorization is named, no 'wrong PIN' (exit 16)" 16 \
	"TPM2 error \(Esys_CreatePrimary: 0x[0-9a-f]+ " \
	"$SEALCTL" open --test-passphrase --token-only --pin-file "$WORK/pin" "$img2"
# lock-tpm's authenticated extend is salted to the null hierarchy's primary: no owner password needed
ktap_expect "an owner password: lock-tpm still extends PCR 15" 0 "" "$SEALCTL" lock-tpm test
ktap_check_fails "... and PCR 15 moved" sh -c 'tpm2_pcrread sha256:15 | grep -q "0x0000000000000000000000000000000000000000000000000000000000000000"'
tpm2_changeauth -c owner -p ownerpass >/dev/null

# a PIN file is a line, as the prompt reads it: its newline is not part of the PIN
swtpm_reboot
printf '1234\n' >"$WORK/pin-nl"
img6=$WORK/img6
new_image "$img6"
"$SEALCTL" format "$img6" -d "$WORK/pass" 2>/dev/null
"$SEALCTL" enroll "$img6" tpm2 --pin --pin-file "$WORK/pin-nl" -d "$WORK/pass" 2>/dev/null
ktap_expect "a PIN enrolled from a file with a newline is the same PIN without it" 0 \
	"keyslot 1 unlocks" "$SEALCTL" open --test-passphrase --token-only --pin-file "$WORK/pin" "$img6"

swtpm_reboot
tpm2_dictionarylockout --setup-parameters --max-tries=1 --recovery-time=600 \
	--lockout-recovery-time=600 >/dev/null
ktap_expect "wrong PIN (exit 15)" 15 "wrong PIN" \
	"$SEALCTL" open --test-passphrase --token-only --pin-file "$WORK/badpin" "$img2"
ktap_expect "DA lockout: right PIN refused (exit 13)" 13 "dictionary-attack lockout" \
	"$SEALCTL" open --test-passphrase --token-only --pin-file "$WORK/pin" "$img2"
ktap_expect "DA lockout: passphrase fallback still works" 0 "keyslot 0 unlocks" \
	"$SEALCTL" open --test-passphrase --pin-file "$WORK/pin" -d "$WORK/pass" "$img2"

# Two tpm2 keyslots on one volume, the first bound to a PCR that differs now: it refuses
# before anything is unsealed (PCR 15 stays at reset), and the second unlocks.
swtpm_reboot
img6=$WORK/img6
new_image "$img6"
"$SEALCTL" format "$img6" -d "$WORK/pass" 2>/dev/null
tpm2_pcrextend 16:sha256=$(printf '%064d' 1) >/dev/null
"$SEALCTL" enroll "$img6" tpm2 --pcrs 7+15+16 -d "$WORK/pass" >/dev/null 2>&1
tpm2_pcrreset 16 >/dev/null
"$SEALCTL" enroll "$img6" tpm2 -d "$WORK/pass" >/dev/null 2>&1
out=$("$SEALCTL" open --test-passphrase --token-only "$img6" 2>&1)
rc=$?
ktap_diag "$out"
ktap_result "two tpm2 keyslots, the first refuses (PCR 16 differs): the second unlocks" \
	"$([ $rc = 0 ] && grep -q 'token 0 (seal-tpm2): PCR values differ' <<<"$out" &&
		grep -q 'keyslot 2 unlocks' <<<"$out" && echo 0 || echo 1)"

# tpm2-tss's trace output carries the secrets it handles: with TSS2_LOG=all+trace in the
# environment (as systemd.setenv= on a kernel command line can put it), neither sealctl nor
# the plugin prints a log line, and the secret is in no output (raw, hex, 8-byte hex runs,
# base64).
swtpm_stop
swtpm_start "$WORK/tpm-log"
img5=$WORK/img5
new_image "$img5"
"$SEALCTL" format "$img5" -d "$WORK/pass" 2>/dev/null
TSS2_LOG=all+trace "$SEALCTL" enroll "$img5" tpm2 -d "$WORK/pass" > "$WORK/trace.out" 2>&1
TSS2_LOG=all+trace "$SEALCTL" open --test-passphrase --token-only "$img5" >> "$WORK/trace.out" 2>&1
swtpm_reboot
TSS2_LOG=all+trace with_plugin cryptsetup open -v --test-passphrase --token-only \
	--token-type seal-tpm2 "$img5" >> "$WORK/trace.out" 2>&1
swtpm_reboot
secret=$("$TOOL" unseal-token "$img5" 0)
ktap_expect "TSS2_LOG=all+trace: the secret searched for opens the keyslot" 0 "Command successful" \
	cryptsetup open --test-passphrase -v --key-slot 1 --key-file <(hex_to_b64 "$secret") "$img5"
lines=$(grep -cE '^(error|warning|info|debug|trace):[a-z_]+:' "$WORK/trace.out")
ktap_same "TSS2_LOG=all+trace: no tpm2-tss log line from enroll, open or the plugin" "$lines" 0
counts=$(python3 "$HELPERS/count-secret.py" "$WORK/trace.out" "$secret")
ktap_diag "secret in the output: $counts"
ktap_result "TSS2_LOG=all+trace: the secret is in no output" \
	"$(echo "$counts" | grep -q 'total=0 ' && echo 0 || echo 1)"

# The PCR check before the unseal (and before any PIN) compares the current PCRs with the
# sealed object's own authPolicy, which the TPM enforces, not with the token's JSON copy of it:
# a token whose tpm2-policy-hash was altered still unseals while the PCRs hold, and is still
# refused once PCR 15 has moved.
swtpm_reboot
img7=$WORK/img7
new_image "$img7"
"$SEALCTL" format "$img7" -d "$WORK/pass" 2>/dev/null
"$SEALCTL" enroll "$img7" tpm2 -d "$WORK/pass" 2>/dev/null
cryptsetup token export --token-id 0 "$img7" |
	jq -c --arg h "$(printf '%064d' 0)" '."tpm2-policy-hash" = $h' >"$WORK/tampered.json"
cryptsetup token remove --token-id 0 "$img7"
cryptsetup token import --token-id 0 --json-file "$WORK/tampered.json" "$img7"
ktap_same "the token's tpm2-policy-hash now reads all zeros" \
	"$(cryptsetup token export --token-id 0 "$img7" | jq -r '."tpm2-policy-hash"')" "$(printf '%064d' 0)"
ktap_expect "altered tpm2-policy-hash, PCRs as enrolled: the token unseals (the object's policy counts)" 0 \
	"keyslot 1 unlocks" "$SEALCTL" open --test-passphrase --token-only "$img7"
ktap_expect "altered tpm2-policy-hash, PCR 15 moved: refused before the unseal (exit 12)" 12 \
	"PCR values differ" "$SEALCTL" open --test-passphrase --token-only "$img7"

ktap_end
