/* SPDX-License-Identifier: GPL-2.0 */
/*
 * DEK rotation of an open seal volume (sealctl reencrypt): the keyslots and the table.
 * Each function prints its own failure line and returns an exit code.
 *
 * Keyslots. A LUKS2 keyslot wraps the volume key itself, so each one is re-wrapped: a
 * passphrase (or recovery key) keyslot the passphrase given opens gets a copy for the new
 * DEK, unbound (LUKS2 "unbound": not usable for activation) until the rotation is done. A
 * keyslot whose KEK is not at hand (another passphrase, tpm2, clevis) is refused, or with
 * --force dropped at the end. Then the data segment is bound to a throw-away key (the lock,
 * see reencrypt_state.h) while the data is converted, and at the end to the new DEK, which
 * binds the copies; the old keyslots, the lock and the state go last.
 *
 * Table. The live mapping is reloaded with "reencrypt <new key> 0" (the keys in this
 * thread's keyring for the load only, as open does), the kernel converts the data one
 * "reencrypt_step" message at a time, and at the end the mapping is reloaded with the new
 * key alone. The volume stays open and in use throughout.
 */
#ifndef SEAL_REENCRYPT_H
#define SEAL_REENCRYPT_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <libcryptsetup.h>

#include "exitcode.h"
#include "options.h"
#include "reencrypt_state.h"
#include "secret.h"

/* Copies of the keyslots for @new_vk, the state saved (boundary 0); the lock not yet. */
enum seal_exit reenc_begin(struct crypt_device *cd, const char *path, const struct seal_opts *o,
			   const struct secret *pass, const struct secret *new_vk, uint64_t sectors,
			   struct reenc_state *st);
/* Undo reenc_begin (the table was never reloaded). */
void reenc_undo(struct crypt_device *cd, struct reenc_state *st);
/* Bind the segment to a throw-away key (nothing if done already). */
enum seal_exit reenc_lock(struct crypt_device *cd, const char *path, struct reenc_state *st);
/* The segment is bound to the new DEK already. */
bool reenc_committed(struct crypt_device *cd, const struct reenc_state *st);
/* Bind the segment to @new_vk: the copies become the keyslots. */
enum seal_exit reenc_commit(struct crypt_device *cd, const char *path, const struct secret *new_vk,
			    const struct reenc_state *st);
/* After the commit: tokens moved to the copies, old keyslots and the lock destroyed, state gone. */
enum seal_exit reenc_cleanup(struct crypt_device *cd, const char *path, struct reenc_state *st);

/* The live mapping being rotated. */
struct reenc_map {
	const char *name;
	const char *path;
	const char *uuid;	/* LUKS UUID: the key descriptions */
	uint64_t sectors;	/* its length */
	uint32_t sector_size;
	char *params;		/* its current table (after the target name) */
	const char *dm_uuid;	/* set: the next load creates the mapping (a closed volume) */
};

/* A closed volume: the table open would load (m->params) and the data area's length. */
int reenc_table_base(struct crypt_device *cd, const char *path, struct reenc_map *m);

/* Reload with "reencrypt <new key> <boundary>": @old_vk and @new_vk in the keyring for the load. */
enum seal_exit reenc_table_two(struct reenc_map *m, const struct secret *old_vk,
			       const struct secret *new_vk, uint64_t boundary);
/* Reload with @new_vk alone. */
enum seal_exit reenc_table_one(struct reenc_map *m, const struct secret *new_vk);
/* Does the live table carry a reencrypt key? Its boundary then in *boundary. */
int reenc_table_boundary(const struct reenc_map *m, bool *two, uint64_t *boundary);

/*
 * Step the boundary to the end, saving it in the header about once a second; progress on
 * stderr (a bar on a terminal, a line per 10 % otherwise), at most o->max_rate bytes/s.
 * Returns INTERRUPTED (boundary saved) when *stop became set.
 */
enum seal_exit reenc_drive(struct crypt_device *cd, struct reenc_map *m, const struct seal_opts *o,
			   struct reenc_state *st, volatile sig_atomic_t *stop);

#endif /* SEAL_REENCRYPT_H */
