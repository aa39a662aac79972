// SPDX-License-Identifier: GPL-2.0
/*
 * sealctl reencrypt DEV|NAME [--resume]: a new random DEK for an open volume, the data
 * converted while it stays open and in use, every keyslot the passphrase given opens
 * re-wrapped (reencrypt.h). SIGINT and SIGTERM stop it cleanly between two steps; the
 * state is in the header (reencrypt_state.h), and --resume continues.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "askpass.h"
#include "cleanup.h"
#include "commands.h"
#include "dm.h"
#include "hygiene.h"
#include "luks.h"
#include "reencrypt.h"
#include "report.h"

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void catch_stop(void)
{
	struct sigaction sa = { .sa_handler = on_stop };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* SEAL-<uuid without dashes>-: the start of the dm uuid open gives the volume's mapping. */
static void uuid_prefix(const char *luks_uuid, char *buf, size_t size)
{
	size_t n = snprintf(buf, size, "%s", SEAL_DM_UUID_PREFIX);

	for (const char *p = luks_uuid; *p && n + 2 < size; p++)
		if (*p != '-')
			buf[n++] = *p;
	buf[n++] = '-';
	buf[n] = '\0';
}

/* NAME -> its device, /dev/<DEVNAME> of the MAJ:MIN in its table (sysfs says which). */
static enum seal_exit device_of(const char *name, char *path, size_t size)
{
	_cleanup_fclose_ FILE *f = NULL;
	struct dm_mapping m;
	char dev[32] = "", sys[64], line[128];
	int r = dm_query(name, &m);

	if (r == 0 && m.exists && !strcmp(m.target, SEAL_DM_TARGET))
		(void)sscanf(m.params, "%*s %*s %*s %31s", dev);
	dm_mapping_clear(&m);
	if (r < 0)
		return fail(SEAL_EXIT_DM, name, "device-mapper unavailable: %s", strerror(-r));
	if (!*dev)
		return fail(SEAL_EXIT_NO_VOLUME, name, "no open seal mapping of that name, and not a device");
	snprintf(sys, sizeof(sys), "/sys/dev/block/%s/uevent", dev);
	f = fopen(sys, "re");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "DEVNAME=", 8)) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(path, size, "/dev/%s", line + 8);
			return SEAL_EXIT_OK;
		}
	return fail(SEAL_EXIT_NO_DEVICE, name, "cannot find the device %s of the mapping", dev);
}

/* The volume's open mapping: name, length, table. */
static enum seal_exit find_mapping(struct crypt_device *cd, const char *path, const char *arg,
				   bool closed_ok, char **ret_name, struct reenc_map *rm)
{
	struct dm_mapping m;
	char prefix[160];
	int r;

	uuid_prefix(crypt_get_uuid(cd), prefix, sizeof(prefix));
	r = dm_find_by_uuid_prefix(prefix, ret_name);
	if (r == -ENOENT && closed_ok)
		return SEAL_EXIT_NO_DEVICE;
	if (r == -ENOENT && reenc_in_progress(cd))
		return fail(SEAL_EXIT_REENCRYPTING, path,
			    "a rotation of the closed volume is in progress: reencrypt --resume %s NAME opens and finishes it",
			    path);
	if (r == -ENOENT)
		return fail(SEAL_EXIT_NO_DEVICE, path, "the volume is not open (sealctl open it first)");
	if (r < 0)
		return fail(SEAL_EXIT_DM, path, "device-mapper unavailable: %s", strerror(-r));
	if (strchr(arg, '/') == NULL && strcmp(arg, *ret_name))
		return fail(SEAL_EXIT_NO_VOLUME, arg, "not the mapping of %s", path);
	r = dm_query(*ret_name, &m);
	if (r < 0 || !m.exists || strcmp(m.target, SEAL_DM_TARGET)) {
		dm_mapping_clear(&m);
		return fail(SEAL_EXIT_DM, path, "cannot read the table of %s", *ret_name);
	}
	if (m.read_only) {
		dm_mapping_clear(&m);
		return fail(SEAL_EXIT_REFUSED, path, "%s is open read-only", *ret_name);
	}
	rm->name = *ret_name;
	rm->sectors = m.length;
	rm->params = TAKE_PTR(m.params);
	dm_mapping_clear(&m);
	return SEAL_EXIT_OK;
}

