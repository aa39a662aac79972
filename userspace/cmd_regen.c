// SPDX-License-Identifier: GPL-2.0
/*
 * sealctl regen DEV SLOT: bind a clevis keyslot again, to the servers'
 * current keys (as `clevis luks regen`): the pin config is read back from
 * the JWE's header, every tang server's current advertisement is trusted as
 * at enrollment, a new keyslot with a new KEK is written, and only then is
 * the old keyslot (and its token) destroyed.
 */
#include <errno.h>
#include <string.h>

#include <json-c/json.h>

#include "cleanup.h"
#include "clevis_token.h"
#include "clevis_trust.h"
#include "clevis_unlock.h"
#include "commands.h"
#include "hygiene.h"
#include "keyslots.h"
#include "luks.h"
#include "pcr_measure.h"
#include "report.h"
#include "unlock.h"

/*
 * The volume key through the keyslot's own token; false when that does not
 * work. A tpm2 pin in it unsealed and extended nothing (@u's foreign_tpm;
 * foreign_tried when it failed and only may have): the caller measures.
 */
static bool unlock_by_token(struct crypt_device *cd, const char *path, const struct seal_opts *o,
			    const char *json, int slot, struct unlocked *u)
{
	_cleanup_secret_ struct secret *pass = NULL, *vk = secret_new(SEAL_KEY_SIZE * 2);
	char why[200];
	size_t size;
	int keyslot, r;

	if (!vk)
		return false;
	r = clevis_token_decrypt(json, o->clevis_timeout, &keyslot, &pass, why, sizeof(why));
	if (r < 0) {
		u->foreign_tried = clevis_token_uses(json, "tpm2");
		note(path, "keyslot %d's own token: %s; asking for a passphrase", slot, why);
		return false;
	}
	u->foreign_tpm = clevis_token_uses(json, "tpm2");
	size = vk->size;
	r = crypt_volume_key_get(cd, slot, (char *)vk->data, &size, (const char *)pass->data, pass->len);
	if (r < 0)
		return false;
	vk->len = size;
	u->volume_key = TAKE_PTR(vk);
	u->keyslot = slot;
	return true;
}

enum seal_exit cmd_regen(const struct seal_opts *o, char **argv)
{
	const char *path = argv[0], *type, *json, *pin, *why = NULL;
	_cleanup_crypt_ struct crypt_device *cd = NULL;
	_cleanup_json_ json_object *binding = NULL, *cfg = NULL;
	_cleanup_free_ char *jwe = NULL;
	struct unlocked u = { 0 };
	struct seal_opts uo;
	enum seal_exit e;
	int old, token = -1, slot = -1, tslot;

	if (process_hygiene() < 0)
		return fail(SEAL_EXIT_FAILURE, path, "cannot harden the process: %s", strerror(errno));
	e = volume_load(path, false, &cd);
	if (e != SEAL_EXIT_OK)
		return e;
	old = parse_keyslot(argv[1], crypt_keyslot_max(CRYPT_LUKS2));
	if (old < 0)
		return fail(SEAL_EXIT_USAGE, path, "invalid keyslot '%s'", argv[1]);
	type = luks_keyslot_token_type(cd, old, &token);
	if (!type || strcmp(type, CLEVIS_TOKEN_TYPE))
		return fail(SEAL_EXIT_REFUSED, path, "keyslot %d is not a clevis keyslot", old);
	if (crypt_token_json_get(cd, token, &json) < 0 || clevis_token_parse(json, &tslot, &jwe, &why) < 0)
		return fail(SEAL_EXIT_TOKEN, path, "token %d (clevis): malformed: %s", token, why ?: "?");
	binding = clevis_jwe_binding(jwe);
	cfg = binding ? clevis_binding_config(binding, &pin) : NULL;
	if (!cfg)
		return fail(SEAL_EXIT_REFUSED, path,
			    "keyslot %d: its JWE does not tell how to bind again; enroll anew and remove it", old);
	/* the servers' current keys, trusted as at enrollment, before anything is unlocked */
	e = clevis_trust_config(path, pin, cfg, o);
	if (e != SEAL_EXIT_OK)
		return e;
	if (!unlock_by_token(cd, path, o, json, old, &u)) {
		bool tpm = u.foreign_tpm, tried = u.foreign_tried;

		e = unlock_volume(cd, path, unlock_opts(o, &uo), &u);
		u.foreign_tpm = tpm;
		u.foreign_tried = tried;
	}
	/* its tpm2 pin's secret is spent, whatever came of it (as for open) */
	if (u.foreign_tpm || u.foreign_tried) {
		enum seal_exit me = pcr_measure_unsealed(path, o, crypt_get_uuid(cd), u.foreign_tpm);

		if (e == SEAL_EXIT_OK)
			e = me;
	}
	if (e != SEAL_EXIT_OK) {
		unlocked_clear(&u);
		return e;
	}
	e = add_clevis_slot(cd, path, u.volume_key, o, pin,
			    json_object_to_json_string_ext(cfg, JSON_C_TO_STRING_PLAIN), &slot);
	unlocked_clear(&u);
	if (e != SEAL_EXIT_OK)
		return e;
	return retire_keyslot(cd, path, old, slot);
}
