#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The demo's part inside its guests. tests/e2e/guest/init runs this file (seal_e2e.run=) as
# root, with the host's tools, its standard input and output on the serial console that
# demo/run drives. Lines "demo| ..." are what demo/run shows; "DEMO-ASK what" asks demo/run
# to type a passphrase (read here without echo, kept in this shell, handed on through
# pipes); "DEMO-OK step" / "DEMO-FAIL step: why" are what demo/run checks. The checks of
# the booted system are tests/e2e/guest/checks.sh's, the ones make check's boots run
# (tests/README.md, "make demo and make check").
# $1: MODE,BUILD[,ROW]
#   install  format /dev/vda1, enroll tpm2 + recovery, make the root file system with a
#            PostgreSQL cluster and store ROW in a table   (from the plain installer system)
#   look     what root on the booted system can see                (root on the seal volume)
#   rotate   re-seal the TPM keyslot to this boot's PCRs (asks for the passphrase)
#   read     read the table back
IFS=, read -r mode build row <<<"$1"
top=$(cd "$(dirname "$0")/../.." && pwd)
dev=/dev/vda1
name=sealroot
pcrs=7+10+15
export PATH=$build/userspace:$PATH TPM2TOOLS_TCTI=device:/dev/tpmrm0 TSS2_LOG=all+none
failed=0
SEALCTL=sealctl
. "$top/tests/e2e/guest/checks.sh"

say() { echo "demo| $*"; }
# run CMD...: show the command, run it, show its output indented; CMD's status
run()
{
	local rc
	say "# $*"
	"$@" > /tmp/demo-out 2>&1
	rc=$?
	sed 's/^/demo|   /' /tmp/demo-out
	return $rc
}
check() { if [ "$2" = 0 ]; then echo "DEMO-OK $1"; else echo "DEMO-FAIL $1: $3"; failed=1; fi; }
# ask WHAT: demo/run types a passphrase; it lands in $secret
ask()
{
	echo "DEMO-ASK $1"
	IFS= read -rs secret
	echo
}
# postgres MODE[:ROW]: the e2e tests' PostgreSQL script on the cluster at /mnt/pgdata
postgres() { bash "$top/tests/e2e/guest/postgres.sh" "$1" 2>&1 | sed 's/^/demo|   /'; }

install_system()
{
	local root=/mnt/sealroot uuid
	say "We are in a small plain installer system on the disk's second partition."
	say "The first partition, $dev, becomes the encrypted volume for the root file system."
	say "The administrator chooses a passphrase (demo/run types it; nothing echoes it):"
	ask "admin passphrase"
	# the passphrase goes to sealctl through a pipe, never a file or an argument
	printf '%s' "$secret" | run sealctl format --key-file - "$dev"
	check format $? "sealctl format failed"
	say "A second KEK from the TPM: 32 random bytes sealed to PCRs 7 (Secure Boot state),"
	say "10 (what the kernel measured at boot) and 15 (bound to its reset value: once per boot)."
	printf '%s' "$secret" | run sealctl enroll --pcrs "$pcrs" --key-file - "$dev" tpm2
	check enroll-tpm2 $? "sealctl enroll tpm2 failed"
	say "A recovery key, printed once (in real life written down and stored offline;"
	say "the demo discards it, so that it appears in no transcript):"
	say "# sealctl enroll $dev recovery > /dev/null"
	printf '%s' "$secret" | sealctl enroll --key-file - "$dev" recovery >/dev/null 2>/tmp/demo-out
	check enroll-recovery $? "$(cat /tmp/demo-out)"
	unset secret
	run sealctl list "$dev"
	uuid=$(blkid -s UUID -o value "$dev")
	echo "DEMO-UUID $uuid"

	# the installer's initramfs unlocked nothing, so nothing loaded the seal target yet
	kroot=/var/cache/dm-seal/kernels/$(uname -r)
	modprobe -d "$kroot" dm-mod && modprobe -d "$kroot" xts &&
		insmod "$build/kernel/$(uname -r)/dm-seal.ko"
	check load-module $? "cannot load dm-seal.ko"
	say "Open it (the TPM unseals the KEK, nobody types anything), make the file system:"
	run sealctl open "$dev" "$name"
	check open $? "sealctl open failed"
	mkfs.ext4 -q -L sealroot "/dev/mapper/$name" && mkdir -p "$root" &&
		mount "/dev/mapper/$name" "$root"
	check mkfs $? "mkfs or mount failed"
	say "Copy a tiny system onto it (busybox, an init) and a PostgreSQL cluster."
	mkdir -p "$root"/{bin,sbin,dev,proc,sys,run,tmp,etc,host,rw,newroot}
	cp /bin/busybox "$root/bin/busybox"
	install -m 0755 "$top/tests/e2e/guest/init" "$root/sbin/init"
	printf 'ID=seal-demo\nNAME="dm-seal demo root"\n' > "$root/etc/os-release"
	tar -C "$root" --numeric-owner -xpf "$build/demo/root-extras.tar"
	check populate $? "cannot copy the root file system"

	say "Start PostgreSQL on the encrypted volume and store a row in a table: '$row'"
	umount /mnt/pgdata 2>/dev/null
	mkdir -p /mnt/pgdata && mount --bind "$root/pgdata" /mnt/pgdata
	postgres "write:$row"
	umount /mnt/pgdata
	run df -h "$root"
	umount "$root" && run sealctl close "$name"
	check close $? "umount or sealctl close failed"
	[ "$failed" = 0 ] && echo "DEMO-OK install"
}

look()
{
	say "The root file system is /dev/mapper/$name; the initramfs unlocked it through the TPM."
	say "What the kernel has as the mapping's key: only a name, even with --showkeys:"
	check_table_logon "$name"
	check table-names-key $? "the table is not seal's or does not name a logon key"
	say "The DEK went in as a logon key (unreadable from userspace) and was unlinked:"
	check_no_seal_key
	check no-key-in-keyrings $? "root sees seal:... keys"
	say "PCR 15 was extended after the unlock, so the TPM's policy no longer holds:"
	check_pcr15_moved
	check pcr15-moved $? "PCR 15 is at its reset value"
	say "Root asks the TPM for the KEK again, with sealctl, as the initramfs did:"
	check_token_refused "$dev"
	check tpm-refuses-root $? "sealctl did not get exit 12"
	say "What root *can* do is read the data through the mapping - that is what it is for:"
	postgres read
	[ "$failed" = 0 ] && echo "DEMO-OK look"
}

rotate()
{
	say "This boot asked for the passphrase: PCR 10 is not what the TPM keyslot was sealed to."
	run sealctl list "$dev"
	say "The new boot chain is trusted: re-seal the TPM keyslot to this boot's PCRs."
	say "That takes an existing KEK (the TPM refuses now), so the passphrase once more:"
	ask "admin passphrase (rotate-kek)"
	printf '%s' "$secret" | check_rotate_kek "$dev" "$pcrs"
	check rotate-kek $? "sealctl rotate-kek failed, or not one new tpm2 keyslot bound to $pcrs"
	unset secret
	run sealctl list "$dev"
	[ "$failed" = 0 ] && echo "DEMO-OK rotate"
}

case "$mode" in
install) install_system ;;
look) look ;;
rotate) rotate ;;
read)
	say "Unattended again; the table is still there:"
	postgres read
	echo "DEMO-OK read"
	;;
*) echo "DEMO-FAIL usage: unknown mode '$mode'" ;;
esac
rm -f /tmp/demo-out
