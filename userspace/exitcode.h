/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sealctl's exit codes: one table, documented in sealctl(8) (EXIT STATUS).
 * Never renumber an entry; scripts and the initramfs depend on them.
 */
#ifndef SEAL_EXITCODE_H
#define SEAL_EXITCODE_H

#define SEAL_EXIT_CODES(X)						\
	X(OK,             0, "success")					\
	X(FAILURE,        1, "unexpected error (out of memory, I/O error)")	\
	X(USAGE,          2, "invalid command line")			\
	X(NO_DEVICE,      3, "device or mapping missing, unreadable or too small") \
	X(NOT_LUKS,       4, "not a LUKS2 device")				\
	X(HEADER_CORRUPT, 5, "LUKS2 header damaged in both copies")	\
	X(UNSUPPORTED,    6, "LUKS volume seal cannot handle (cipher, key size, LUKS1, reencryption)") \
	X(EXISTS,         7, "device already carries a signature (format without --force)") \
	X(NAME_IN_USE,    8, "mapping name already in use")		\
	X(BAD_PASSPHRASE, 9, "no keyslot accepts the passphrase or key file") \
	X(NO_KEY,        10, "no unlock method left (no token worked, no passphrase source)") \
	X(TPM_ABSENT,    11, "no TPM2 reachable through the TCTI")	\
	X(TPM_PCR,       12, "PCR values differ from the sealed policy")	\
	X(TPM_LOCKOUT,   13, "TPM2 in dictionary-attack lockout")		\
	X(TPM_PRIMARY,   14, "TPM2 primary key differs from the one recorded at enrollment") \
	X(TPM_PIN,       15, "TPM2 PIN wrong or missing")		\
	X(TPM_ERROR,     16, "other TPM2 error")				\
	X(TOKEN,         17, "token metadata malformed (seal-tpm2, clevis)")	\
	X(REFUSED,       18, "refused: last keyslot, unknown slot, or nothing to do") \
	X(DM,            19, "device-mapper failure (seal target missing, table rejected)") \
	X(KEYRING,       20, "kernel keyring failure")				\
	X(TPM_UNCONFIRMED, 21, "PCR 15 extend not confirmed by the TPM2 (forged answer?): anything unsealed was discarded") \
	X(DEVICE_BUSY,   22, "device in use (mounted, mapped or opened exclusively)") \
	X(NO_VOLUME,     23, "no such volume: not a sealtab entry, nor a device") \
	X(KEY_FILE_UNSAFE, 24, "sealtab key file refused: not a regular file of root's, or group or others may access it") \
	X(CLEVIS,        25, "clevis failed or timed out (pin error, tang server unreachable, bad JWE)") \
	X(UNTRUSTED,     26, "tang advertisement not trusted (no or wrong --thumbprint, not confirmed)") \
	X(NOT_INITRAMFS, 27, "--defer-lock outside the initramfs (no /etc/initrd-release)") \
	X(INTERRUPTED,   28, "reencrypt stopped by SIGINT or SIGTERM; reencrypt --resume continues") \
	X(REENCRYPTING,  29, "a DEK rotation is in progress (or the table does not match its state)")

enum seal_exit {
#define SEAL_EXIT_ENUM(name, num, text) SEAL_EXIT_##name = num,
	SEAL_EXIT_CODES(SEAL_EXIT_ENUM)
#undef SEAL_EXIT_ENUM
};

const char *seal_exit_text(enum seal_exit code);

#endif /* SEAL_EXITCODE_H */
