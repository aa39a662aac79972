// SPDX-License-Identifier: GPL-2.0
/*
 * The keyslots of a DEK rotation (see reencrypt.h): copies for the new DEK, the lock,
 * the commit and what goes afterwards.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "cleanup.h"
#include "keyslots.h"
#include "luks.h"
#include "reencrypt.h"
#include "report.h"
#include "token.h"

#define UNBOUND_COPY (CRYPT_VOLUME_KEY_NO_SEGMENT | CRYPT_VOLUME_KEY_DIGEST_REUSE)

static bool slot_active(struct crypt_device *cd, int slot)
{
	crypt_keyslot_info ki = crypt_keyslot_status(cd, slot);

	return ki == CRYPT_SLOT_ACTIVE || ki == CRYPT_SLOT_ACTIVE_LAST;
}

static bool slot_used(struct crypt_device *cd, int slot)
{
	return slot_active(cd, slot) || crypt_keyslot_status(cd, slot) == CRYPT_SLOT_UNBOUND;
}

/* Does @pass open @slot? */
static int opens(struct crypt_device *cd, int slot, const struct secret *pass)
{
	_cleanup_secret_ struct secret *vk = secret_new(SEAL_KEY_SIZE);
	size_t len = SEAL_KEY_SIZE;
	int r;

	if (!vk)
		return -ENOMEM;
	r = crypt_volume_key_get(cd, slot, (char *)vk->data, &len, (const char *)pass->data, pass->len);
	return r == -EPERM || r == -ENOENT ? 0 : r < 0 ? r : 1;
}

static int free_slot(struct crypt_device *cd)
{
	for (int s = 0; s < crypt_keyslot_max(CRYPT_LUKS2); s++)
		if (crypt_keyslot_status(cd, s) == CRYPT_SLOT_INACTIVE)
			return s;
	return -ENOSPC;
}

/* Which keyslots are copied and which dropped; one line naming every refused one. */
static enum seal_exit classify(struct crypt_device *cd, const char *path, const struct seal_opts *o,
			       const struct secret *pass, struct reenc_state *st)
{
	char refused[512] = "";
	size_t n = 0;

	for (int s = 0; s < crypt_keyslot_max(CRYPT_LUKS2); s++) {
		const char *type;
		int r;

		if (!slot_active(cd, s))
			continue;
		type = luks_keyslot_token_type(cd, s, NULL);
		if (type && !strcmp(type, SEAL_TOKEN_TYPE) && st->npairs < SEAL_REENC_MAX_SLOTS) {
			/* sealed anew to its policy: no unseal, no PCR match needed */
			st->old[st->npairs++] = s;
			continue;
		}
		if (!type || !strcmp(type, SEAL_RECOVERY_TOKEN_TYPE)) {
			r = opens(cd, s, pass);
			if (r < 0)
				return fail(SEAL_EXIT_FAILURE, path, "reading keyslot %d: %s", s, strerror(-r));
			if (r && st->npairs < SEAL_REENC_MAX_SLOTS) {
				st->old[st->npairs++] = s;
				continue;
			}
		}
		if (o->force) {
			note(path, "keyslot %d (%s) will be dropped: its KEK is not at hand", s,
			     type ?: "another passphrase");
			st->drop[st->ndrop++] = s;
			continue;
		}
		n += snprintf(refused + n, sizeof(refused) - n, "%s%d (%s)", n ? ", " : "", s,
			      type ?: "another passphrase");
		if (n >= sizeof(refused))
			n = sizeof(refused) - 1;
	}
	if (n)
		return fail(SEAL_EXIT_REFUSED, path,
			    "cannot re-wrap keyslot(s) %s for the new key: their KEK is not at hand (--force drops them; re-enroll afterwards)",
			    refused);
	return SEAL_EXIT_OK;
}

/* Is @slot a seal-tpm2 keyslot? Its PCRs and PIN flag then. */
static bool tpm2_policy(struct crypt_device *cd, int slot, uint32_t *pcrs, bool *pin)
{
	const char *type, *json, *why = NULL;
	struct seal_token tok;
	int token = -1;

	type = luks_keyslot_token_type(cd, slot, &token);
	if (!type || strcmp(type, SEAL_TOKEN_TYPE) || crypt_token_json_get(cd, token, &json) < 0 ||
	    seal_token_parse(json, &tok, &why) < 0)
		return false;
	*pcrs = tok.sealed.pcr_mask;
	*pin = tok.sealed.pin;
	return true;
}

void reenc_undo(struct crypt_device *cd, struct reenc_state *st)
{
	for (int i = 0; i < st->npairs; i++)
		if (st->new[i] >= 0 && crypt_keyslot_status(cd, st->new[i]) == CRYPT_SLOT_UNBOUND)
			(void)crypt_keyslot_destroy(cd, st->new[i]);
	(void)reenc_state_remove(cd, st);
}

enum seal_exit reenc_begin(struct crypt_device *cd, const char *path, const struct seal_opts *o,
			   const struct secret *pass, const struct secret *new_vk, uint64_t sectors,
			   struct reenc_state *st)
{
	enum seal_exit e;
	uint32_t pcrs;
	bool pin;
	int r;

