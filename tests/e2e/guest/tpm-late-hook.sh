#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Test machinery, not part of dracut/90seal: a cmdline hook in the e2e initramfs images.
# With seal_e2e.tpm=late on the kernel command line it hides the TPM from the initramfs by
# unbinding its driver (tpm_tis is built into Debian's kernels, so rd.driver.blacklist= cannot
# keep it out), and notes the device in /run/seal-e2e-tpm-late ("DRIVER-DIR DEVICE") for the
# booted system, which binds it again: a TPM2 that appears after the initramfs, with PCR 15
# still at its reset value. QEMU cannot hot-add a tpm-tis device.
[ "$(getarg seal_e2e.tpm=)" = late ] || return 0
for _d in /sys/class/tpm/tpm*/device; do
	[ -e "$_d/driver" ] || continue
	_drv=$(readlink -f "$_d/driver")
	_dev=$(readlink -f "$_d")
	_dev=${_dev##*/}
	echo "$_dev" > "$_drv/unbind" && echo "$_drv $_dev" > /run/seal-e2e-tpm-late
	info "seal-e2e: TPM $_dev unbound from $_drv (seal_e2e.tpm=late)"
done
unset _d _drv _dev
