/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Unattended unlock by a clevis token: `clevis decrypt` with the token's JWE
 * on stdin, the keyslot passphrase read back from its stdout into locked
 * memory, within a bounded time.
 */
#ifndef SEAL_CLEVIS_UNLOCK_H
#define SEAL_CLEVIS_UNLOCK_H

#include <stdbool.h>
#include <stddef.h>

#include "secret.h"

/*
 * 0 with the passphrase and its keyslot; -EINVAL (token malformed),
 * -ETIMEDOUT, -EIO (clevis failed), with one line in @why.
 */
int clevis_token_decrypt(const char *json, unsigned int timeout_s, int *keyslot,
			 struct secret **pass, char *why, size_t size);

/*
 * Does the token's JWE use @pin, alone or inside sss? "tpm2": it takes its
 * secret out of a TPM (clevis's tpm2 pin extends nothing: the caller
 * measures); "tang": it needs the network.
 */
bool clevis_token_uses(const char *json, const char *pin);

#endif /* SEAL_CLEVIS_UNLOCK_H */
