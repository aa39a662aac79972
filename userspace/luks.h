/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The LUKS2 side: loading and classifying a device, the keyslot cost
 * policy, tokens by keyslot. Everything goes through libcryptsetup; the
 * only other reader of the device is libblkid, for signatures.
 */
#ifndef SEAL_LUKS_H
#define SEAL_LUKS_H

#include <stdbool.h>
#include <stdint.h>

#include <libcryptsetup.h>

#include "exitcode.h"

#define SEAL_CIPHER		"aes"
#define SEAL_CIPHER_MODE	"xts-plain64"
#define SEAL_KEY_SIZE		64	/* AES-256-XTS */
#define SEAL_DEFAULT_SECTOR	4096
#define SEAL_MIN_FORMAT_SIZE	(17ull << 20)	/* 16 MiB header + data */

int device_size(const char *path, uint64_t *ret);

/* First libblkid signature on @path ("ext4", "crypto_LUKS", "dos"...), or NULL. */
char *device_signature(const char *path);
/* Open @path read-write and exclusively: -EBUSY while mounted or in use. */
int device_open_exclusive(const char *path);
/* Erase every signature libblkid finds on @fd, one note() per signature. */
int device_wipe_signatures(int fd, const char *path);

/*
 * Open @path and load its LUKS2 header; on failure print one line and
 * return the exit code (NO_DEVICE, NOT_LUKS, HEADER_CORRUPT, UNSUPPORTED).
 * @read_only: the command never writes the header, so a damaged copy is
 * left as it is (not auto-repaired) and the good copy is used.
 */
enum seal_exit volume_load(const char *path, bool read_only, struct crypt_device **ret);
/* The checks `open` needs: aes-xts-plain64, 512-bit key, data area present. */
enum seal_exit volume_check_seal(struct crypt_device *cd, const char *path);

/* Argon2id for human passphrases (minimal with SEAL_TEST_FAST_PBKDF=1, test build only). */
int luks_pbkdf_passphrase(struct crypt_device *cd);
/* PBKDF2 at the minimum cost for high-entropy TPM secrets. */
int luks_pbkdf_minimal(struct crypt_device *cd);

/* Bit n set: token n is assigned to @keyslot. */
uint32_t luks_keyslot_tokens(struct crypt_device *cd, int keyslot);
/* Destroy @keyslot and every token that served only it, the tokens first. */
int luks_destroy_keyslot(struct crypt_device *cd, int keyslot);
/* Type of the first token assigned to @keyslot (static until next call) or NULL. */
const char *luks_keyslot_token_type(struct crypt_device *cd, int keyslot, int *ret_token);
int luks_active_keyslots(struct crypt_device *cd);

#endif /* SEAL_LUKS_H */