static enum seal_exit read_passphrase(const char *path, const struct seal_opts *o, struct secret **ret)
{
	_cleanup_free_ char *prompt = NULL;
	int r;

	if (o->key_file) {
		r = askpass_file(o->key_file, ret);
		if (r < 0)
			return fail(SEAL_EXIT_NO_KEY, path, "cannot read key file %s: %s", o->key_file,
				    strerror(-r));
		return SEAL_EXIT_OK;
	}
	if (asprintf(&prompt, "Passphrase or recovery key for %s: ", path) < 0)
		return SEAL_EXIT_FAILURE;
	r = askpass_prompt(prompt, path, ret);
	if (r < 0)
		return fail(SEAL_EXIT_NO_KEY, path, "cannot read a passphrase: %s",
			    r == -ENOTTY ? "no terminal (use --key-file)" : strerror(-r));
	return SEAL_EXIT_OK;
}

/* The key of the first of @slots that @pass opens. */
static enum seal_exit key_of(struct crypt_device *cd, const char *path, const int *slots, int n,
			     const struct secret *pass, struct secret **ret)
{
	_cleanup_secret_ struct secret *vk = secret_new(SEAL_KEY_SIZE);

	if (!vk)
		return fail(SEAL_EXIT_FAILURE, path, "out of memory");
	for (int i = 0; i < n; i++) {
		size_t len = SEAL_KEY_SIZE;
		int r = crypt_volume_key_get(cd, slots[i], (char *)vk->data, &len,
					     (const char *)pass->data, pass->len);

		if (r >= 0) {
			vk->len = len;
			*ret = TAKE_PTR(vk);
			return SEAL_EXIT_OK;
		}
		if (r != -EPERM && r != -ENOENT)
			return fail(SEAL_EXIT_FAILURE, path, "reading the volume key: %s", strerror(-r));
	}
	return fail(SEAL_EXIT_BAD_PASSPHRASE, path, "no keyslot of the rotation accepts the passphrase");
}

static enum seal_exit start(struct crypt_device *cd, const char *path, const struct seal_opts *o,
			    struct reenc_map *m, const struct secret *pass, struct reenc_state *st,
			    struct secret **ret_new)
{
	_cleanup_secret_ struct secret *old_vk = NULL, *new_vk = secret_new(SEAL_KEY_SIZE);
	int any = CRYPT_ANY_SLOT;
	enum seal_exit e;

	if (strstr(m->params, " reencrypt "))
		return fail(SEAL_EXIT_REENCRYPTING, path, "%s has a reencrypt key in its table already", m->name);
	e = key_of(cd, path, &any, 1, pass, &old_vk);
	if (e != SEAL_EXIT_OK)
		return e;
	if (!new_vk || getrandom(new_vk->data, SEAL_KEY_SIZE, 0) != SEAL_KEY_SIZE)
		return fail(SEAL_EXIT_FAILURE, path, "cannot generate the new key");
	new_vk->len = SEAL_KEY_SIZE;
	e = reenc_begin(cd, path, o, pass, new_vk, m->sectors, st);
	if (e != SEAL_EXIT_OK)
		return e;
	e = reenc_table_two(m, old_vk, new_vk, 0);
	if (e != SEAL_EXIT_OK) {
		reenc_undo(cd, st);
		return e;
	}
	e = reenc_lock(cd, path, st);
	if (e != SEAL_EXIT_OK) {
		/* nothing converted yet: back to the old key alone */
		if (reenc_table_one(m, old_vk) == SEAL_EXIT_OK)
			reenc_undo(cd, st);
		return e;
	}
	*ret_new = TAKE_PTR(new_vk);
	return SEAL_EXIT_OK;
}

