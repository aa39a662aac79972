/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Unseal once per boot: the only way our code (sealctl, the token plugin)
 * takes a seal-tpm2 secret out of the TPM. Right after the TPM answers,
 * before the secret is used for anything, PCR 15 is extended with
 * "seal:<LUKS UUID>:unsealed" (measure.h), so every tpm2 token bound to PCR
 * 15's reset value refuses from then on until the next reboot. If the
 * extend fails the secret is wiped unused: no unseal is ever left
 * unmeasured. Before it, a TPM2 that appeared after the initramfs is locked
 * and refused (tpm_late.h: -EPERM).
 */
#ifndef SEAL_UNSEAL_H
#define SEAL_UNSEAL_H

#include "secret.h"
#include "tpm2.h"

/* -ENOTRECOVERABLE: unsealed, but PCR 15 could not be extended (wiped). */
int seal_unseal_once(struct seal_tpm *t, const char *luks_uuid,
		     const struct seal_tpm_sealed *sealed, const struct secret *pin,
		     struct secret **ret);

/*
 * The initramfs only (sealctl open --defer-lock): the same unseal, its
 * measurement recorded as pending (pending.h) before the TPM is asked, not
 * extended; `sealctl lock-tpm` extends it with this boot's others.
 * -EPERM outside an initramfs, -EROFS when the record cannot be written
 * (nothing unsealed then).
 */
int seal_unseal_deferred(struct seal_tpm *t, const char *luks_uuid,
			 const struct seal_tpm_sealed *sealed, const struct secret *pin,
			 struct secret **ret);

#endif /* SEAL_UNSEAL_H */
