// SPDX-License-Identifier: GPL-2.0
/*
 * /etc/sealtab for the booted system (sealtab.h). The rules mirror
 * dracut/90seal/seal-lib.sh line for line; change both or neither.
 */
#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "sealtab.h"

#define FIELDS_MAX 5

bool sealtab_valid_name(const char *name)
{
	size_t len = strlen(name);

	if (!len || len > 127 || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_.:+-", *p))
			return false;
	return true;
}

/* seal_dev_path */
static char *dev_path(const char *spec)
{
	static const struct {
		const char *prefix, *dir;
	} kinds[] = {
		{ "UUID=", "/dev/disk/by-uuid/" },
		{ "PARTUUID=", "/dev/disk/by-partuuid/" },
		{ "LABEL=", "/dev/disk/by-label/" },
		{ "PARTLABEL=", "/dev/disk/by-partlabel/" },
		{ "ID=", "/dev/disk/by-id/" },
	};
	char *p;

	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		size_t n = strlen(kinds[i].prefix);

		if (!strncmp(spec, kinds[i].prefix, n))
			return asprintf(&p, "%s%s", kinds[i].dir, spec + n) < 0 ? NULL : p;
	}
	if (spec[0] == '/')
		return strdup(spec);
	return asprintf(&p, "/dev/disk/by-uuid/%s", spec) < 0 ? NULL : p;
}

/* Each option once, and whether its value must be a whole number (seal_check_options). */
static const struct {
	const char *key;
	bool value, number;
} known_options[] = {
	{ "tries", true, true },
	{ "timeout", true, true },
	{ "device-timeout", true, true },
	{ "x-systemd.device-timeout", true, true },
	{ "tpm2-pcrs", true, false },
	{ "tcti", true, false },
	{ "nofail", false, false },
	{ "noauto", false, false },
	{ "_netdev", false, false },
	{ "readonly", false, false },
	{ "read-only", false, false },
	{ "force", false, false },
};

static bool whole_number(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* one option: NULL if fine, else why not */
static const char *option_problem(const char *o, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(known_options); i++) {
		size_t k = strlen(known_options[i].key);
		_cleanup_free_ char *v = NULL;

		if (len < k || strncmp(o, known_options[i].key, k))
			continue;
		if (len == k && !known_options[i].value)
			return NULL;
		if (len == k || o[k] != '=' || !known_options[i].value)
			continue;
		v = strndup(o + k + 1, len - k - 1);
		if (!v)
			return NULL;
		if (known_options[i].number && (!whole_number(v) ||
						(!strcmp(known_options[i].key, "tries") && !strcmp(v, "0"))))
			return "invalid";
		return NULL;
	}
	return "unknown";
}

bool sealtab_opt(const char *options, const char *key, char **value)
{
	size_t k = strlen(key);
	const char *o = options;

	if (value)
		*value = NULL;
	while (*o) {
		size_t len = strcspn(o, ",");

		if (len == k && !strncmp(o, key, k))
			return true;
		if (len > k && !strncmp(o, key, k) && o[k] == '=') {
			if (value)
				*value = strndup(o + k + 1, len - k - 1);
			return true;
		}
		o += len;
		if (*o == ',')
			o++;
	}
	return false;
}

static void entry_clear(struct sealtab_entry *e)
{
	free(e->name);
	free(e->spec);
	free(e->device);
	free(e->key_file);
	free(e->options);
}

void sealtab_clear(struct sealtab *t)
{
	for (size_t i = 0; i < t->n; i++)
		entry_clear(&t->entries[i]);
	free(t->entries);
	*t = (struct sealtab){ 0 };
}

const struct sealtab_entry *sealtab_find(const struct sealtab *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->entries[i].name, name))
			return &t->entries[i];
	return NULL;
}

struct line_ctx {
	const char *path, *only;
	unsigned int line;
	sealtab_warn_fn warn;
};

