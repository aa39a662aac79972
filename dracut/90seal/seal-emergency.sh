#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# emergency hook, run before dracut's shell in both flavours (a failed unlock, a device that
# never appeared, an rd.break point): first close the TPM for this boot, so that whoever
# gets the shell cannot unseal a KEK; then name every seal volume that is not open and
# whose failure has not been told yet (a device that never appeared).
type seal_volumes >/dev/null 2>&1 || . /lib/dracut-seal-lib.sh

seal_lock_tpm emergency-shell

seal_volumes 2>/dev/null | while read -r _name _dev _opts; do
	[ -e "$SEAL_RUN/$_name.done" ] && continue
	[ -e "$SEAL_RUN/$_name.failed" ] && continue
	if [ -b "$_dev" ]; then
		warn "seal: volume $_name ($_dev) is not unlocked"
	else
		warn "seal: volume $_name: device $_dev not found"
	fi
done
