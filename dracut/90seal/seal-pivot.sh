#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# pre-pivot hook: the initramfs is done with the TPM. If it was to unlock seal volumes,
# close the TPM for this boot whether or not anything was unsealed (a volume that failed
# with nofail, a TPM that answered late), so the booted system cannot unseal a KEK.
type seal_volumes >/dev/null 2>&1 || . /lib/dracut-seal-lib.sh

[ -n "$(seal_volumes 2>/dev/null)" ] && seal_lock_tpm initramfs-done
