// SPDX-License-Identifier: GPL-2.0
/*
 * sealctl status NAME|DEV: a mapping (from device-mapper) or a volume (from
 * its LUKS2 header, plus its mapping if one is active). Human or --json.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "commands.h"
#include "dm.h"
#include "hygiene.h"
#include "luks.h"
#include "report.h"

static void emit(json_object *root, bool as_json)
{
	if (as_json) {
		print_json(root);
		return;
	}
	json_object_object_foreach(root, key, val)
		printf("%-16s %s\n", key, val ? json_object_get_string(val) : "none");
}

/*
 * /dev/NAME of block device MAJ:MIN, from sysfs (the kernel's name: no udev needed, as
 * /dev/block/ would be), or NULL.
 */
static char *dev_node(const char *majmin)
{
	_cleanup_free_ char *sys = NULL;
	char link[64], *node = NULL;
	struct stat st;

	snprintf(link, sizeof(link), "/sys/dev/block/%s", majmin);
	sys = realpath(link, NULL);
	if (!sys || asprintf(&node, "/dev/%s", strrchr(sys, '/') + 1) < 0)
		return NULL;
	if (stat(node, &st) == 0 && S_ISBLK(st.st_mode))
		return node;
	free(node);
	return NULL;
}

static void add_int(json_object *o, const char *key, const char *digits)
{
	json_object_object_add(o, key, json_object_new_int64(strtoll(digits, NULL, 10)));
}

/*
 * The fields of a seal table (the kernel's STATUSTYPE_TABLE line):
 *   aes-xts-plain64 :<bytes>:<type>:<description> <iv_offset> <maj:min> <offset> [<#opt> <opt>...]
 * A line of another shape adds nothing: "table" still shows it whole.
 */
static void add_table_fields(json_object *root, const char *params)
{
	_cleanup_free_ char *copy = strdup(params), *path = NULL;
	char *save = NULL, *cipher, *key, *iv, *dev, *offset, *opt, *desc;
	unsigned int key_size, sector_size = 512;
	bool discards = false, large = false;
	int n = 0;

	if (!copy)
		return;
	cipher = strtok_r(copy, " ", &save);
	key = strtok_r(NULL, " ", &save);
	iv = strtok_r(NULL, " ", &save);
	dev = strtok_r(NULL, " ", &save);
	offset = strtok_r(NULL, " ", &save);
	if (!offset || sscanf(key, ":%u:%n", &key_size, &n) != 1 || !n ||
	    !(desc = strchr(key + n, ':')))
		return;
	*desc++ = '\0';
	strtok_r(NULL, " ", &save);	/* the option count */
	while ((opt = strtok_r(NULL, " ", &save))) {
		if (!strcmp(opt, "allow_discards"))
			discards = true;
		else if (!strcmp(opt, "iv_large_sectors"))
			large = true;
		else
			sscanf(opt, "sector_size:%u", &sector_size);
	}
	path = dev_node(dev);

	json_object_object_add(root, "cipher", json_object_new_string(cipher));
	json_object_object_add(root, "key-bits", json_object_new_int(key_size * 8));
	json_object_object_add(root, "key-type", json_object_new_string(key + n));
	json_object_object_add(root, "key-description", json_object_new_string(desc));
	json_object_object_add(root, "device", json_object_new_string(path ?: dev));
	json_object_object_add(root, "device-number", json_object_new_string(dev));
	add_int(root, "offset", offset);
	add_int(root, "iv-offset", iv);
	json_object_object_add(root, "sector-size", json_object_new_int(sector_size));
	json_object_object_add(root, "allow-discards", json_object_new_boolean(discards));
	json_object_object_add(root, "iv-large-sectors", json_object_new_boolean(large));
}

/* The target's status line: valid|wiped, sectors read and written, read and write errors. */
static void add_info_fields(json_object *root, const char *name)
{
	_cleanup_free_ char *info = NULL;
	unsigned long long v[4];
	char key[8];

	if (dm_query_info(name, &info) < 0 ||
	    sscanf(info, "%7s %llu %llu %llu %llu", key, &v[0], &v[1], &v[2], &v[3]) != 5)
		return;
	json_object_object_add(root, "key-loaded", json_object_new_boolean(!strcmp(key, "valid")));
	json_object_object_add(root, "sectors-read", json_object_new_int64(v[0]));
	json_object_object_add(root, "sectors-written", json_object_new_int64(v[1]));
	json_object_object_add(root, "read-errors", json_object_new_int64(v[2]));
	json_object_object_add(root, "write-errors", json_object_new_int64(v[3]));
}