static void warnf(const struct line_ctx *c, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void warnf(const struct line_ctx *c, const char *name, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	int r;

	if (c->only && strcmp(c->only, name))
		return;
	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r >= 0)
		c->warn(c->path, c->line, msg);
}

/* every option known and well-formed; each problem is named, the entry stays */
static void check_options(const struct line_ctx *c, const char *name, const char *options)
{
	const char *o = options;

	while (*o) {
		size_t len = strcspn(o, ",");
		/* "-" is no option, as the whole field ("-": none) */
		const char *why = len && strncmp(o, "-", len) ? option_problem(o, len) : NULL;

		if (why && !strcmp(why, "invalid"))
			warnf(c, name, "%s: invalid '%.*s' ignored (a whole number of tries or seconds)",
			      name, (int)len, o);
		else if (why)
			warnf(c, name, "%s: unknown option '%.*s' ignored", name, (int)len, o);
		o += len;
		if (*o == ',')
			o++;
	}
}

/* -EINVAL: the line was named in a warning and is left out */
static int parse_line(const struct line_ctx *c, char *line, struct sealtab_entry *e)
{
	char *f[FIELDS_MAX], *save = NULL, *key = NULL, *opts = NULL;
	int n = 0;

	for (char *t = strtok_r(line, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == FIELDS_MAX)
			break;
		f[n++] = t;
	}
	if (!n || f[0][0] == '#')
		return -ENOENT;
	if (n < 2 || n > 4) {
		warnf(c, f[0], "cannot parse the entry for '%s'; ignored", f[0]);
		return -EINVAL;
	}
	if (n == 4) {
		if (strcmp(f[2], "none") && strcmp(f[2], "-"))
			key = f[2];
		opts = f[3];
	} else if (n == 3) {
		if (f[2][0] == '/')
			key = f[2];
		else
			opts = f[2];
	}
	if (key && key[0] != '/') {
		warnf(c, f[0], "%s: the key file must be an absolute path, not '%s'; entry ignored",
		      f[0], key);
		return -EINVAL;
	}
	if (!sealtab_valid_name(f[0])) {
		warnf(c, f[0], "'%s' is not a valid mapping name; ignored", f[0]);
		return -EINVAL;
	}
	if (opts && !strcmp(opts, "-"))
		opts = NULL;
	*e = (struct sealtab_entry){
		.name = strdup(f[0]),
		.spec = strdup(f[1]),
		.device = dev_path(f[1]),
		.key_file = key ? strdup(key) : NULL,
		.options = strdup(opts ?: ""),
		.line = c->line,
	};
	if (!e->name || !e->spec || !e->device || (key && !e->key_file) || !e->options) {
		entry_clear(e);
		return -ENOMEM;
	}
	check_options(c, e->name, e->options);
	return 0;
}

int sealtab_read(const char *path, const char *only, sealtab_warn_fn warn, struct sealtab *ret)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_free_ char *buf = NULL;
	struct line_ctx c = { .path = path, .only = only, .warn = warn };
	struct sealtab t = { 0 };
	size_t size = 0;

	if (!f)
		return -errno;
	while (getline(&buf, &size, f) >= 0) {
		struct sealtab_entry e, *grown;
		int r;

		c.line++;
		r = parse_line(&c, buf, &e);
		if (r == -ENOMEM) {
			sealtab_clear(&t);
			return r;
		}
		if (r < 0)
			continue;
		if (sealtab_find(&t, e.name)) {
			warnf(&c, e.name, "%s is named twice (the first entry wins); ignored", e.name);
			entry_clear(&e);
			continue;
		}
		grown = reallocarray(t.entries, t.n + 1, sizeof(*grown));
		if (!grown) {
			entry_clear(&e);
			sealtab_clear(&t);
			return -ENOMEM;
		}
		t.entries = grown;
		t.entries[t.n++] = e;
	}
	if (ferror(f)) {
		int r = -EIO;

		sealtab_clear(&t);
		return r;
	}
	*ret = t;
	return 0;
}
