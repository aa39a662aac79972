// SPDX-License-Identifier: GPL-2.0
/*
 * sealctl close NAME: remove a seal mapping (the kernel wipes its key).
 */
#include <errno.h>
#include <string.h>

#include "cleanup.h"
#include "commands.h"
#include "dm.h"
#include "report.h"

enum seal_exit cmd_close(const struct seal_opts *o, char **argv)
{
	const char *name = argv[0];
	_cleanup_(dm_mapping_clear) struct dm_mapping m = { 0 };
	int r;

	(void)o;
	r = dm_query(name, &m);
	if (r < 0)
		return fail(SEAL_EXIT_DM, name, "device-mapper unavailable: %s",
			    r == -ENODEV ? "no driver in this kernel" : strerror(-r));
	if (!m.exists)
		return fail(SEAL_EXIT_NO_DEVICE, name, "no such mapping");
	if (strcmp(m.target, SEAL_DM_TARGET))
		return fail(SEAL_EXIT_REFUSED, name, "not a seal mapping (target %s)", m.target);
	r = dm_remove(name);
	if (r == -EBUSY)
		return fail(SEAL_EXIT_DM, name, "still in use (mounted or open)");
	if (r < 0)
		return fail(SEAL_EXIT_DM, name, "cannot remove the mapping: %s", strerror(-r));
	return SEAL_EXIT_OK;
}