static enum seal_exit status_mapping(const struct seal_opts *o, const char *name)
{
	_cleanup_json_ json_object *root = json_object_new_object();
	struct dm_mapping m;
	int r;

	r = dm_query(name, &m);
	if (r < 0)
		return fail(SEAL_EXIT_DM, name, "device-mapper unavailable: %s",
			    r == -ENODEV ? "no driver in this kernel" : strerror(-r));
	if (!m.exists)
		return fail(SEAL_EXIT_NO_DEVICE, name, "no such mapping or device");
	/*
	 * another target's table may carry its key (dm-crypt plain, LUKS1, no keyring):
	 * wiped before the refusal is printed, which may block on a full stderr
	 */
	if (strcmp(m.target, SEAL_DM_TARGET)) {
		char target[sizeof(m.target)];

		memcpy(target, m.target, sizeof(target));
		dm_mapping_clear(&m);
		return fail(SEAL_EXIT_REFUSED, name, "not a seal mapping (target %s)", target);
	}
	json_object_object_add(root, "name", json_object_new_string(name));
	json_object_object_add(root, "uuid", json_object_new_string(m.uuid));
	json_object_object_add(root, "target", json_object_new_string(m.target));
	json_object_object_add(root, "sectors", json_object_new_int64(m.length));
	/* the seal table names its key by description only: safe to show */
	json_object_object_add(root, "table", json_object_new_string(m.params));
	json_object_object_add(root, "read-only", json_object_new_boolean(m.read_only));
	json_object_object_add(root, "suspended", json_object_new_boolean(m.suspended));
	json_object_object_add(root, "open-count", json_object_new_int(m.open_count));
	add_table_fields(root, m.params);
	dm_mapping_clear(&m);
	add_info_fields(root, name);
	emit(root, o->json);
	return SEAL_EXIT_OK;
}

static enum seal_exit status_volume(const struct seal_opts *o, const char *path)
{
	_cleanup_crypt_ struct crypt_device *cd = NULL;
	_cleanup_json_ json_object *root = json_object_new_object();
	_cleanup_free_ char *mapped = NULL;
	char cipher[64], prefix[80];
	const char *uuid;
	enum seal_exit e;
	size_t n;
	int r;

	e = volume_load(path, true, &cd);
	if (e != SEAL_EXIT_OK)
		return e;
	uuid = crypt_get_uuid(cd);
	snprintf(cipher, sizeof(cipher), "%s-%s", crypt_get_cipher(cd), crypt_get_cipher_mode(cd));
	n = snprintf(prefix, sizeof(prefix), "%s", SEAL_DM_UUID_PREFIX);
	for (const char *p = uuid; *p && n + 2 < sizeof(prefix); p++)
		if (*p != '-')
			prefix[n++] = *p;
	prefix[n++] = '-';
	prefix[n] = '\0';

	json_object_object_add(root, "device", json_object_new_string(path));
	json_object_object_add(root, "uuid", json_object_new_string(uuid));
	json_object_object_add(root, "cipher", json_object_new_string(cipher));
	json_object_object_add(root, "key-bits", json_object_new_int(crypt_get_volume_key_size(cd) * 8));
	json_object_object_add(root, "sector-size", json_object_new_int(crypt_get_sector_size(cd)));
	json_object_object_add(root, "data-offset", json_object_new_int64(crypt_get_data_offset(cd)));
	json_object_object_add(root, "keyslots", json_object_new_int(luks_active_keyslots(cd)));
	json_object_object_add(root, "supported",
			       json_object_new_boolean(!strcmp(cipher, "aes-xts-plain64") &&
						       crypt_get_volume_key_size(cd) == SEAL_KEY_SIZE));
	/* null: none is active; absent: device-mapper could not be asked */
	r = dm_find_by_uuid_prefix(prefix, &mapped);
	if (r == 0 || r == -ENOENT)
		json_object_object_add(root, "mapping", r == 0 ? json_object_new_string(mapped) : NULL);
	else
		note(path, "active mapping unknown: device-mapper unavailable (%s)", strerror(-r));
	emit(root, o->json);
	return SEAL_EXIT_OK;
}

enum seal_exit cmd_status(const struct seal_opts *o, char **argv)
{
	const char *what = argv[0];
	struct stat st;

	/* a table passes through this process: the same hygiene as open */
	if (process_hygiene() < 0)
		return fail(SEAL_EXIT_FAILURE, what, "cannot harden the process: %s", strerror(errno));
	if (strchr(what, '/') || stat(what, &st) == 0)
		return status_volume(o, what);
	return status_mapping(o, what);
}
