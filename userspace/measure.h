/* SPDX-License-Identifier: GPL-2.0 */
/*
 * "Unseal once per boot": after an unlock the unsealer extends PCR 15 with
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

/* @vk may be NULL (unlock failed after an unseal): then "seal:<UUID>:failed". */
int measurement_build(const char *uuid, const struct secret *vk, char *buf, size_t size);

#endif /* SEAL_MEASURE_H */
