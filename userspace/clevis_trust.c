// SPDX-License-Identifier: GPL-2.0
/*
 * Trusting tang advertisements (see clevis_trust.h). The advertisement is
 * fetched with curl, as clevis's tang pin does, and its signing keys'
 * thumbprints computed as jose does (RFC 7638); clevis checks the
 * advertisement's signature against the "thp" it is given when it encrypts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "cleanup.h"
#include "clevis.h"
#include "clevis_token.h"
#include "clevis_trust.h"
#include "report.h"

/* stdout of @argv fed @in, as a malloc'ed string; NULL with a line said. */
static char *run_tool(const char *path, const struct seal_opts *o, const char *const argv[],
		      const char *in, const char *what)
{
	_cleanup_secret_ struct secret *out = NULL;
	struct clevis_run run = { .timeout_s = o->clevis_timeout };
	int r = clevis_exec(&run, argv, in, in ? strlen(in) : 0, &out);

	if (r < 0) {
		fail(SEAL_EXIT_CLEVIS, path, "%s: %s", what,
		     r == -ETIMEDOUT ? "timed out" : r == -EIO ? run.err : strerror(-r));
		return NULL;
	}
	return strdup((char *)out->data);
}

/* RFC 7638 thumbprint of an EC key (tang's keys are P-521): @md over its required members. */
static int thumbprint(json_object *key, const EVP_MD *md, FILE *f)
{
	unsigned char digest[EVP_MAX_MD_SIZE], b64[2 * EVP_MAX_MD_SIZE];
	_cleanup_free_ char *canon = NULL;
	const char *m[4] = { "crv", "kty", "x", "y" };
	json_object *v[4];
	unsigned int len;
	int n;

	for (int i = 0; i < 4; i++)
		if (!json_object_object_get_ex(key, m[i], &v[i]) || !json_object_is_type(v[i], json_type_string))
			return -EINVAL;
	if (asprintf(&canon, "{\"crv\":\"%s\",\"kty\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"}",
		     json_object_get_string(v[0]), json_object_get_string(v[1]),
		     json_object_get_string(v[2]), json_object_get_string(v[3])) < 0)
		return -ENOMEM;
	if (!EVP_Digest(canon, strlen(canon), digest, &len, md, NULL))
		return -EIO;
	n = EVP_EncodeBlock(b64, digest, len);
	while (n && b64[n - 1] == '=')
		n--;
	for (int i = 0; i < n; i++)
		fputc(b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i], f);
	fputc('\n', f);
	return 0;
}

static bool verifies(json_object *key)
{
	json_object *ops;

	if (!json_object_object_get_ex(key, "key_ops", &ops) || !json_object_is_type(ops, json_type_array))
		return false;
	for (size_t i = 0; i < json_object_array_length(ops); i++)
		if (!strcmp(json_object_get_string(json_object_array_get_idx(ops, i)) ?: "", "verify"))
			return true;
	return false;
}

/*
 * The thumbprints of @url's advertised signing keys, one a line: SHA-256
 * ones first, then SHA-1 (clevis accepts both). The advertisement's
 * signature is checked by clevis when it encrypts with the chosen "thp".
 */
static char *signing_thumbprints(const char *path, const struct seal_opts *o, const char *url)
{
	_cleanup_free_ char *adv_url = NULL, *adv = NULL, *list = NULL;
	_cleanup_json_ json_object *jws = NULL, *payload = NULL;
	json_object *p, *keys;
	char timeout[16];
	size_t size = 0;
	FILE *f;

	snprintf(timeout, sizeof(timeout), "%u", o->clevis_timeout);
	if (asprintf(&adv_url, "%s/adv", url) < 0)
		return NULL;
	adv = run_tool(path, o, (const char *const[]){ "curl", "-sfg", "--max-time", timeout, adv_url, NULL },
		       NULL, "cannot fetch the tang advertisement");
	if (!adv)
		return NULL;
	jws = json_tokener_parse(adv);
	if (!jws || !json_object_object_get_ex(jws, "payload", &p) || !json_object_is_type(p, json_type_string) ||
	    !(payload = clevis_b64url_json(json_object_get_string(p), json_object_get_string_len(p))) ||
	    !json_object_object_get_ex(payload, "keys", &keys) || !json_object_is_type(keys, json_type_array)) {
		fail(SEAL_EXIT_CLEVIS, path, "%s: the tang advertisement is malformed", url);
		return NULL;
	}
	f = open_memstream(&list, &size);
	if (!f)
		return NULL;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < json_object_array_length(keys); i++) {
			json_object *k = json_object_array_get_idx(keys, i);

			if (verifies(k))
				thumbprint(k, pass ? EVP_sha1() : EVP_sha256(), f);
		}
	fclose(f);
	if (!size) {
		fail(SEAL_EXIT_CLEVIS, path, "%s: the tang advertisement has no signing key", url);
		return NULL;
	}
	return TAKE_PTR(list);
}

