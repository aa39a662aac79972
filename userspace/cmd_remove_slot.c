// SPDX-License-Identifier: GPL-2.0
/*
 * sealctl remove-slot DEV SLOT: destroy a keyslot and the tokens that
 * served only it. As cryptsetup luksKillSlot: the passphrase (or recovery
 * key) of a keyslot that stays is asked for first; never the last keyslot,
 * nor the last passphrase or recovery keyslot (which would leave a volume
 * that a changed boot chain locks for good), without --force.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "commands.h"
#include "hygiene.h"
#include "luks.h"
#include "report.h"
#include "token.h"
#include "unlock.h"

int parse_keyslot(const char *s, int max)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno || !*s || *end || n < 0 || n >= max)
		return -EINVAL;
	return n;
}

/* A keyslot a person can open: a passphrase (no token) or the recovery key. */
static bool human_keyslot(struct crypt_device *cd, int slot)
{
	const char *type = luks_keyslot_token_type(cd, slot, NULL);

	return !type || !strcmp(type, SEAL_RECOVERY_TOKEN_TYPE);
}

static int human_keyslots(struct crypt_device *cd)
{
	int n = 0;

	for (int s = 0; s < crypt_keyslot_max(CRYPT_LUKS2); s++) {
		crypt_keyslot_info ki = crypt_keyslot_status(cd, s);

		if ((ki == CRYPT_SLOT_ACTIVE || ki == CRYPT_SLOT_ACTIVE_LAST) && human_keyslot(cd, s))
			n++;
	}
	return n;
}

/* The passphrase of a keyslot other than @slot: the TPM is not asked. */
static enum seal_exit prove_remaining_key(struct crypt_device *cd, const char *path,
					  const struct seal_opts *o, int slot)
{
	struct seal_opts po = *o;
	struct unlocked u = { 0 };
	enum seal_exit e;
	int opened;

	po.no_tokens = true;
	e = unlock_volume(cd, path, &po, &u);
	opened = u.keyslot;
	unlocked_clear(&u);
	if (e != SEAL_EXIT_OK)
		return e;
	if (opened == slot)
		return fail(SEAL_EXIT_REFUSED, path,
			    "that passphrase opens keyslot %d itself: give one of a keyslot that stays", slot);
	return SEAL_EXIT_OK;
}

enum seal_exit cmd_remove_slot(const struct seal_opts *o, char **argv)
{
	const char *path = argv[0];
	_cleanup_crypt_ struct crypt_device *cd = NULL;
	crypt_keyslot_info ki;
	enum seal_exit e;
	int slot, r;

	if (process_hygiene() < 0)
		return fail(SEAL_EXIT_FAILURE, path, "cannot harden the process: %s", strerror(errno));
	e = volume_load(path, false, &cd);
	if (e != SEAL_EXIT_OK)
		return e;
	slot = parse_keyslot(argv[1], crypt_keyslot_max(CRYPT_LUKS2));
	if (slot < 0)
		return fail(SEAL_EXIT_USAGE, path, "invalid keyslot '%s'", argv[1]);
	ki = crypt_keyslot_status(cd, slot);
	if (ki != CRYPT_SLOT_ACTIVE && ki != CRYPT_SLOT_ACTIVE_LAST)
		return fail(SEAL_EXIT_REFUSED, path, "keyslot %d is not in use", slot);
	if (luks_active_keyslots(cd) == 1 && !o->force)
		return fail(SEAL_EXIT_REFUSED, path,
			    "keyslot %d is the last one: without it the data is lost (use --force)", slot);
	if (human_keyslot(cd, slot) && human_keyslots(cd) == 1 && !o->force)
		return fail(SEAL_EXIT_REFUSED, path,
			    "keyslot %d is the last passphrase or recovery keyslot: without it a changed boot chain or TPM loses the data (use --force)",
			    slot);
	if (!o->force) {
		e = prove_remaining_key(cd, path, o, slot);
		if (e != SEAL_EXIT_OK)
			return e;
	}
	r = luks_destroy_keyslot(cd, slot);
	if (r < 0)
		return fail(SEAL_EXIT_FAILURE, path, "cannot remove keyslot %d: %s", slot, strerror(-r));
	note(path, "keyslot %d removed", slot);
	return SEAL_EXIT_OK;
}
