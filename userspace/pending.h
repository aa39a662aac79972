/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Deferred PCR 15 measurements: several tpm2 volumes at one boot.
 *
 * Each unseal extends PCR 15 at once (unseal.h), so a second tpm2 volume at
 * the same boot could not unseal. In the initramfs only, `sealctl open
 * --defer-lock` instead writes what it would have extended to
 *
 *   SEAL_PENDING_DIR/<LUKS UUID>.unsealed   before asking the TPM to unseal
 *   SEAL_PENDING_DIR/<LUKS UUID>.opened     a volume opened without the TPM
 *
 * one measurement string a line (measure.h: the UUID, "unsealed", an HMAC
 * keyed with the DEK; no key material), and `sealctl lock-tpm` extends every
 * line, then its lock event, and only then removes the files. The initramfs
 * (dracut/90seal) runs lock-tpm before switch-root and before any shell;
 * while a .unsealed record is left after it, the boot does not continue.
 * PCR 15 moves once all of this boot's unseals are done.
 */
#ifndef SEAL_PENDING_H
#define SEAL_PENDING_H

#include <stdbool.h>

#include "tpm2.h"

#define SEAL_PENDING_DIR "/run/seal/pending"
#define SEAL_INITRD_RELEASE "/etc/initrd-release"

/* Running in an initramfs (systemd's and dracut's mark: /etc/initrd-release). */
bool seal_in_initramfs(void);

/* Append @measurement to SEAL_PENDING_DIR/<uuid>.<kind> (kind "unsealed" or "opened"). */
int pending_add(const char *uuid, const char *kind, const char *measurement);

/*
 * Extend PCR 15 with every pending line (files in name order); *@count lines.
 * A TPM error as seal_tpm_pcr_event's, -EUCLEAN: a record cannot be read.
 */
int pending_extend(struct seal_tpm *t, unsigned int *count);

/* Remove every pending record (after pending_extend and the lock succeeded). */
int pending_clear(void);

#endif /* SEAL_PENDING_H */
