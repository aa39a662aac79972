// SPDX-License-Identifier: GPL-2.0
/*
 * sealctl open NAME: a sealtab entry turned into open's device, mapping name
 * and options (open_sealtab.h). What the command line says wins over the entry.
 * And one hint about the entry, once the volume's tokens are known.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libcryptsetup.h>

#include "askpass.h"
#include "cleanup.h"
#include "clevis_token.h"
#include "clevis_unlock.h"
#include "open_sealtab.h"
#include "report.h"
#include "sealtab.h"
#include "unlock.h"

static void warn_line(const char *path, unsigned int line, const char *msg)
{
	note(NULL, "%s:%u: %s", path, line, msg);
}

/* tries= and tcti= of the entry, unless the command line gave them */
static enum seal_exit entry_options(const struct sealtab_entry *e, struct seal_opts *o,
				    struct sealtab_volume *v)
{
	_cleanup_free_ char *tries = NULL, *tcti = NULL;

	if (!o->tries_set && sealtab_opt(e->options, "tries", &tries) && tries) {
		long n = strtol(tries, NULL, 10);

		/* an invalid value was named when the sealtab was read; the default stands */
		if (n > 0 && n <= 1 << 20)
			o->tries = n;
	}
	if (!o->tcti && sealtab_opt(e->options, "tcti", &tcti) && tcti && *tcti)
		o->tcti = v->tcti = TAKE_PTR(tcti);
	if (sealtab_opt(e->options, "readonly", NULL) || sealtab_opt(e->options, "read-only", NULL))
		o->read_only = true;
	v->netdev = sealtab_opt(e->options, "_netdev", NULL);
	if (sealtab_opt(e->options, "tpm2-pcrs", NULL) && !o->no_tokens) {
		/* which PCRs a keyslot is bound to is the initramfs's check (seal-lib.sh) */
		note(e->name, "tpm2-pcrs= in the sealtab: tokens are not tried after boot");
		o->no_tokens = true;
	}
	return SEAL_EXIT_OK;
}

void sealtab_volume_clear(struct sealtab_volume *v)
{
	free(v->device);
	free(v->name);
	free(v->key_file);
	free(v->tcti);
	*v = (struct sealtab_volume){ 0 };
}

enum seal_exit open_sealtab_resolve(const char *arg, struct seal_opts *o, struct sealtab_volume *v)
{
	const char *tab = o->sealtab ?: SEALTAB_DEFAULT;
	_cleanup_(sealtab_clear) struct sealtab t = { 0 };
	const struct sealtab_entry *e;
	struct stat st;
	int r;

	r = sealtab_read(tab, arg, warn_line, &t);
	if (r < 0 && r != -ENOENT)
		return fail(SEAL_EXIT_NO_VOLUME, arg, "cannot read %s: %s", tab, strerror(-r));
	e = r < 0 ? NULL : sealtab_find(&t, arg);
	if (!e) {
		if (stat(arg, &st) == 0)
			return SEAL_EXIT_OK;	/* a device (or image) in this directory */
		return fail(SEAL_EXIT_NO_VOLUME, arg, "no such volume in %s, and no such device", tab);
	}
	if (e->key_file && !o->key_file) {
		_cleanup_close_ int fd = open(e->key_file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

		/* refused before anything is tried, so that a token cannot hide it */
		if (fd < 0)
			return fail(SEAL_EXIT_NO_KEY, e->device, "cannot read key file %s: %s",
				    e->key_file, strerror(errno));
		r = askpass_private_check(fd);
		if (r < 0)
			return key_file_refused(e->device, e->key_file, r);
		o->key_file = v->key_file = strdup(e->key_file);
		if (!o->key_file)
			return fail(SEAL_EXIT_FAILURE, arg, "out of memory");
		o->key_file_private = true;
	}
	v->device = strdup(e->device);
	v->name = strdup(e->name);
	if (!v->device || !v->name)
		return fail(SEAL_EXIT_FAILURE, arg, "out of memory");
	return entry_options(e, o, v);
}

void open_sealtab_netdev_hint(struct crypt_device *cd, const struct sealtab_volume *v)
{
	int max = crypt_token_max(CRYPT_LUKS2);
	const char *json;

	if (!v->device || v->netdev)
		return;
	for (int id = 0; id < max; id++) {
		const char *type;
		crypt_token_info st = crypt_token_status(cd, id, &type);

		if (st == CRYPT_TOKEN_INACTIVE || st == CRYPT_TOKEN_INVALID || strcmp(type, CLEVIS_TOKEN_TYPE))
			continue;
		if (crypt_token_json_get(cd, id, &json) < 0 || !clevis_token_uses(json, "tang"))
			continue;
		note(v->name, "token %d binds it to tang, but its sealtab entry has no _netdev: at boot seal-open@%s.service runs before the network is up",
		     id, v->name);
		return;
	}
}
