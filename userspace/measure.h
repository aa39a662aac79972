/* SPDX-License-Identifier: GPL-2.0 */
/*
 * "Unseal once per boot": every unseal of a seal-tpm2 secret, by any of our
 * code (sealctl open, --test-passphrase, enroll, rotate-kek, the token
 * plugin), is followed at once, before the secret is used, by an extend of
 * PCR 15 with
 *
 *   seal:<LUKS UUID>:unsealed
 *
 * (a failed extend and the secret is wiped unused). After an open the
 * unsealer extends it again with
 *
 *   seal:<LUKS UUID>:<hex HMAC-SHA256(key = DEK, "seal:<LUKS UUID>")>
 *
 * (TPM2_PCR_Event, so every active bank is extended with its own digest of
 * that string). The HMAC ties the measurement to the volume's key without
 * revealing it, so a swapped-in volume with the same UUID measures
 * differently; and since tpm2 tokens are bound to PCR 15's reset value,
 * nothing can unseal them again until the next reboot.
 */
#ifndef SEAL_MEASURE_H
#define SEAL_MEASURE_H

#include "secret.h"

#define SEAL_MEASUREMENT_MAX 160

/* @vk NULL: the measurement of an unseal, "seal:<UUID>:unsealed". */
int measurement_build(const char *uuid, const struct secret *vk, char *buf, size_t size);

#endif /* SEAL_MEASURE_H */
