/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A TPM2 that appears after the initramfs must not unseal. An initramfs that
 * found no TPM could not extend PCR 15 and leaves SEAL_TPM_NOT_LOCKED behind
 * (dracut/90seal, seal_lock_tpm); the booted system's udev rule
 * (90-seal-tpm-late.rules) extends PCR 15 when the TPM appears. This does the
 * same without udevd, before every unseal by our code (unseal.c: sealctl and
 * the token plugin): with the marker there and PCR 15 still at its reset
 * value, PCR 15 is extended with the rule's event and the unseal refused.
 */
#ifndef SEAL_TPM_LATE_H
#define SEAL_TPM_LATE_H

#include "tpm2.h"

#define SEAL_TPM_NOT_LOCKED	"/run/seal/tpm-not-locked"
/* what `sealctl lock-tpm tpm-late` (the udev rule) extends */
#define SEAL_TPM_LATE_EVENT	"seal:lock:tpm-late"

/*
 * 0: nothing to do, go on with the unseal. -EPERM: PCR 15 was at its reset
 * value and is extended now: refuse (a PCR mismatch, exit 12). Any other
 * errno: the TPM failed (seal_tpm_pcr_event's codes): refuse too. PCR 15 is
 * read and extended in an HMAC session salted to @primary (the token's
 * recorded primary), so the TPM authenticates the answers.
 */
int seal_tpm_late_lock(struct seal_tpm *t, const TPM2B_NAME *primary);

#endif /* SEAL_TPM_LATE_H */
