// SPDX-License-Identifier: GPL-2.0
/*
 * sealctl remove-slot DEV SLOT: destroy a keyslot and the tokens that
 * served only it. Never the last keyslot without --force.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "commands.h"
#include "luks.h"
#include "report.h"

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

enum seal_exit cmd_remove_slot(const struct seal_opts *o, char **argv)
{
	const char *path = argv[0];
	_cleanup_crypt_ struct crypt_device *cd = NULL;
	crypt_keyslot_info ki;
	enum seal_exit e;
	int slot, r;

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
	r = luks_destroy_keyslot(cd, slot);
	if (r < 0)
		return fail(SEAL_EXIT_FAILURE, path, "cannot remove keyslot %d: %s", slot, strerror(-r));
	note(path, "keyslot %d removed", slot);
	return SEAL_EXIT_OK;
}
