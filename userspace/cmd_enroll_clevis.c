// SPDX-License-Identifier: GPL-2.0
/*
 * sealctl enroll DEV tang URL / enroll DEV clevis PIN CONFIG: a keyslot
 * whose KEK clevis encrypts (to tang servers, a TPM2, a Shamir threshold of
 * those, or any installed pin), in the standard clevis LUKS2 token.
 */
#include <errno.h>
#include <string.h>

#include <json-c/json.h>

#include "cleanup.h"
#include "clevis_trust.h"
#include "commands.h"
#include "hygiene.h"
#include "keyslots.h"
#include "luks.h"
#include "report.h"
#include "unlock.h"

enum seal_exit cmd_enroll_clevis(const struct seal_opts *o, char **argv)
{
	const char *path = argv[0], *kind = argv[1], *pin, *cfg_text;
	_cleanup_crypt_ struct crypt_device *cd = NULL;
	_cleanup_json_ json_object *cfg = NULL;
	struct unlocked u = { 0 };
	struct seal_opts uo;
	enum seal_exit e;
	int slot = -1;

	if (!strcmp(kind, "tang")) {
		if (!argv[2] || argv[3])
			return fail(SEAL_EXIT_USAGE, path, "usage: sealctl enroll DEV tang URL [--thumbprint TP]");
		pin = "tang";
		cfg = json_object_new_object();
		if (!cfg)
			return SEAL_EXIT_FAILURE;
		json_object_object_add(cfg, "url", json_object_new_string(argv[2]));
	} else {
		if (!argv[2] || !argv[3])
			return fail(SEAL_EXIT_USAGE, path, "usage: sealctl enroll DEV clevis PIN CONFIG");
		pin = argv[2];
		cfg = json_tokener_parse(argv[3]);
		if (!cfg || !json_object_is_type(cfg, json_type_object))
			return fail(SEAL_EXIT_USAGE, path, "the clevis CONFIG is not a JSON object: %s", argv[3]);
	}
	if (!*pin || strchr(pin, '/'))
		return fail(SEAL_EXIT_USAGE, path, "invalid clevis pin name '%s'", pin);
	if (process_hygiene() < 0)
		return fail(SEAL_EXIT_FAILURE, path, "cannot harden the process: %s", strerror(errno));
	e = volume_load(path, false, &cd);
	if (e != SEAL_EXIT_OK)
		return e;
	/* trust first: a refused advertisement costs no unlock */
	e = clevis_trust_config(path, pin, cfg, o);
	if (e != SEAL_EXIT_OK)
		return e;
	cfg_text = json_object_to_json_string_ext(cfg, JSON_C_TO_STRING_PLAIN);
	e = unlock_volume(cd, path, unlock_opts(o, &uo), &u);
	if (e != SEAL_EXIT_OK)
		return e;
	e = add_clevis_slot(cd, path, u.volume_key, o, pin, cfg_text, &slot);
	unlocked_clear(&u);
	if (e != SEAL_EXIT_OK)
		return e;
	note(path, "clevis %s enrolled in keyslot %d", pin, slot);
	return SEAL_EXIT_OK;
}
