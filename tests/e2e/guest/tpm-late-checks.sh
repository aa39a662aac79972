#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs as root inside a booted e2e system (tests/e2e/guest/init, seal_e2e.run=) whose
# initramfs saw no TPM (seal_e2e.tpm=late: tests/e2e/guest/tpm-late-hook.sh unbound it) and
# unlocked the root by passphrase. Installs the late-TPM udev rule and sealctl as `make
# install` does, starts udevd, then lets the TPM appear (binds its driver again), PCR 15
# still at its reset value: the rule must extend it before anyone can unseal, so sealctl on
# the real volume gets exit 12 (PCR mismatch). Without the rule it would get the KEK.
# Prints "SEAL-E2E-CHECK <name> ok|fail" lines, with "# " details before them.
# $1: the build directory.
build=${1:-/work/main/build}
top=$(cd "$(dirname "$0")/../../.." && pwd)
dev=/dev/vda1
say() { echo "# $*"; }
result() { echo "SEAL-E2E-CHECK $1 $([ "$2" = 0 ] && echo ok || echo fail)"; }

# what the initramfs left in /run (this script's / is the host's, its /run a fresh tmpfs;
# the booted root's /run is PID 1's)
oldrun=/proc/1/root/run
mkdir -p /run/seal
# (--no-canonicalize: mount would resolve /proc/1/root to "/" and bind /run/seal onto itself)
mount --no-canonicalize --bind "$oldrun/seal" /run/seal
ls -l /run/seal | sed 's/^/# /'
result late-not-locked-noted "$([ -e /run/seal/tpm-not-locked ]; echo $?)"

# make install's part: sealctl in SBINDIR, the rule with that path
install -m 0755 "$build/userspace/sealctl" /usr/sbin/sealctl
sed 's|@SBINDIR@|/usr/sbin|g' "$top/userspace/90-seal-tpm-late.rules.in" \
	> /etc/udev/rules.d/90-seal-tpm-late.rules
/lib/systemd/systemd-udevd --daemon 2>&1 | sed 's/^/# /'

# the initramfs must not have seen the TPM: its device is bound here, or the checks fail
rm=""
if read -r drv tpmdev < "$oldrun/seal-e2e-tpm-late" && [ -z "$(ls /sys/class/tpmrm)" ]; then
	say "binding $tpmdev to $drv"
	echo "$tpmdev" > "$drv/bind"
	# (udevadm declines to settle in a chroot unless told to go ahead)
	SYSTEMD_IGNORE_CHROOT=1 udevadm settle --timeout=60 2>&1 | sed 's/^/# udevadm settle: /'
	# A loaded TCG host can keep udevd from answering settle in time: what counts is that
	# the rule's extend arrives, so wait for PCR 15 itself (bounded), not for settle.
	for _ in $(seq 240); do
		rm=$(ls /sys/class/tpmrm 2>/dev/null | head -1)
		[ -n "$rm" ] && [ -n "$(tr -d '0\n' < "/sys/class/tpm/tpm${rm#tpmrm}/pcr-sha256/15" 2>/dev/null)" ] &&
			break
		sleep 0.5
	done
else
	say "the TPM was not hidden from the initramfs (tests/e2e/guest/tpm-late-hook.sh)"
fi
tpm=${rm#tpmrm}
say "the TPM appeared as /dev/$rm"
p=$(tr -d '0\n' < "/sys/class/tpm/tpm$tpm/pcr-sha256/15" 2>/dev/null)
say "PCR 15: $(cat "/sys/class/tpm/tpm$tpm/pcr-sha256/15" 2>&1)"
result late-pcr15-moved "$([ -n "$rm" ] && [ -n "$p" ]; echo $?)"

out=$(sealctl --tcti "device:/dev/${rm:-none}" open --test-passphrase --token-only "$dev" 2>&1)
rc=$?
[ -n "$rm" ] || rc=none
say "sealctl open --test-passphrase --token-only $dev on the late TPM: exit $rc"
echo "$out" | sed 's/^/# /'
result late-tpm-cannot-unseal "$([ $rc = 12 ]; echo $?)"
udevadm control --exit 2>/dev/null
umount /run/seal
