/* SPDX-License-Identifier: GPL-2.0 */
/*
 * /etc/sealtab in the booted system: `sealctl open NAME` and the systemd
 * generator (seal-sealtab-generator) read it here. The initramfs reads the
 * same file with dracut/90seal/seal-lib.sh (seal_sealtab, seal_dev_path,
 * seal_valid_name, seal_check_options); the two follow one format, described
 * in Documentation/admin-guide.md section 5, and tests/userspace/
 * sealtab-generator.sh holds them to it on the same sample file.
 *
 * One volume per line, whitespace-separated, '#' as the first field starts
 * a comment:
 *
 *   NAME DEVICE                  NAME DEVICE OPTIONS
 *   NAME DEVICE /KEY-FILE        NAME DEVICE KEYFILE|none|- OPTIONS
 *
 * OPTIONS comma-separated ("-" for none). A third field of three that starts
 * with '/' is a key file, otherwise the options.
 */
#ifndef SEAL_SEALTAB_H
#define SEAL_SEALTAB_H

#include <stdbool.h>
#include <stddef.h>

#define SEALTAB_DEFAULT "/etc/sealtab"

struct sealtab_entry {
	char *name;		/* the mapping name */
	char *spec;		/* DEVICE as written */
	char *device;		/* its path: UUID=... -> /dev/disk/by-uuid/... */
	char *key_file;		/* absolute path, or NULL */
	char *options;		/* comma-separated, "" for none */
	unsigned int line;
};

struct sealtab {
	struct sealtab_entry *entries;
	size_t n;
};

/*
 * Every valid entry of @path, in order (a later duplicate name is dropped).
 * A line that cannot be used earns one warning through @warn (with its line
 * number) and is left out; so do options nobody knows. -errno if the file
 * cannot be read (-ENOENT: there is none).
 */
typedef void (*sealtab_warn_fn)(const char *path, unsigned int line, const char *msg);
/* @only: warn about the lines of this NAME only (NULL: every line) */
int sealtab_read(const char *path, const char *only, sealtab_warn_fn warn, struct sealtab *ret);
void sealtab_clear(struct sealtab *t);
const struct sealtab_entry *sealtab_find(const struct sealtab *t, const char *name);

/* OPTIONS has KEY or KEY=VALUE; *value (unless @value is NULL) gets a copy of VALUE
 * (NULL for a bare KEY), which the caller frees. */
bool sealtab_opt(const char *options, const char *key, char **value);

/* A valid mapping name: letters, digits, _ . : + -, at most 127, not . or .. */
bool sealtab_valid_name(const char *name);

#endif /* SEAL_SEALTAB_H */
