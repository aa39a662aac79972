// SPDX-License-Identifier: GPL-2.0
/*
 * The table side of a DEK rotation (see reencrypt.h): reloads with one or two keys, and
 * the reencrypt_step messages with progress and a rate limit.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "dm.h"
#include "keyring.h"
#include "luks.h"
#include "reencrypt.h"
#include "report.h"

/* Sectors one message converts: 8 MiB (the kernel takes at most 64 MiB). */
#define STEP_SECTORS		16384u
/* Seconds between saves of the boundary to the header. */
#define SAVE_INTERVAL		1.0
#define TABLE_MAX		1024
#define MAX_WORDS		16

static int split(char *s, char **w)
{
	int n = 0;

	for (char *t = strtok(s, " "); t; t = strtok(NULL, " "))
		if (n < MAX_WORDS)
			w[n++] = t;
	return n < MAX_WORDS ? n : -E2BIG;
}

/*
 * The live table with its reencrypt parameters replaced by @reenc (or none): the cipher,
 * key reference, IV offset, device and offset stay, and so do the other options.
 */
static int build_params(const char *params, const char *reenc, char *buf, size_t size)
{
	_cleanup_free_ char *copy = strdup(params);
	char *w[MAX_WORDS], opts[256] = "";
	int n, nopts = 0, k;
	size_t len = 0;

	if (!copy)
		return -ENOMEM;
	n = split(copy, w);
	if (n < 5)
		return -EINVAL;
	for (int i = 6; i < n; i++) {
		if (!strcasecmp(w[i], "reencrypt")) {
			i += 2;
			continue;
		}
		len += snprintf(opts + len, sizeof(opts) - len, " %s", w[i]);
		nopts++;
		if (len >= sizeof(opts))
			return -E2BIG;
	}
	if (reenc)
		nopts += 3;
	k = snprintf(buf, size, "%s %s %s %s %s", w[0], w[1], w[2], w[3], w[4]);
	if (nopts)
		k += snprintf(buf + k, size > (size_t)k ? size - k : 0, " %d%s%s%s", nopts, opts,
			      reenc ? " reencrypt " : "", reenc ?: "");
	return k < 0 || (size_t)k >= size ? -E2BIG : 0;
}

static void new_key_description(const struct reenc_map *m, char *buf, size_t size)
{
	snprintf(buf, size, "seal:%s:new", m->uuid);
}

/*
 * Both keys (or one) in the thread keyring for the load, dropped right after. The mapping
 * is reloaded, or created when m->dm_uuid is set (a closed volume).
 */
static enum seal_exit reload(struct reenc_map *m, const char *params, const char *desc1,
			     const struct secret *k1, const char *desc2, const struct secret *k2)
{
	key_serial_t a = 0, b = 0;
	int r;

	r = keyring_add_logon(desc1, k1->data, k1->len, &a);
	if (r >= 0 && desc2)
		r = keyring_add_logon(desc2, k2->data, k2->len, &b);
	if (r < 0) {
		keyring_drop(a);
		return fail(SEAL_EXIT_KEYRING, m->path, "cannot add the key to the kernel keyring: %s",
			    strerror(-r));
	}
	r = m->dm_uuid ? dm_create(m->name, m->dm_uuid, m->sectors, SEAL_DM_TARGET, params, false) :
			 dm_reload(m->name, m->sectors, SEAL_DM_TARGET, params);
	m->dm_uuid = NULL;
	/* loaded or not, the kernel holds its own copies now: drop ours */
	keyring_drop(a);
	keyring_drop(b);
	if (r < 0)
		return fail(SEAL_EXIT_DM, m->path, "reloading the table of %s failed: %s", m->name,
			    strerror(-r));
	free(m->params);
	m->params = strdup(params);
	return m->params ? SEAL_EXIT_OK : SEAL_EXIT_FAILURE;
}

int reenc_table_base(struct crypt_device *cd, const char *path, struct reenc_map *m)
{
	char desc[96], params[TABLE_MAX], opts[32] = "";
	uint32_t sector = crypt_get_sector_size(cd);
	uint64_t offset = crypt_get_data_offset(cd), size;
	struct stat sb;

	if (stat(path, &sb) < 0 || !S_ISBLK(sb.st_mode) || device_size(path, &size) < 0)
		return -ENOTBLK;
	if (keyring_description(crypt_get_uuid(cd), desc, sizeof(desc)) < 0)
		return -ENAMETOOLONG;
	if (sector != 512)
		snprintf(opts, sizeof(opts), " 1 sector_size:%u", sector);
	snprintf(params, sizeof(params), "%s-%s :%d:logon:%s %" PRIu64 " %u:%u %" PRIu64 "%s",
		 crypt_get_cipher(cd), crypt_get_cipher_mode(cd), crypt_get_volume_key_size(cd), desc,
		 crypt_get_iv_offset(cd), major(sb.st_rdev), minor(sb.st_rdev), offset, opts);
	m->sectors = size / 512 - offset;
	m->params = strdup(params);
	return m->params ? 0 : -ENOMEM;
}

enum seal_exit reenc_table_two(struct reenc_map *m, const struct secret *old_vk,
			       const struct secret *new_vk, uint64_t boundary)
{
	char desc[96], newdesc[112], reenc[160], params[TABLE_MAX];

	keyring_description(m->uuid, desc, sizeof(desc));
	new_key_description(m, newdesc, sizeof(newdesc));
	snprintf(reenc, sizeof(reenc), ":%zu:logon:%s %" PRIu64, new_vk->len, newdesc, boundary);
	if (build_params(m->params, reenc, params, sizeof(params)) < 0)
		return fail(SEAL_EXIT_DM, m->path, "cannot read the table of %s", m->name);
	return reload(m, params, desc, old_vk, newdesc, new_vk);
}

