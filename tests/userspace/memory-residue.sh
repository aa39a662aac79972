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
# guest RAM dump test.)
. "$(dirname "$0")/helpers/common.sh"
require swtpm gdb cryptsetup jq

ktap_begin
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
none "enroll tpm2: no TPM secret, DEK, passphrase or PIN left" "$WORK/core.enroll" \
	"tpm-secret=$secret" "${dek_forms[@]}" "passphrase=$pass" "pin=$pin"
none "open by token: no TPM secret, DEK or PIN left" "$WORK/core.open" \
	"tpm-secret=$secret" "${dek_forms[@]}" "pin=$pin"
none "open by passphrase: no DEK or passphrase left" "$WORK/core.pass" \
	"${dek_forms[@]}" "passphrase=$pass"
none "enroll recovery: no DEK, passphrase or recovery key left" "$WORK/core.recovery" \
	"${dek_forms[@]}" "passphrase=$pass" "recovery-key=$recovery"

ktap_end
