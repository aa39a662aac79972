// SPDX-License-Identifier: GPL-2.0
/*
 * device-mapper ioctls through libdevmapper (see dm.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libdevmapper.h>

#include "cleanup.h"
#include "dm.h"
#include "secret.h"

/*
 * Why a task failed: -ENODEV when there is no device-mapper driver at all
 * (errno is not reliable then), else the ioctl's own errno.
 */
static bool driver_present(void)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/misc", "re");
	char line[128];

	if (!f)
		return true;	/* cannot tell: let the ioctl's errno speak */
	while (fgets(line, sizeof(line), f))
		if (strstr(line, " device-mapper"))
			return true;
	return false;
}

static int task_error(struct dm_task *t)
{
	int e;

	if (!driver_present())
		return -ENODEV;
	e = dm_task_get_errno(t);
	return e ? -e : -EIO;
}

void dm_mapping_clear(struct dm_mapping *m)
{
	/* another target's table may hold a key (dm-crypt with a hex key) */
	if (m->params)
		secret_wipe(m->params, strlen(m->params));
	free(m->params);
	memset(m, 0, sizeof(*m));
}

int dm_query(const char *name, struct dm_mapping *m)
{
	_cleanup_dm_task_ struct dm_task *t = dm_task_create(DM_DEVICE_TABLE);
	struct dm_info info;
	uint64_t start, length;
	char *type = NULL, *params = NULL;
	const char *uuid;

	memset(m, 0, sizeof(*m));
	if (!t)
		return driver_present() ? -ENOMEM : -ENODEV;
	if (!dm_task_set_name(t, name))
		return -EINVAL;
	dm_task_secure_data(t);
	if (!dm_task_run(t)) {
		int r = task_error(t);

		/* no such mapping is an answer, not an error */
		return r == -ENXIO ? 0 : r;
	}
	if (!dm_task_get_info(t, &info))
		return -EIO;
	if (!info.exists)
		return 0;
	m->exists = true;
	m->read_only = info.read_only;
	m->suspended = info.suspended;
	m->open_count = info.open_count;
	uuid = dm_task_get_uuid(t);
	if (uuid)
		snprintf(m->uuid, sizeof(m->uuid), "%s", uuid);
	dm_get_next_target(t, NULL, &start, &length, &type, &params);
	if (type)
		snprintf(m->target, sizeof(m->target), "%s", type);
	m->length = length;
	m->params = strdup(params ?: "");
	return m->params ? 0 : -ENOMEM;
}

int dm_query_info(const char *name, char **ret)
{
	_cleanup_dm_task_ struct dm_task *t = dm_task_create(DM_DEVICE_STATUS);
	uint64_t start, length;
	char *type = NULL, *params = NULL;

	*ret = NULL;
	if (!t)
		return driver_present() ? -ENOMEM : -ENODEV;
	if (!dm_task_set_name(t, name))
		return -EINVAL;
	if (!dm_task_run(t))
		return task_error(t);
	dm_get_next_target(t, NULL, &start, &length, &type, &params);
	*ret = strdup(params ?: "");
	return *ret ? 0 : -ENOMEM;
}

int dm_target_present(const char *target, bool *ret)
{
	_cleanup_dm_task_ struct dm_task *t = dm_task_create(DM_DEVICE_LIST_VERSIONS);
	struct dm_versions *v, *last;

	*ret = false;
	if (!t)
		return driver_present() ? -ENOMEM : -ENODEV;
	if (!dm_task_run(t))
		return task_error(t);
	v = dm_task_get_versions(t);
	do {
		if (!strcmp(v->name, target))
			*ret = true;
		last = v;
		v = (struct dm_versions *)((char *)v + v->next);
	} while (last != v);
	return 0;
}

/*
 * Created empty, loaded, resumed: one ioctl each, as dmsetup does. libdevmapper's
 * create-with-table removes the half-made device when the load fails, and loses the
 * load's errno on the way (a device held open exclusively came out as EIO, not EBUSY).
 */
