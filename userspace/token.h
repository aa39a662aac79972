/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The seal-tpm2 LUKS2 token: JSON <-> struct seal_tpm_sealed.
 *
 * {
 *   "type": "seal-tpm2",
 *   "keyslots": ["1"],
 *   "seal-version": 1,
 *   "tpm2-private": "<base64 TPM2B_PRIVATE, Tss2_MU marshalled>",
 *   "tpm2-public": "<base64 TPM2B_PUBLIC, Tss2_MU marshalled>",
 *   "tpm2-pcr-bank": "sha256",
 *   "tpm2-pcrs": [7, 15],
 *   "tpm2-pcrs-initial": [15],
 *   "tpm2-policy-hash": "<hex, 32 bytes>",
 *   "tpm2-primary-template": "tcg-srk-ecc-p256",
 *   "tpm2-primary-name": "<hex TPM2B_NAME of the primary key>",
 *   "tpm2-pin": false,
 *   "tpm2-pin-salt": "<base64, 16 bytes; only with a PIN>"
 * }
 *
 * The keyslot's passphrase is the unsealed 32-byte secret in base64
 * (44 characters), the convention systemd-cryptenroll uses too.
 *
 * A recovery keyslot is marked by {"type": "seal-recovery", "keyslots": ["N"]}
 * so `sealctl list` can tell it from an admin passphrase.
 */
#ifndef SEAL_TOKEN_H
#define SEAL_TOKEN_H

#include "tpm2.h"

#define SEAL_TOKEN_TYPE		"seal-tpm2"
#define SEAL_RECOVERY_TOKEN_TYPE "seal-recovery"
#define SEAL_TOKEN_VERSION	1

struct seal_token {
	int keyslot;
	struct seal_tpm_sealed sealed;
};

/* -EINVAL with *why naming the bad field, or -ENOMEM. */
int seal_token_parse(const char *json, struct seal_token *out, const char **why);
int seal_token_format(const struct seal_tpm_sealed *sealed, int keyslot, char **ret);
char *seal_recovery_token_format(int keyslot);

/* A PCR mask as the token's JSON array of PCR numbers, or NULL (no memory). */
struct json_object;
struct json_object *seal_token_pcr_array(uint32_t mask);

/* The keyslot a token of any type is assigned to first, or -ENOENT. */
int seal_token_first_keyslot(const char *json);
/* How many keyslots a token of any type is assigned to, or -EINVAL. */
int seal_token_keyslot_count(const char *json);
/* The "type" of any token JSON, or NULL. Owned by the caller. */
char *seal_token_type(const char *json);

#endif /* SEAL_TOKEN_H */