enum seal_exit reenc_table_one(struct reenc_map *m, const struct secret *new_vk)
{
	char desc[96], params[TABLE_MAX];

	keyring_description(m->uuid, desc, sizeof(desc));
	if (build_params(m->params, NULL, params, sizeof(params)) < 0)
		return fail(SEAL_EXIT_DM, m->path, "cannot read the table of %s", m->name);
	return reload(m, params, desc, new_vk, NULL, NULL);
}

int reenc_table_boundary(const struct reenc_map *m, bool *two, uint64_t *boundary)
{
	_cleanup_free_ char *info = NULL;
	char *p;
	int r = dm_query_info(m->name, &info);

	if (r < 0)
		return r;
	p = strstr(info, " reencrypt ");
	*two = p != NULL;
	if (p && sscanf(p, " reencrypt %" SCNu64, boundary) != 1)
		return -EINVAL;
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void human(uint64_t bytes, char *buf, size_t size)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = bytes;
	unsigned int u = 0;

	while (v >= 1024 && u + 1 < ARRAY_SIZE(units)) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, "%.1f %s", v, units[u]);
}

struct progress {
	bool tty;
	int last_tenth;
	double start, last_print;
	uint64_t first;		/* boundary at the start of this run */
};

static void progress(struct progress *p, const struct reenc_map *m, uint64_t b, bool last)
{
	double t = now(), rate = 0, eta = 0;
	char done[24], all[24], r[24];
	int tenth = b * 10 / m->sectors;

	if (t > p->start)
		rate = (b - p->first) * 512.0 / (t - p->start);
	if (rate > 0)
		eta = (m->sectors - b) * 512.0 / rate;
	human(b * 512, done, sizeof(done));
	human(m->sectors * 512, all, sizeof(all));
	human(rate, r, sizeof(r));
	if (p->tty) {
		if (!last && t - p->last_print < 0.25)
			return;
		p->last_print = t;
		fprintf(stderr, "\r%s: %s of %s (%d%%), %s/s, ETA %d:%02d   %s", m->name, done, all,
			(int)(b * 100 / m->sectors), r, (int)eta / 60, (int)eta % 60, last ? "\n" : "");
		fflush(stderr);
	} else if (tenth > p->last_tenth) {
		p->last_tenth = tenth;
		note(m->name, "reencrypted %s of %s (%d%%), %s/s", done, all, tenth * 10, r);
	}
}

/* Sleep as long as @bytes since @start is ahead of @rate. */
static void throttle(double start, uint64_t bytes, uint64_t rate)
{
	double ahead = (double)bytes / rate - (now() - start);

	if (ahead > 0) {
		struct timespec ts = { (time_t)ahead, (long)((ahead - (time_t)ahead) * 1e9) };

		nanosleep(&ts, NULL);
	}
}

static enum seal_exit save(struct crypt_device *cd, const struct reenc_map *m, struct reenc_state *st,
			   uint64_t b, bool exact)
{
	int r;

	st->boundary = b;
	st->exact = exact;
	r = reenc_state_save(cd, st);
	if (r < 0)
		return fail(SEAL_EXIT_FAILURE, m->path, "cannot record the progress in the header: %s",
			    strerror(-r));
	return SEAL_EXIT_OK;
}

enum seal_exit reenc_drive(struct crypt_device *cd, struct reenc_map *m, const struct seal_opts *o,
			   struct reenc_state *st, volatile sig_atomic_t *stop)
{
	uint32_t unit = m->sector_size / 512;
	uint64_t step = STEP_SECTORS, b;
	struct progress p = { .tty = isatty(STDERR_FILENO), .start = now() };
	double saved = p.start;
	bool two;
	int r;

	r = reenc_table_boundary(m, &two, &b);
	if (r < 0 || !two)
		return fail(SEAL_EXIT_DM, m->path, "cannot read the boundary of %s: %s", m->name,
			    r < 0 ? strerror(-r) : "no reencrypt key in its table");
	if (o->max_rate && step * 512 > o->max_rate / 4)
		step = o->max_rate / 4 / 512;
	step = step / unit * unit ?: unit;
	p.first = b;
	p.last_tenth = b * 10 / m->sectors;
	while (b < m->sectors) {
		_cleanup_free_ char *answer = NULL;
		char msg[48];
		uint64_t nb;

		if (*stop) {
			if (p.tty)
				fputc('\n', stderr);
			if (save(cd, m, st, b, true) != SEAL_EXIT_OK)
				return SEAL_EXIT_FAILURE;
			return fail(SEAL_EXIT_INTERRUPTED, m->path,
				    "stopped at %" PRIu64 " of %" PRIu64 " sectors; reencrypt --resume continues",
				    b, m->sectors);
		}
		snprintf(msg, sizeof(msg), "reencrypt_step %" PRIu64, step);
		r = dm_message(m->name, msg, &answer);
		if (r >= 0 && sscanf(answer, "%" SCNu64, &nb) != 1)
			r = -EINVAL;
		if (r < 0) {
			(void)save(cd, m, st, b, false);
			return fail(SEAL_EXIT_DM, m->path, "reencrypt_step at sector %" PRIu64 " failed: %s (see the kernel log; reencrypt --resume retries)",
				    b, strerror(-r));
		}
		b = nb;
		progress(&p, m, b, b >= m->sectors);
		if (now() - saved >= SAVE_INTERVAL) {
			if (save(cd, m, st, b, false) != SEAL_EXIT_OK)
				return SEAL_EXIT_FAILURE;
			saved = now();
		}
		if (o->max_rate)
			throttle(p.start, (b - p.first) * 512, o->max_rate);
	}
	return save(cd, m, st, b, true);
}
