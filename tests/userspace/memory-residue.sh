#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What a sealctl process leaves in its own memory: gdb stops each run at
# exit_group and writes a core of every mapping (MADV_DONTDUMP ones too),
# with glibc told to keep freed memory in the heap, so freed chunks are
# searched as well. The TPM secret (raw, hex, base64), the DEK (raw, hex,
# either XTS half), the admin passphrase and the PIN must not be found.
# Control: the test tool prints a secret through stdio, whose buffer keeps
# it; the same search finds that one.
# (Pages a process returned to the kernel are not covered: that is the
# guest RAM dump test.) Last, the heap wipe itself: blocks freed or moved by
# tpm2-tss and OpenSSL in a sealctl process are zero afterwards.
. "$(dirname "$0")/helpers/common.sh"
require swtpm gdb cryptsetup jq

ktap_begin 17
img=$WORK/img
printf 'admin passphrase 4d1f9c' >"$WORK/pass"
printf 'pin-7c1e9a2b44d0' >"$WORK/pin"
swtpm_start
export GLIBC_TUNABLES=glibc.malloc.trim_threshold=4294967295:glibc.malloc.mmap_threshold=33554432

# core_of CORE CMD...: run CMD under gdb, write CORE at exit_group
core_of()
{
	local core=$1
	shift
	gdb -q -batch -ex 'set pagination off' -ex 'set dump-excluded-mappings on' \
		-ex 'catch syscall exit_group' -ex run -ex 'info proc mappings' \
		-ex "gcore $core" -ex kill \
		--args "$@" >"$core.log" 2>&1 </dev/null
	[ -s "$core" ]
}

