/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The unsealer: obtain the volume key (DEK) of a loaded LUKS2 device.
 *
 *   1. own seal-tpm2 tokens, unsealed directly (once each);
 *   2. tokens of any other installed libcryptsetup plugin (systemd-tpm2...),
 *      through a keyslot context;
 *   3. the key file, or a prompt (terminal / password agent) with a
 *      limited number of tries.
 *
 * Prints one line per failed method and returns an exit code.
 */
#ifndef SEAL_UNLOCK_H
#define SEAL_UNLOCK_H

#include <stdbool.h>

#include <libcryptsetup.h>

#include "exitcode.h"
#include "options.h"
#include "secret.h"

struct unlocked {
	struct secret *volume_key;
	int keyslot;
	bool tpm_unsealed;	/* a seal-tpm2 secret was unsealed (even if unused) */
	bool foreign_tpm;	/* a systemd-tpm2 token or a clevis tpm2 pin unsealed (even if unused), not yet measured */
	bool foreign_tried;	/* one of those failed: its secret may have come out of the TPM, not yet measured */
};

void unlocked_clear(struct unlocked *u);

enum seal_exit unlock_volume(struct crypt_device *cd, const char *path,
			     const struct seal_opts *opts, struct unlocked *out);

/*
 * The options enroll and rotate-kek unlock with: a passphrase or the
 * recovery key (prompt or --key-file), never a token. An unseal would extend
 * PCR 15 and spend this boot's unattended unlock on an administrative task.
 */
const struct seal_opts *unlock_opts(const struct seal_opts *o, struct seal_opts *copy);

/* The line and exit code for a sealtab key file askpass_private_*() refused with @r. */
enum seal_exit key_file_refused(const char *path, const char *key_file, int r);

/* For other commands that talk to the TPM: errno (tpm2.h) -> exit code/text. */
enum seal_exit tpm_exit_code(int r);
const char *tpm_cause(int r);

/* The PIN for a PIN-protected token: --pin-file, else a prompt. */
int read_pin(const struct seal_opts *opts, const char *path, struct secret **ret);

#endif /* SEAL_UNLOCK_H */
