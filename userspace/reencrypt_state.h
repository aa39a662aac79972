/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The state of a DEK rotation (sealctl reencrypt), kept in the LUKS2 header as one token
 * written through libcryptsetup (each write is atomic: both header copies, checksummed):
 *
 * {
 *   "type": "seal-reencrypt",
 *   "keyslots": ["5", "6"],          the new DEK's keyslots (unbound until the end)
 *   "seal-pairs": [[0, 5], [1, 6]],   old keyslot -> its re-wrapped copy
 *   "seal-drop": [2],                 old keyslots --force gives up
 *   "seal-lock": 7,                   the keyslot of a throw-away key bound to the segment
 *   "seal-boundary": "8192",          sectors below are under the new DEK (512-byte sectors)
 *   "seal-sectors": "2097152",        the data area
 *   "seal-exact": true                the boundary is the kernel's last (a clean stop)
 * }
 *
 * While the token exists, the data segment is bound to the throw-away key of "seal-lock",
 * whose passphrase nobody knows: no passphrase opens the volume through its segment (stock
 * cryptsetup and sealctl open refuse), so a half-rotated volume is never read with one key.
 */
#ifndef SEAL_REENCRYPT_STATE_H
#define SEAL_REENCRYPT_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include <libcryptsetup.h>

#define SEAL_REENC_TOKEN_TYPE	"seal-reencrypt"
#define SEAL_REENC_MAX_SLOTS	32

struct reenc_state {
	int token;		/* its token number, -1 before the first save */
	int lock_slot;
	int npairs, ndrop;
	int old[SEAL_REENC_MAX_SLOTS], new[SEAL_REENC_MAX_SLOTS];
	int drop[SEAL_REENC_MAX_SLOTS];
	uint64_t boundary, sectors;
	bool exact;		/* saved at a clean stop: the data is converted up to boundary, no further */
};

/* 0 and the state, -ENOENT when no rotation is recorded, -EINVAL for a malformed token. */
int reenc_state_load(struct crypt_device *cd, struct reenc_state *st);
/* A rotation is recorded (whether or not its token is well-formed). */
bool reenc_in_progress(struct crypt_device *cd);
/* Write (or rewrite) the token. */
int reenc_state_save(struct crypt_device *cd, struct reenc_state *st);
/* Remove the token. */
int reenc_state_remove(struct crypt_device *cd, struct reenc_state *st);

#endif /* SEAL_REENCRYPT_STATE_H */
