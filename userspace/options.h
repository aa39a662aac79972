/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The parsed command line, handed to every command (no global state).
 */
#ifndef SEAL_OPTIONS_H
#define SEAL_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

struct seal_opts {
	const char *key_file;		/* existing passphrase (format: the first one) */
	bool key_file_private;		/* key_file from the sealtab: root's, mode 0?00 only */
	const char *sealtab;		/* open NAME: the sealtab (default /etc/sealtab) */
	const char *new_key_file;	/* new passphrase for enroll/rotate-kek */
	const char *pin_file;		/* TPM2 PIN */
	const char *tcti;		/* NULL: $SEAL_TCTI or device:/dev/tpmrm0 */
	uint32_t pcrs;			/* PCR mask for enroll tpm2 */
	bool pcrs_set;			/* --pcrs given (rotate-kek keeps a slot's PCRs otherwise) */
	const char *thumbprint;		/* trusted tang signing key(s), comma-separated */
	unsigned int clevis_timeout;	/* seconds for one clevis run */
	uint32_t sector_size;
	unsigned int tries;
	bool tries_set;			/* --tries given (a sealtab's tries= yields) */
	bool pin;
	bool force;
	bool test_passphrase;
	bool read_only;
	bool json;
	bool token_only;
	bool no_tokens;
	bool defer_lock;
	bool resume;			/* reencrypt: continue a stopped rotation */
	uint64_t max_rate;		/* reencrypt: bytes per second, 0 = unlimited */		/* open, initramfs only: PCR 15 extends wait for lock-tpm */
};

#endif /* SEAL_OPTIONS_H */
