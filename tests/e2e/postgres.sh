#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Case 6, the seed scenario: Debian's PostgreSQL keeps its data directory on a seal volume
# (the e2e root). The first boot comes with a changed boot chain (E2E_CHANGED_CHAIN: PCR 10
# differs): the TPM refuses, the passphrase typed at the prompt boots; a table gets a known
# secret, CHECKPOINT, the server stops; the TPM keyslot is re-sealed to this boot chain
# (sealctl rotate-kek); the guest powers off. `strings` over the raw disk image finds no
# trace of the secret (while the same search over the cluster's files, inside the guest,
# does); the next boot, with the same changed chain, is unattended again (through the new
# keyslot: the old one is gone) and the row reads back; the raw disk still holds no trace
# of it, nor of the passphrase, which no transcript holds either. This is make demo's story
# (demo/run) in two boots, with its checks (tests/README.md, "make demo and make check").
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
ktap_begin 9
e2e_initramfs "$k" "$f"
e2e_image

# the disk keeps this test's writes: a copy of the shared image, removed at exit
disk=$(mktemp "$e2e_dir/disk-copy.$$.XXXXXX")
e2e_temp "$disk"
cp --sparse=always "$E2E_IMAGE" "$disk"
random=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
secret="SEAL-E2E-SECRET-$random"
script=$top/tests/e2e/guest/postgres.sh

# the first boot: a changed boot chain, the passphrase; the row; rotate-kek
log=$e2e_logs/case6-postgres-write-$k-$f.log
write_log=$log
e2e_check "$k $f: case 6: changed boot chain ($E2E_CHANGED_CHAIN): the TPM refuses, the passphrase boots; table with the secret written and checkpointed" \
	--kernel "$k" --flavour "$f" --disk "$disk" --persist --log "$log" \
	--append "$E2E_CHANGED_CHAIN seal_e2e.run=$top/tests/e2e/guest/case6-write-rotate.sh seal_e2e.arg=$e2e_build,$E2E_PCRS,$secret" \
	-- timeout=600 expect='PCR values differ' expect="$E2E_PROMPT" sendfile="$E2E_PASSPHRASE_FILE" \
	expect="$E2E_MARKER" expect='SEAL-E2E-CHECK postgres-write ok' expect='SEAL-E2E-SCRIPT-EXIT 0' \
	expect='SEAL-E2E-POWEROFF' eof
if grep -q '^SEAL-E2E-CHECK plaintext-visible ok' "$log"; then
	ktap_pass "$k $f: case 6: above the encryption, strings finds the secret in the cluster's files"
else
	ktap_fail "$k $f: case 6: above the encryption, strings finds the secret in the cluster's files" \
		"$(grep -E '^(# |SEAL-E2E-CHECK)' "$log")"
fi

# the raw disk (e2e_raw_disk_hits, make demo's check): strings, and any bytes of the random part
read -r n m < <(e2e_raw_disk_hits "$disk" "$secret" "$random")
ktap_result "$k $f: case 6: strings over the raw disk image finds no trace of the secret" \
	"$([ "$n" = 0 ]; echo $?)"
ktap_result "$k $f: case 6: no byte-level match of its random part either" "$([ "$m" = 0 ]; echo $?)"
[ "$n $m" = "0 0" ] || ktap_diag "strings: $n, grep -a: $m"
if grep -q '^SEAL-E2E-CHECK rotate-kek ok' "$log"; then
	ktap_pass "$k $f: case 6: rotate-kek re-sealed the TPM keyslot to the changed boot chain: one new tpm2 keyslot, the old one gone"
else
	ktap_fail "$k $f: case 6: rotate-kek re-sealed the TPM keyslot to the changed boot chain: one new tpm2 keyslot, the old one gone" \
		"$(grep -E '^(# |SEAL-E2E-CHECK)' "$log")"
fi

log=$e2e_logs/case6-postgres-read-$k-$f.log
e2e_check "$k $f: case 6: second boot, the same changed chain: unattended, through the re-sealed keyslot" \
	--kernel "$k" --flavour "$f" --disk "$disk" --persist --log "$log" \
	--append "$E2E_CHANGED_CHAIN seal_e2e.run=$script seal_e2e.arg=read" \
	-- timeout=600 reject="$E2E_PROMPT" expect="$E2E_MARKER" \
	expect='SEAL-E2E-SCRIPT-EXIT' expect='SEAL-E2E-POWEROFF' eof
if grep -qx "SEAL-E2E-PG-ROW $secret" "$log"; then
	ktap_pass "$k $f: case 6: the row reads back"
else
	ktap_fail "$k $f: case 6: the row reads back" "$(grep -E '^(# |SEAL-E2E)' "$log")"
fi
hits=$(e2e_raw_disk_hits "$disk" "$secret" "$random")
ktap_result "$k $f: case 6: after both boots the raw disk still holds no trace of the secret (strings, bytes: $hits)" $?
found=$(e2e_secret_nowhere "$disk" "$write_log" "$log" < "$E2E_PASSPHRASE_FILE")
ktap_result "$k $f: case 6: the passphrase typed at the prompt is in neither transcript nor the raw disk${found:+ (found in: $found)}" $?
ktap_end
