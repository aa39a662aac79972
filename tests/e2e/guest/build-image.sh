#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs in a tests/vm/run guest (host tools, the e2e TPM attached, the e2e disk as /dev/vda
# with two GPT partitions): make /dev/vda1 a seal volume whose file system is the e2e root.
#   format (passphrase, keyslot 0) -> enroll tpm2 (PCRs $E2E_PCRS) -> enroll recovery ->
#   open -> mkfs.ext4 -> busybox, /sbin/init, /pgdata (an initdb'ed PostgreSQL cluster), the
#   modules init loads -> close
# and /dev/vda2 a second seal volume, passphrase and tpm2 (the same PCRs), nothing inside.
# Environment: E2E_PASSPHRASE_FILE (the admin passphrase, keyslot 0), E2E_PCRS, E2E_INIT
# (the root's /sbin/init), E2E_EXTRAS (a tar of the rest: /pgdata, /lib/modules/KVER/*.ko
# and load-order), SEAL_VM_OUT (results: luks-uuid, recovery-key, dek.hex, keyslots, pcrs,
# data-uuid).
set -euo pipefail
. "$SEAL_ROOT/tests/lib/guest.sh"

dev=/dev/vda1
out=$SEAL_VM_OUT
# the test build: cheap Argon2id for the admin passphrase (the initramfs gets the installed one)
sealctl=$SEAL_BUILD/userspace/tests/sealctl
export SEAL_TEST_FAST_PBKDF=1

step() { echo "build-image: [$(cut -d" " -f1 /proc/uptime)s] $*"; }

data=/dev/vda2
[ -b "$dev" ] && [ -b "$data" ] || { echo "build-image: no $dev or $data" >&2; exit 1; }
umask 077
cp "$E2E_PASSPHRASE_FILE" /tmp/pass

step "format $dev"
"$sealctl" format --key-file /tmp/pass "$dev"
step "enroll tpm2 (PCRs $E2E_PCRS)"
"$sealctl" enroll --no-tokens --key-file /tmp/pass --pcrs "$E2E_PCRS" "$dev" tpm2
step "enroll recovery"
"$sealctl" enroll --no-tokens --key-file /tmp/pass "$dev" recovery > "$out/recovery-key"
"$sealctl" list "$dev" > "$out/keyslots"
cat "$out/keyslots"
blkid -s UUID -o value "$dev" > "$out/luks-uuid"
step "format $data, enroll tpm2 (PCRs $E2E_PCRS)"
"$sealctl" format --key-file /tmp/pass "$data"
"$sealctl" enroll --no-tokens --key-file /tmp/pass --pcrs "$E2E_PCRS" "$data" tpm2
blkid -s UUID -o value "$data" > "$out/data-uuid"
tpm2_pcrread -T device:/dev/tpmrm0 "sha256:$(echo "$E2E_PCRS" | tr + ,)" > "$out/pcrs"

# the test oracle for "no readable DEK anywhere": the volume key, from stock cryptsetup
cryptsetup luksDump --batch-mode --dump-volume-key --volume-key-file /tmp/dek \
	--key-file /tmp/pass "$dev" >/dev/null
od -An -v -tx1 /tmp/dek | tr -d ' \n' > "$out/dek.hex"
rm -f /tmp/dek

load_seal
step "open and make the root file system"
"$sealctl" open --no-tokens --key-file /tmp/pass "$dev" e2eroot
dm_track e2eroot
# no lazy initialisation: the booted guests would otherwise spend their first minutes
# zeroing inode tables through the seal target in the background
mkfs.ext4 -q -L sealroot -E lazy_itable_init=0,lazy_journal_init=0 /dev/mapper/e2eroot
mkdir -p /tmp/root
mount /dev/mapper/e2eroot /tmp/root
on_exit "umount /tmp/root 2>/dev/null || :"
mkdir -p /tmp/root/{bin,sbin,dev,proc,sys,run,tmp,etc,host,rw,newroot}
cp /bin/busybox /tmp/root/bin/busybox
install -m 0755 "$E2E_INIT" /tmp/root/sbin/init
# systemd's switch-root wants an OS tree
printf 'ID=seal-e2e\nNAME="dm-seal e2e root"\n' > /tmp/root/etc/os-release
tar -C /tmp/root --numeric-owner -xpf "$E2E_EXTRAS"
df -h /tmp/root | tail -1
umount /tmp/root
"$sealctl" close e2eroot
# guest.sh's exit trap removes what is left; it is not written for set -e
set +e
step "done"