/* Is @tp one of the lines of @list? */
static bool listed(const char *list, const char *tp, size_t len)
{
	for (const char *p = list; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, tp, len) && (p[len] == '\n' || p[len] == '\0'))
			return true;
	return false;
}

/* The first of --thumbprint's comma-separated values that @list has, or NULL. */
static char *named_thumbprint(const char *given, const char *list)
{
	for (const char *p = given; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
		size_t len = strcspn(p, ",");

		if (len && listed(list, p, len))
			return strndup(p, len);
	}
	return NULL;
}

/* Show the S256 thumbprints on the terminal and ask; the first one if yes. */
static char *confirm_on_tty(const char *url, const char *list)
{
	_cleanup_close_ int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	_cleanup_fclose_ FILE *tty = NULL;
	size_t first = strcspn(list, "\n");
	char answer[8];

	if (fd < 0 || !isatty(fd))
		return NULL;
	tty = fdopen(fd, "r+");
	if (!tty)
		return NULL;
	fd = -1;
	fprintf(tty, "%s advertises the signing key %.*s\nTrust it? [y/N] ", url, (int)first, list);
	fflush(tty);
	if (!fgets(answer, sizeof(answer), tty) || (answer[0] != 'y' && answer[0] != 'Y'))
		return NULL;
	return strndup(list, first);
}

static enum seal_exit trust_tang(const char *path, json_object *cfg, const struct seal_opts *o)
{
	_cleanup_free_ char *list = NULL, *thp = NULL;
	json_object *v;
	const char *url;

	if (!json_object_is_type(cfg, json_type_object) || !json_object_object_get_ex(cfg, "url", &v) ||
	    !json_object_is_type(v, json_type_string))
		return fail(SEAL_EXIT_USAGE, path, "a tang pin's config needs a \"url\"");
	url = json_object_get_string(v);
	/* a thumbprint or advertisement in the config is the administrator's word already */
	if (json_object_object_get_ex(cfg, "thp", NULL) || json_object_object_get_ex(cfg, "adv", NULL))
		return SEAL_EXIT_OK;
	list = signing_thumbprints(path, o, url);
	if (!list)
		return SEAL_EXIT_CLEVIS;
	if (o->thumbprint) {
		thp = named_thumbprint(o->thumbprint, list);
		if (!thp)
			return fail(SEAL_EXIT_UNTRUSTED, path, "%s: --thumbprint names none of its signing keys (%.*s)",
				    url, (int)strcspn(list, "\n"), list);
	} else {
		thp = confirm_on_tty(url, list);
		if (!thp)
			return fail(SEAL_EXIT_UNTRUSTED, path,
				    "%s advertises the signing key %.*s: not trusted (pass --thumbprint, or confirm on a terminal)",
				    url, (int)strcspn(list, "\n"), list);
	}
	json_object_object_add(cfg, "thp", json_object_new_string(thp));
	return SEAL_EXIT_OK;
}

enum seal_exit clevis_trust_config(const char *path, const char *pin, json_object *cfg,
				   const struct seal_opts *o)
{
	json_object *pins;
	enum seal_exit e = SEAL_EXIT_OK;

	if (!strcmp(pin, "tang"))
		return trust_tang(path, cfg, o);
	if (strcmp(pin, "sss") || !json_object_is_type(cfg, json_type_object) ||
	    !json_object_object_get_ex(cfg, "pins", &pins) || !json_object_is_type(pins, json_type_object))
		return SEAL_EXIT_OK;
	json_object_object_foreach(pins, name, child) {
		if (json_object_is_type(child, json_type_array)) {
			for (size_t i = 0; i < json_object_array_length(child) && e == SEAL_EXIT_OK; i++)
				e = clevis_trust_config(path, name, json_object_array_get_idx(child, i), o);
		} else {
			e = clevis_trust_config(path, name, child, o);
		}
		if (e != SEAL_EXIT_OK)
			return e;
	}
	return SEAL_EXIT_OK;
}