# none NAME CORE LABEL=HEX...: no form of any HEX secret in CORE
none()
{
	local name=$1 core=$2 pair hex counts total=0 n
	shift 2
	for pair in "$@"; do
		hex=${pair#*=}
		counts=$(python3 "$HELPERS/count-secret.py" "$core" "$hex")
		n=$(printf '%s\n' "$counts" | sed -n 's/.*total=\([0-9]*\).*/\1/p')
		total=$((total + n))
		if [ "$n" != 0 ]; then
			ktap_diag "$name: ${pair%%=*}: $counts"
			ktap_diag "$(sed -n '/Start Addr/,/^Saved/p' "$core.log")"
		fi
	done
	ktap_result "$name" $((total != 0))
}

hex_of() { od -An -tx1 | tr -d ' \n'; }
dek_of()
{
	cryptsetup luksDump --dump-volume-key -q --key-file "$WORK/pass" "$img" |
		sed -n '/^MK dump:/,$p' | sed 's/^MK dump://' | tr -d ' \t\n'
}

control=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
core_of "$WORK/core.control" "$TOOL" roundtrip "$control"
ktap_result "control: gdb wrote a core at exit" $?
n=$(python3 "$HELPERS/count-secret.py" "$WORK/core.control" "$control" |
	sed -n 's/.*total=\([0-9]*\).*/\1/p')
ktap_diag "control: secret printed through stdio: $n copies found"
[ "$n" -gt 0 ]
ktap_result "control: the search finds a secret left in memory" $?

new_image "$img"
"$SEALCTL" format "$img" -d "$WORK/pass" 2>/dev/null
core_of "$WORK/core.enroll" "$SEALCTL" enroll "$img" tpm2 --pin --pin-file "$WORK/pin" -d "$WORK/pass"
ktap_result "enroll tpm2 (PIN) ran under gdb" $?
secret=$("$TOOL" unseal-token "$img" 0 "$WORK/pin")
ktap_same "TPM secret read back (256 bits)" "${#secret}" 64
dek=$(dek_of)
ktap_same "DEK read back (512 bits)" "${#dek}" 128
pass=$(hex_of <"$WORK/pass")
pin=$(hex_of <"$WORK/pin")
# the TPM auth value sealctl derives from the PIN (pin_auth() in userspace/tpm2.c)
pin_auth=$(cryptsetup luksDump --dump-json-metadata "$img" | python3 -c '
import base64, hashlib, json, sys
salt = base64.b64decode(json.load(sys.stdin)["tokens"]["0"]["tpm2-pin-salt"])
print(hashlib.pbkdf2_hmac("sha256", open(sys.argv[1], "rb").read(), salt, 10000, 32).hex())' "$WORK/pin")
ktap_same "PIN auth value derived from the token (256 bits)" "${#pin_auth}" 64

core_of "$WORK/core.open" "$SEALCTL" open --test-passphrase --token-only --pin-file "$WORK/pin" "$img"
ktap_result "open (TPM token with PIN) ran under gdb" $?
grep -q "keyslot 1 unlocks" "$WORK/core.open.log"
ktap_result "... and the token unlocked keyslot 1" $?
core_of "$WORK/core.pass" "$SEALCTL" open --test-passphrase --no-tokens -d "$WORK/pass" "$img"
ktap_result "open (passphrase) ran under gdb" $?
core_of "$WORK/core.recovery" "$SEALCTL" enroll "$img" recovery --no-tokens -d "$WORK/pass"
ktap_result "enroll recovery ran under gdb" $?
recovery=$(grep -Eo '([0-9a-f]{8}-){7}[0-9a-f]{8}' "$WORK/core.recovery.log" | head -1 | tr -d '\n' | hex_of)
ktap_same "recovery key captured from its output" "${#recovery}" 142

dek_forms=("dek=$dek" "dek-half-1=${dek:0:64}" "dek-half-2=${dek:64}")
none "enroll tpm2: no TPM secret, DEK, passphrase, PIN or PIN auth value left" "$WORK/core.enroll" \
	"tpm-secret=$secret" "${dek_forms[@]}" "passphrase=$pass" "pin=$pin" "pin-auth=$pin_auth"
none "open by token: no TPM secret, DEK, PIN or PIN auth value left" "$WORK/core.open" \
	"tpm-secret=$secret" "${dek_forms[@]}" "pin=$pin" "pin-auth=$pin_auth"
none "open by passphrase: no DEK or passphrase left" "$WORK/core.pass" \
	"${dek_forms[@]}" "passphrase=$pass"
none "enroll recovery: no DEK, passphrase or recovery key left" "$WORK/core.recovery" \
	"${dek_forms[@]}" "passphrase=$pass" "recovery-key=$recovery"

# The mechanism under the searches above (userspace/heapwipe.c): in a sealctl process, a
# block tpm2-tss frees (Esys_Free: the free() its Esys_TR_Close and Esys_Finalize use too)
# and the old place of a block OpenSSL's realloc moves are zero afterwards, not the 0x41 /
# 0x42 written into them. (glibc reuses a freed block's first 16 bytes: bytes 100 and 199
# are read.)
cat >"$WORK/wipe.gdb" <<'EOF'
set pagination off
catch syscall exit_group
run
set $p = (unsigned char *)CRYPTO_malloc(200, 0, 0)
call (void *)memset($p, 0x41, 200)
call (void)Esys_Free($p)
printf "wipe-check freed-by-tpm2-tss %d %d\n", $p[100], $p[199]
set $q = (unsigned char *)CRYPTO_malloc(200, 0, 0)
call (void *)memset($q, 0x42, 200)
set $r = (unsigned char *)CRYPTO_realloc($q, 1048576, 0, 0)
printf "wipe-check moved-by-openssl %d %d %d\n", $q[100], $q[199], $q != $r
kill
EOF
out=$(gdb -q -batch -x "$WORK/wipe.gdb" --args "$SEALCTL" --version 2>&1 </dev/null)
ktap_same "a block tpm2-tss frees in sealctl is wiped" \
	"$(sed -n 's/^wipe-check freed-by-tpm2-tss //p' <<<"$out")" "0 0"
ktap_same "a block OpenSSL's realloc moves in sealctl is wiped at its old place" \
	"$(sed -n 's/^wipe-check moved-by-openssl //p' <<<"$out")" "0 0 1"
ktap_end