	*st = (struct reenc_state){ .token = -1, .sectors = sectors };
	e = classify(cd, path, o, pass, st);
	if (e != SEAL_EXIT_OK)
		return e;
	for (int i = 0; i < st->npairs; i++)
		st->new[i] = -1;
	for (int i = 0; i < st->npairs; i++) {
		if (tpm2_policy(cd, st->old[i], &pcrs, &pin)) {
			e = add_tpm2_copy(cd, path, new_vk, o, pcrs, pin, &st->new[i]);
			if (e != SEAL_EXIT_OK) {
				reenc_undo(cd, st);
				return e;
			}
			continue;
		}
		if (luks_pbkdf_passphrase(cd) < 0) {
			reenc_undo(cd, st);
			return fail(SEAL_EXIT_FAILURE, path, "cannot set the key derivation");
		}
		r = crypt_keyslot_add_by_key(cd, CRYPT_ANY_SLOT, (const char *)new_vk->data, new_vk->len,
					     (const char *)pass->data, pass->len, UNBOUND_COPY);
		if (r < 0) {
			reenc_undo(cd, st);
			return fail(SEAL_EXIT_FAILURE, path, "cannot add a keyslot for the new key: %s",
				    strerror(-r));
		}
		st->new[i] = r;
	}
	st->lock_slot = free_slot(cd);
	if (st->lock_slot < 0) {
		reenc_undo(cd, st);
		return fail(SEAL_EXIT_REFUSED, path, "no free keyslot left for the rotation");
	}
	r = reenc_state_save(cd, st);
	if (r < 0) {
		reenc_undo(cd, st);
		return fail(SEAL_EXIT_FAILURE, path, "cannot record the rotation in the header: %s",
			    strerror(-r));
	}
	return SEAL_EXIT_OK;
}

/* A random key under a random passphrase nobody keeps, bound to the segment. */
static int bind_random(struct crypt_device *cd, int slot, const struct secret *vk, uint32_t flags)
{
	_cleanup_secret_ struct secret *pass = secret_new(32);

	if (!pass)
		return -ENOMEM;
	if (getrandom(pass->data, 32, 0) != 32)
		return -errno;
	pass->len = 32;
	if (luks_pbkdf_minimal(cd) < 0)
		return -EINVAL;
	return crypt_keyslot_add_by_key(cd, slot, vk ? (const char *)vk->data : NULL,
					vk ? vk->len : SEAL_KEY_SIZE, (const char *)pass->data, pass->len,
					flags);
}

enum seal_exit reenc_lock(struct crypt_device *cd, const char *path, struct reenc_state *st)
{
	_cleanup_secret_ struct secret *junk = secret_new(SEAL_KEY_SIZE);
	int r;

	if (slot_used(cd, st->lock_slot))
		return SEAL_EXIT_OK;
	if (!junk || getrandom(junk->data, SEAL_KEY_SIZE, 0) != SEAL_KEY_SIZE)
		return fail(SEAL_EXIT_FAILURE, path, "cannot make the lock key");
	junk->len = SEAL_KEY_SIZE;
	r = bind_random(cd, st->lock_slot, junk, CRYPT_VOLUME_KEY_SET);
	if (r < 0)
		return fail(SEAL_EXIT_FAILURE, path, "cannot lock the segment for the rotation: %s",
			    strerror(-r));
	return SEAL_EXIT_OK;
}

bool reenc_committed(struct crypt_device *cd, const struct reenc_state *st)
{
	return slot_active(cd, st->new[0]);
}

enum seal_exit reenc_commit(struct crypt_device *cd, const char *path, const struct secret *new_vk,
			    const struct reenc_state *st)
{
	/* a keyslot of its own carries the new key to the segment; it goes in reenc_cleanup */
	int r = bind_random(cd, CRYPT_ANY_SLOT, new_vk,
			    CRYPT_VOLUME_KEY_SET | CRYPT_VOLUME_KEY_DIGEST_REUSE);

	if (r < 0 || !reenc_committed(cd, st))
		return fail(SEAL_EXIT_FAILURE, path, "cannot bind the new key to the data segment: %s",
			    strerror(r < 0 ? -r : EINVAL));
	return SEAL_EXIT_OK;
}

static bool is_copy(const struct reenc_state *st, int slot)
{
	for (int i = 0; i < st->npairs; i++)
		if (st->new[i] == slot)
			return true;
	return false;
}

static int destroy(struct crypt_device *cd, int slot)
{
	return slot_used(cd, slot) ? luks_destroy_keyslot(cd, slot) : 0;
}

enum seal_exit reenc_cleanup(struct crypt_device *cd, const char *path, struct reenc_state *st)
{
	int r = 0;

	for (int i = 0; i < st->npairs && r >= 0; i++) {
		uint32_t tokens = slot_used(cd, st->old[i]) ? luks_keyslot_tokens(cd, st->old[i]) : 0;

		/* a recovery keyslot's token follows it to the copy */
		for (int t = 0; t < 32 && r >= 0; t++) {
			const char *type = NULL;

			if (!(tokens & (1u << t)))
				continue;
			(void)crypt_token_status(cd, t, &type);
			if (type && !strcmp(type, SEAL_RECOVERY_TOKEN_TYPE))
				r = crypt_token_assign_keyslot(cd, t, st->new[i]);
		}
		if (r >= 0)
			r = destroy(cd, st->old[i]);
	}
	for (int i = 0; i < st->ndrop && r >= 0; i++)
		r = destroy(cd, st->drop[i]);
	if (r >= 0)
		r = destroy(cd, st->lock_slot);
	/* the commit's own keyslot: bound, and not a copy */
	for (int s = 0; s < crypt_keyslot_max(CRYPT_LUKS2) && r >= 0; s++)
		if (slot_active(cd, s) && !is_copy(st, s))
			r = destroy(cd, s);
	if (r >= 0)
		r = reenc_state_remove(cd, st);
	if (r < 0)
		return fail(SEAL_EXIT_FAILURE, path,
			    "the data is under the new key, but removing the old keyslots failed: %s (reencrypt --resume finishes)",
			    strerror(-r));
	return SEAL_EXIT_OK;
}