static enum seal_exit resume(struct crypt_device *cd, const char *path, struct reenc_map *m,
			     const struct secret *pass, struct reenc_state *st, struct secret **ret_new)
{
	_cleanup_secret_ struct secret *old_vk = NULL;
	enum seal_exit e;
	uint64_t b;
	bool two;

	e = key_of(cd, path, st->new, st->npairs, pass, ret_new);
	if (e != SEAL_EXIT_OK || reenc_committed(cd, st))
		return e;
	if (reenc_table_boundary(m, &two, &b) < 0)
		return fail(SEAL_EXIT_DM, path, "cannot read the status of %s", m->name);
	if (!two) {
		/* stopped before the first reload: nothing was converted */
		if (st->boundary)
			return fail(SEAL_EXIT_REENCRYPTING, path,
				    "%s was opened with one key at boundary %llu: close it and restore a header backup",
				    m->name, (unsigned long long)st->boundary);
		e = key_of(cd, path, st->old, st->npairs, pass, &old_vk);
		if (e == SEAL_EXIT_OK)
			e = reenc_table_two(m, old_vk, *ret_new, 0);
		if (e != SEAL_EXIT_OK)
			return e;
	}
	return reenc_lock(cd, path, st);
}

/*
 * A volume closed in the middle of a rotation: the mapping @name is created with both keys
 * at the boundary saved at the clean stop (resume() loads the table).
 */
static enum seal_exit closed_volume(struct crypt_device *cd, const char *path, const char *name,
				    struct reenc_map *m)
{
	struct dm_mapping dm;
	int r;

	if (!*name || strlen(name) > 127 || strchr(name, '/'))
		return fail(SEAL_EXIT_USAGE, path, "invalid mapping name '%s'", name);
	r = dm_query(name, &dm);
	dm_mapping_clear(&dm);
	if (r < 0 || dm.exists)
		return fail(r < 0 ? SEAL_EXIT_DM : SEAL_EXIT_NAME_IN_USE, path,
			    "mapping name %s is already in use", name);
	r = reenc_table_base(cd, path, m);
	if (r < 0)
		return fail(SEAL_EXIT_NO_DEVICE, path, "cannot read the device: %s", strerror(-r));
	m->name = name;
	return SEAL_EXIT_OK;
}

/* The closed volume's mapping, with the keys the saved state says. */
static enum seal_exit create_closed(struct crypt_device *cd, const char *path, struct reenc_map *m,
				   const struct secret *pass, const struct reenc_state *st)
{
	_cleanup_secret_ struct secret *old_vk = NULL, *new_vk = NULL;
	enum seal_exit e;

	e = key_of(cd, path, st->new, st->npairs, pass, &new_vk);
	if (e != SEAL_EXIT_OK)
		return e;
	if (reenc_committed(cd, st))
		return reenc_table_one(m, new_vk);
	e = key_of(cd, path, st->old, st->npairs, pass, &old_vk);
	if (e != SEAL_EXIT_OK)
		return e;
	return reenc_table_two(m, old_vk, new_vk, st->boundary);
}

enum seal_exit cmd_reencrypt(const struct seal_opts *o, char **argv)
{
	const char *arg = argv[0];
	_cleanup_crypt_ struct crypt_device *cd = NULL;
	_cleanup_secret_ struct secret *pass = NULL, *new_vk = NULL;
	_cleanup_free_ char *name = NULL;
	struct reenc_map m = { 0 };
	struct reenc_state st;
	char devpath[192];
	const char *path = arg;
	bool closed = false;
	enum seal_exit e;
	struct stat sb;
	int r;

