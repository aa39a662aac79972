/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The standard LUKS2 clevis token, as `clevis luks bind` writes it:
 *
 *   {"type":"clevis","keyslots":["N"],
 *    "jwe":{"ciphertext":…,"encrypted_key":…,"iv":…,"protected":…,"tag":…}}
 *
 * The JWE (JSON serialization of clevis's compact output) encrypts the
 * keyslot's passphrase; its protected header names the pin and, for tang,
 * the server's URL and advertisement, for sss the threshold and child JWEs.
 */
#ifndef SEAL_CLEVIS_TOKEN_H
#define SEAL_CLEVIS_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#define CLEVIS_TOKEN_TYPE "clevis"

struct json_object;

/* compact JWE (@len bytes, trailing newline allowed) -> token JSON for @keyslot */
int clevis_token_format(int keyslot, const char *jwe, size_t len, char **ret);
/* token JSON -> keyslot and compact JWE; -EINVAL with *why */
int clevis_token_parse(const char *json, int *keyslot, char **ret_jwe, const char **why);

/*
 * The pin tree of a compact JWE: {"pin":"tang","url":U}, {"pin":"tpm2",
 * "pcr_ids":…,"pcr_bank":…}, {"pin":"sss","t":T,"pins":[…]}, {"pin":P}.
 * NULL when the header does not decode.
 */
struct json_object *clevis_jwe_binding(const char *jwe);
/* Does the pin tree @binding use @pin anywhere (e.g. "tpm2" inside sss)? */
bool clevis_binding_uses(struct json_object *binding, const char *pin);
/* JSON in base64url (@n characters, no padding), decoded; NULL if it is not. */
struct json_object *clevis_b64url_json(const char *b64url, size_t n);
/* One line: tang(URL), sss(t=2: tang(U1), tang(U2)), tpm2(pcrs=7) */
void clevis_binding_text(struct json_object *binding, char *buf, size_t size);
/*
 * The clevis config that binds the same way again (regen): tang URLs (no
 * thumbprint: the keys may have changed), tpm2 PCRs, sss thresholds. NULL
 * for a pin whose config the header does not tell.
 */
struct json_object *clevis_binding_config(struct json_object *binding, const char **pin);

#endif /* SEAL_CLEVIS_TOKEN_H */
