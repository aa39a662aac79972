/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Adding one KEK keyslot for a volume key already in hand. Each prints its
 * own failure line and returns an exit code; on failure the header is as
 * it was (a keyslot added before a failing token write is destroyed again).
 */
#ifndef SEAL_KEYSLOTS_H
#define SEAL_KEYSLOTS_H

#include <stdbool.h>

#include <libcryptsetup.h>

#include "exitcode.h"
#include "options.h"
#include "secret.h"

/* TPM2 secret sealed to @pcrs (PIN if @pin), PBKDF2-minimal keyslot + seal-tpm2 token. */
enum seal_exit add_tpm2_slot(struct crypt_device *cd, const char *path, const struct secret *vk,
			     const struct seal_opts *opts, uint32_t pcrs, bool pin, int *ret_slot);
/*
 * The same for a key that is not the segment's (sealctl reencrypt's new DEK): an unbound
 * keyslot. Sealing needs no PCR match, so this works after PCR 15 has moved.
 */
enum seal_exit add_tpm2_copy(struct crypt_device *cd, const char *path, const struct secret *vk,
			     const struct seal_opts *opts, uint32_t pcrs, bool pin, int *ret_slot);
/* Argon2id keyslot for @pass. */
enum seal_exit add_passphrase_slot(struct crypt_device *cd, const char *path,
				   const struct secret *vk, const struct secret *pass, int *ret_slot);
/* Generated recovery key (printed once on stdout) + seal-recovery token. */
enum seal_exit add_recovery_slot(struct crypt_device *cd, const char *path,
				 const struct secret *vk, int *ret_slot);

/* A random KEK encrypted by `clevis encrypt @pin @cfg` + the standard clevis token. */
enum seal_exit add_clevis_slot(struct crypt_device *cd, const char *path, const struct secret *vk,
			       const struct seal_opts *opts, const char *pin, const char *cfg,
			       int *ret_slot);
/* Keyslot @slot replaces @old (rotate-kek, regen): destroy @old and its tokens. */
enum seal_exit retire_keyslot(struct crypt_device *cd, const char *path, int old, int slot);

#endif /* SEAL_KEYSLOTS_H */