	if (process_hygiene() < 0)
		return fail(SEAL_EXIT_FAILURE, arg, "cannot harden the process: %s", strerror(errno));
	if (!strchr(arg, '/') || stat(arg, &sb) < 0) {
		e = device_of(arg, devpath, sizeof(devpath));
		if (e != SEAL_EXIT_OK)
			return e;
		path = devpath;
	}
	e = volume_load(path, false, &cd);
	if (e == SEAL_EXIT_OK)
		e = volume_check_seal(cd, path);
	if (e == SEAL_EXIT_OK)
		e = find_mapping(cd, path, arg, o->resume && argv[1], &name, &m);
	if (e == SEAL_EXIT_OK && argv[1])
		e = fail(SEAL_EXIT_USAGE, path, "%s is open already as %s: no NAME needed", path, name);
	if (e == SEAL_EXIT_NO_DEVICE && o->resume && argv[1]) {
		e = closed_volume(cd, path, argv[1], &m);
		closed = true;
	} else if (e == SEAL_EXIT_OK && !o->resume && argv[1]) {
		e = fail(SEAL_EXIT_USAGE, path, "NAME is for --resume of a closed volume");
	}
	if (e != SEAL_EXIT_OK)
		goto out;
	m.path = path;
	m.uuid = crypt_get_uuid(cd);
	m.sector_size = crypt_get_sector_size(cd);

	r = reenc_state_load(cd, &st);
	if (r == -EINVAL)
		e = fail(SEAL_EXIT_TOKEN, path, "the seal-reencrypt token is malformed");
	else if (r == -ENOENT && o->resume)
		e = fail(SEAL_EXIT_REFUSED, path, "no rotation to resume");
	else if (r == 0 && !o->resume)
		e = fail(SEAL_EXIT_REENCRYPTING, path, "a rotation is in progress: reencrypt --resume continues it");
	else if (r == 0 && closed && !st.exact)
		e = fail(SEAL_EXIT_REENCRYPTING, path,
			 "the rotation did not stop cleanly and the volume was closed: where its data changes key is not known");
	else if (r == 0 && st.sectors != m.sectors)
		e = fail(SEAL_EXIT_REENCRYPTING, path, "the rotation was of %llu sectors, %s has %llu",
			 (unsigned long long)st.sectors, m.name, (unsigned long long)m.sectors);
	if (e == SEAL_EXIT_OK)
		e = read_passphrase(path, o, &pass);
	/* from here a signal stops at the next step, never half-way through the header */
	catch_stop();
	if (e == SEAL_EXIT_OK && closed) {
		char dmuuid[192];

		uuid_prefix(m.uuid, dmuuid, sizeof(dmuuid));
		strncat(dmuuid, m.name, sizeof(dmuuid) - strlen(dmuuid) - 1);
		m.dm_uuid = dmuuid;
		e = create_closed(cd, path, &m, pass, &st);
	}
	if (e == SEAL_EXIT_OK)
		e = o->resume ? resume(cd, path, &m, pass, &st, &new_vk) :
				start(cd, path, o, &m, pass, &st, &new_vk);
	/* the passphrase is not needed any more */
	secret_free(TAKE_PTR(pass));
	if (e != SEAL_EXIT_OK)
		goto out;

	if (!reenc_committed(cd, &st)) {
		e = reenc_drive(cd, &m, o, &st, &stop_requested);
		if (e == SEAL_EXIT_OK)
			e = reenc_commit(cd, path, new_vk, &st);
	}
	if (e == SEAL_EXIT_OK && strstr(m.params, " reencrypt "))
		e = reenc_table_one(&m, new_vk);
	if (e == SEAL_EXIT_OK)
		e = reenc_cleanup(cd, path, &st);
	if (e == SEAL_EXIT_OK)
		note(path, "the data of %s is under a new key; %d keyslot(s) re-wrapped, %d dropped",
		     name, st.npairs, st.ndrop);
out:
	free(m.params);
	return e;
}
