// SPDX-License-Identifier: GPL-2.0
/*
 * sealctl rotate-kek DEV [SLOT]: a new KEK for a keyslot (every seal-tpm2
 * keyslot without SLOT). The new keyslot is written first and the old one
 * destroyed only after: the old KEK works until the new one is committed.
 * The data and the DEK are untouched.
 */
#include <errno.h>
#include <string.h>

#include "askpass.h"
#include "cleanup.h"
#include "clevis_token.h"
#include "commands.h"
#include "hygiene.h"
#include "keyslots.h"
#include "luks.h"
#include "report.h"
#include "token.h"
#include "unlock.h"

static enum seal_exit rotate_one(struct crypt_device *cd, const char *path,
				 const struct seal_opts *o, const struct secret *vk, int old)
{
	_cleanup_secret_ struct secret *pass = NULL;
	_cleanup_free_ char *prompt = NULL;
	const char *type, *json;
	enum seal_exit e;
	int token = -1, slot = -1, r;

	type = luks_keyslot_token_type(cd, old, &token);
	if (type && !strcmp(type, SEAL_TOKEN_TYPE)) {
		struct seal_token tok;
		const char *why = NULL;
		uint32_t pcrs = o->pcrs;
		bool pin = o->pin;

		/* keep the slot's policy unless told otherwise */
		if (crypt_token_json_get(cd, token, &json) >= 0 && seal_token_parse(json, &tok, &why) == 0) {
			if (!o->pcrs_set)
				pcrs = tok.sealed.pcr_mask;
			pin = pin || tok.sealed.pin;
		}
		e = add_tpm2_slot(cd, path, vk, o, pcrs, pin, &slot);
	} else if (type && !strcmp(type, SEAL_RECOVERY_TOKEN_TYPE)) {
		e = add_recovery_slot(cd, path, vk, &slot);
	} else if (!type) {
		if (asprintf(&prompt, "New passphrase for keyslot %d of %s: ", old, path) < 0)
			return SEAL_EXIT_FAILURE;
		r = askpass_new(o->new_key_file, prompt, path, &pass);
		if (r < 0)
			return fail(r == -ENOTTY || r == -ENOENT ? SEAL_EXIT_NO_KEY : SEAL_EXIT_BAD_PASSPHRASE,
				    path, "cannot read a new passphrase: %s",
				    r == -EBADMSG ? "the two entries differ" :
				    r == -ENOTTY ? "no terminal (use --new-key-file)" : strerror(-r));
		e = add_passphrase_slot(cd, path, vk, pass, &slot);
	} else if (!strcmp(type, CLEVIS_TOKEN_TYPE)) {
		return fail(SEAL_EXIT_REFUSED, path, "keyslot %d is a clevis keyslot: use sealctl regen", old);
	} else {
		return fail(SEAL_EXIT_REFUSED, path,
			    "keyslot %d belongs to a %s token: re-enroll it with the tool that made it",
			    old, type);
	}
	if (e != SEAL_EXIT_OK)
		return e;
	return retire_keyslot(cd, path, old, slot);
}

enum seal_exit cmd_rotate_kek(const struct seal_opts *o, char **argv)
{
	const char *path = argv[0];
	_cleanup_crypt_ struct crypt_device *cd = NULL;
	int targets[32], n = 0, max = crypt_keyslot_max(CRYPT_LUKS2);
	struct unlocked u = { 0 };
	struct seal_opts uo;
	enum seal_exit e;

	if (process_hygiene() < 0)
		return fail(SEAL_EXIT_FAILURE, path, "cannot harden the process: %s", strerror(errno));
	e = volume_load(path, false, &cd);
	if (e != SEAL_EXIT_OK)
		return e;
	if (argv[1]) {
		int slot = parse_keyslot(argv[1], max);
		crypt_keyslot_info ki;

		if (slot < 0)
			return fail(SEAL_EXIT_USAGE, path, "invalid keyslot '%s'", argv[1]);
		ki = crypt_keyslot_status(cd, slot);
		if (ki != CRYPT_SLOT_ACTIVE && ki != CRYPT_SLOT_ACTIVE_LAST)
			return fail(SEAL_EXIT_REFUSED, path, "keyslot %d is not in use", slot);
		targets[n++] = slot;
	} else {
		for (int s = 0; s < max && n < (int)ARRAY_SIZE(targets); s++) {
			const char *type = luks_keyslot_token_type(cd, s, NULL);

			if (type && !strcmp(type, SEAL_TOKEN_TYPE))
				targets[n++] = s;
		}
		if (!n)
			return fail(SEAL_EXIT_REFUSED, path, "no tpm2 keyslot to rotate (name a keyslot)");
	}
	e = unlock_volume(cd, path, unlock_opts(o, &uo), &u);
	if (e != SEAL_EXIT_OK)
		return e;
	for (int i = 0; i < n && e == SEAL_EXIT_OK; i++)
		e = rotate_one(cd, path, o, u.volume_key, targets[i]);
	unlocked_clear(&u);
	return e;
}
