#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Case 6, the seed scenario: Debian's PostgreSQL keeps its data directory on a seal volume
# (the e2e root, unlocked unattended by the initramfs through the TPM). A table gets a known
# secret, CHECKPOINT, the server stops, the guest powers off; `strings` over the raw disk
# image finds no trace of it (while the same search over the cluster's files, inside the
# guest, does); the next boot is unattended again and the row reads back.
# Runs natively (it drives QEMU itself), once per kernel (E2E_KERNEL=6.1|6.12, as
# tests/run-tests does): 6.1 with dracut's own init in the initramfs, 6.12 with systemd, so
# that both kernels and both flavours run it. E2E_FLAVOUR=shell|systemd overrides.
# timeout: 1800
# (Each boot may take 600 s: at host load 25 a clean-clone run had both kernels' boots past
# the old 300 s, the guest still starting PostgreSQL.)
# e2e: once per kernel
# check-kernels: 6.1
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/ktap.sh"
. "$top/tests/e2e/lib/e2e.sh"

k=${E2E_KERNEL:-6.1}
case "$k" in
6.1) f=${E2E_FLAVOUR:-shell} ;;
*) f=${E2E_FLAVOUR:-systemd} ;;
esac
E2E_KERNELS=$k
e2e_require
if [ -z "$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null)" ]; then
	ktap_begin 1
	ktap_fail "postgres on a seal volume" "PostgreSQL is not installed (Debian package postgresql; make deps)"
	ktap_end
fi
ktap_begin 6
e2e_initramfs "$k" "$f"
e2e_image

# the disk keeps this test's writes: a copy of the shared image, removed at exit
disk=$(mktemp "$e2e_dir/disk-copy.$$.XXXXXX")
e2e_temp "$disk"
cp --sparse=always "$E2E_IMAGE" "$disk"
random=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
secret="SEAL-E2E-SECRET-$random"
script=$top/tests/e2e/guest/postgres.sh

log=$e2e_logs/case6-postgres-write-$k-$f.log
e2e_check "$k $f: case 6: unattended boot, table with the secret written and checkpointed" \
	--kernel "$k" --flavour "$f" --disk "$disk" --persist --log "$log" \
	--append "seal_e2e.run=$script seal_e2e.arg=write:$secret" \
	-- timeout=600 reject="$E2E_PROMPT" expect="$E2E_MARKER" \
	expect='SEAL-E2E-CHECK postgres-write ok' expect='SEAL-E2E-SCRIPT-EXIT 0' \
	expect='SEAL-E2E-POWEROFF' eof
if grep -q '^SEAL-E2E-CHECK plaintext-visible ok' "$log"; then
	ktap_pass "$k $f: case 6: above the encryption, strings finds the secret in the cluster's files"
else
	ktap_fail "$k $f: case 6: above the encryption, strings finds the secret in the cluster's files" \
		"$(grep -E '^(# |SEAL-E2E-CHECK)' "$log")"
fi

# pipefail: a strings that could not read the image must not pass as "found 0 times"
if n=$(set -o pipefail; strings -n 8 "$disk" | { grep -c -F "$secret" || true; }) && [ "$n" = 0 ]; then
	ktap_pass "$k $f: case 6: strings over the raw disk image finds no trace of the secret"
else
	ktap_fail "$k $f: case 6: strings over the raw disk image finds no trace of the secret" \
		"found '$n' times (strings exit status: see above)"
fi
n=$(grep -a -c -F "$random" "$disk")
if [ "$n" = 0 ]; then
	ktap_pass "$k $f: case 6: no byte-level match of its random part either"
else
	ktap_fail "$k $f: case 6: no byte-level match of its random part either" "grep -a: $n"
fi

log=$e2e_logs/case6-postgres-read-$k-$f.log
e2e_check "$k $f: case 6: second boot is unattended too" \
	--kernel "$k" --flavour "$f" --disk "$disk" --persist --log "$log" \
	--append "seal_e2e.run=$script seal_e2e.arg=read" \
	-- timeout=600 reject="$E2E_PROMPT" expect="$E2E_MARKER" \
	expect='SEAL-E2E-SCRIPT-EXIT' expect='SEAL-E2E-POWEROFF' eof
if grep -qx "SEAL-E2E-PG-ROW $secret" "$log"; then
	ktap_pass "$k $f: case 6: the row reads back"
else
	ktap_fail "$k $f: case 6: the row reads back" "$(grep -E '^(# |SEAL-E2E)' "$log")"
fi
ktap_end