int dm_create(const char *name, const char *uuid, uint64_t length, const char *target,
	      const char *params, bool read_only)
{
	_cleanup_dm_task_ struct dm_task *c = dm_task_create(DM_DEVICE_CREATE);
	_cleanup_dm_task_ struct dm_task *l = dm_task_create(DM_DEVICE_RELOAD);
	_cleanup_dm_task_ struct dm_task *s = dm_task_create(DM_DEVICE_RESUME);
	uint32_t cookie = 0;
	int r = 0;

	if (!c || !l || !s)
		return driver_present() ? -ENOMEM : -ENODEV;
	if (!dm_task_set_name(c, name) || !dm_task_set_uuid(c, uuid) ||
	    !dm_task_set_name(l, name) || !dm_task_add_target(l, 0, length, target, params) ||
	    !dm_task_set_name(s, name))
		return -EINVAL;
	if (read_only && !dm_task_set_ro(l))
		return -EINVAL;
	dm_task_secure_data(l);
	if (!dm_task_run(c))
		return task_error(c);
	if (!dm_task_run(l)) {
		r = task_error(l);
		(void)dm_remove(name);
		return r;
	}
	if (!dm_task_set_cookie(s, &cookie, 0)) {
		(void)dm_remove(name);
		return -EIO;
	}
	if (!dm_task_run(s))
		r = task_error(s);
	(void)dm_udev_wait(cookie);
	if (r < 0)
		(void)dm_remove(name);
	return r;
}

/*
 * A task that names a device and carries nothing else. With @cookie, udev's
 * work for it is waited for (the node is there, or gone, when this returns).
 */
static int dm_simple(int type, const char *name, bool cookie)
{
	_cleanup_dm_task_ struct dm_task *t = dm_task_create(type);
	uint32_t c = 0;
	int r = 0;

	if (!t)
		return driver_present() ? -ENOMEM : -ENODEV;
	if (!dm_task_set_name(t, name))
		return -EINVAL;
	/* a remove races udev's blkid probe of the device it removes */
	if (type == DM_DEVICE_REMOVE)
		dm_task_retry_remove(t);
	if (cookie && !dm_task_set_cookie(t, &c, 0))
		return -EIO;
	if (!dm_task_run(t))
		r = task_error(t);
	if (cookie)
		(void)dm_udev_wait(c);
	return r;
}

int dm_remove(const char *name)
{
	return dm_simple(DM_DEVICE_REMOVE, name, true);
}

int dm_reload(const char *name, uint64_t length, const char *target, const char *params)
{
	_cleanup_dm_task_ struct dm_task *l = dm_task_create(DM_DEVICE_RELOAD);
	int r;

	if (!l)
		return driver_present() ? -ENOMEM : -ENODEV;
	if (!dm_task_set_name(l, name) || !dm_task_add_target(l, 0, length, target, params))
		return -EINVAL;
	dm_task_secure_data(l);
	if (!dm_task_run(l))
		return task_error(l);
	r = dm_simple(DM_DEVICE_RESUME, name, true);
	if (r < 0) {
		/* the old table is still live: drop the new one, and resume the old */
		(void)dm_simple(DM_DEVICE_CLEAR, name, false);
		(void)dm_simple(DM_DEVICE_RESUME, name, true);
	}
	return r;
}

int dm_message(const char *name, const char *msg, char **ret_answer)
{
	_cleanup_dm_task_ struct dm_task *t = dm_task_create(DM_DEVICE_TARGET_MSG);
	const char *answer;

	*ret_answer = NULL;
	if (!t)
		return driver_present() ? -ENOMEM : -ENODEV;
	if (!dm_task_set_name(t, name) || !dm_task_set_sector(t, 0) || !dm_task_set_message(t, msg))
		return -EINVAL;
	if (!dm_task_run(t))
		return task_error(t);
	answer = dm_task_get_message_response(t);
	*ret_answer = strdup(answer ?: "");
	return *ret_answer ? 0 : -ENOMEM;
}

int dm_find_by_uuid_prefix(const char *prefix, char **ret_name)
{
	_cleanup_dm_task_ struct dm_task *t = dm_task_create(DM_DEVICE_LIST);
	struct dm_names *n;
	unsigned int next = 0;

	if (!t)
		return driver_present() ? -ENOMEM : -ENODEV;
	if (!dm_task_run(t))
		return task_error(t);
	n = dm_task_get_names(t);
	if (!n || !n->dev)
		return -ENOENT;
	do {
		struct dm_mapping m;

		n = (struct dm_names *)((char *)n + next);
		if (dm_query(n->name, &m) == 0 && m.exists &&
		    !strncmp(m.uuid, prefix, strlen(prefix))) {
			dm_mapping_clear(&m);
			*ret_name = strdup(n->name);
			return *ret_name ? 0 : -ENOMEM;
		}
		dm_mapping_clear(&m);
		next = n->next;
	} while (next);
	return -ENOENT;
}
