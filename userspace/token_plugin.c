// SPDX-License-Identifier: GPL-2.0
/*
 * libcryptsetup-token-seal-tpm2.so: lets stock `cryptsetup open` (and any
 * libcryptsetup user) unlock a keyslot through its seal-tpm2 token. The
 * exported entry points carry symbol version CRYPTSETUP_TOKEN_1.0
 * (token_plugin.sym). The TPM is reached through $SEAL_TCTI, else
 * device:/dev/tpmrm0.
 *
 * Unseal once per boot holds here too: every unseal extends PCR 15 before
 * the secret is handed out (unseal.h). libcryptsetup 2.6.1 may open the same
 * token twice for one activation (once to find the keyslot, once to unlock
 * it); the second call would then meet a moved PCR 15. So the secret of
 * the last unseal is kept, in locked memory, for one more call for the same
 * volume and token within REUSE_SECONDS, and wiped when that call has it,
 * when another call comes, or when the process exits.
 *
 * Return codes follow libcryptsetup's token conventions: -EAGAIN when the
 * TPM is missing, -ENOANO when a PIN is needed or wrong, -EPERM otherwise
 * (which libcryptsetup reports as "no usable token").
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libcryptsetup.h>

#include "secret.h"
#include "token.h"
#include "tpm2.h"
#include "unseal.h"

#define EXPORT __attribute__((visibility("default")))

/* the one version, debian/changelog's: userspace/Makefile passes mk/version's */
#ifndef SEAL_VERSION
#error "SEAL_VERSION is not defined: build with userspace/Makefile (it passes mk/version)"
#endif

static int plugin_errno(int r)
{
	switch (r) {
	case -ENODEV:
		return -EAGAIN;
	case -ENOANO:
	case -EACCES:
		return -ENOANO;
	case -ENOMEM:
		return -ENOMEM;
	default:
		return -EPERM;
	}
}

static const char *cause(int r)
{
	switch (r) {
	case -ENODEV:
		return "no TPM2 reachable";
	case -EPERM:
		return "PCR values differ from the sealed policy";
	case -ENOLCK:
		return "TPM2 in dictionary-attack lockout";
	case -EBADE:
		return "TPM2 primary key differs from the one recorded at enrollment";
	case -EACCES:
		return "wrong PIN";
	case -ENOANO:
		return "PIN required";
	case -ENOTRECOVERABLE:
		return "unsealed, but PCR 15 extend not confirmed by the TPM: the secret was discarded";
	default:
		return "TPM2 error";
	}
}

#define REUSE_SECONDS 30

static struct {
	struct secret *pass;
	char volume[64];	/* LUKS UUID */
	int token;
	time_t when;
} last_unseal;

static void last_unseal_forget(void)
{
	secret_free(last_unseal.pass);
	memset(&last_unseal, 0, sizeof(last_unseal));
}

/* before libcryptsetup calls in: tpm2-tss must never log (tpm2.h) */
__attribute__((constructor)) static void plugin_load(void)
{
	(void)seal_tss_log_off();
}

__attribute__((destructor)) static void plugin_unload(void)
{
	last_unseal_forget();
}

static time_t now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* The kept secret for this volume and token, once; anything else wipes it. */
static struct secret *last_unseal_take(struct crypt_device *cd, int token)
{
	struct secret *pass = NULL;
	const char *uuid = crypt_get_uuid(cd);

	if (last_unseal.pass && uuid && !strcmp(uuid, last_unseal.volume) &&
	    token == last_unseal.token && now() - last_unseal.when <= REUSE_SECONDS)
		pass = secret_dup(last_unseal.pass->data, last_unseal.pass->len);
	last_unseal_forget();
	return pass;
}

static void last_unseal_keep(struct crypt_device *cd, int token, const struct secret *pass)
{
	const char *uuid = crypt_get_uuid(cd);

	last_unseal_forget();
	if (!uuid)
		return;
	last_unseal.pass = secret_dup(pass->data, pass->len);
	snprintf(last_unseal.volume, sizeof(last_unseal.volume), "%s", uuid);
	last_unseal.token = token;
	last_unseal.when = now();
}

static int unseal_token(struct crypt_device *cd, int token, const char *pin, size_t pin_size,
			char **buffer, size_t *buffer_len)
{
	_cleanup_secret_ struct secret *pin_secret = NULL, *secret = NULL, *pass = NULL;
	_cleanup_tpm_ struct seal_tpm *t = NULL;
	struct seal_token tok;
	const char *json, *why = NULL;
	int r;

	pass = last_unseal_take(cd, token);
	if (pass)
		goto out;
	r = crypt_token_json_get(cd, token, &json);
	if (r < 0)
		return r;
	if (seal_token_parse(json, &tok, &why) < 0) {
		crypt_logf(cd, CRYPT_LOG_ERROR, "seal-tpm2 token %d malformed: %s\n", token, why ?: "?");
		return -EINVAL;
	}
	if (tok.sealed.pin && !pin)
		return -ENOANO;
	if (pin) {
		pin_secret = secret_dup(pin, pin_size);
		if (!pin_secret)
			return -ENOMEM;
	}
	r = seal_tpm_connect(seal_tpm_tcti(NULL), &t);
	if (r == 0)
		r = seal_unseal_once(t, crypt_get_uuid(cd), &tok.sealed, pin_secret, &secret);
	if (r < 0) {
		crypt_logf(cd, CRYPT_LOG_NORMAL, "seal-tpm2 token %d: %s\n", token, cause(r));
		return plugin_errno(r);
	}
	pass = secret_base64(secret);
	if (!pass)
		return -ENOMEM;
	last_unseal_keep(cd, token, pass);
out:
	*buffer = (char *)pass->data;
	*buffer_len = pass->len;
	TAKE_PTR(pass);
	return 0;
}

EXPORT int cryptsetup_token_open_pin(struct crypt_device *cd, int token, const char *pin,
				     size_t pin_size, char **buffer, size_t *buffer_len,
				     void *usrptr)
{
	(void)usrptr;
	return unseal_token(cd, token, pin, pin_size, buffer, buffer_len);
}

EXPORT int cryptsetup_token_open(struct crypt_device *cd, int token, char **buffer,
				 size_t *buffer_len, void *usrptr)
{
	(void)usrptr;
	return unseal_token(cd, token, NULL, 0, buffer, buffer_len);
}

/* The buffer is the data[] of a struct secret: wipe and unmap it whole. */
EXPORT void cryptsetup_token_buffer_free(void *buffer, size_t buffer_len)
{
	(void)buffer_len;
	if (buffer)
		secret_free((struct secret *)((char *)buffer - offsetof(struct secret, data)));
}

EXPORT int cryptsetup_token_validate(struct crypt_device *cd, const char *json)
{
	struct seal_token tok;
	const char *why = NULL;

	if (seal_token_parse(json, &tok, &why) < 0) {
		crypt_logf(cd, CRYPT_LOG_ERROR, "seal-tpm2 token malformed: %s\n", why ?: "?");
		return -EINVAL;
	}
	return 0;
}

EXPORT void cryptsetup_token_dump(struct crypt_device *cd, const char *json)
{
	struct seal_token tok;
	const char *why = NULL;
	char pcrs[80], initial[80];

	if (seal_token_parse(json, &tok, &why) < 0) {
		crypt_logf(cd, CRYPT_LOG_NORMAL, "\tmalformed:  %s\n", why ?: "?");
		return;
	}
	seal_tpm_format_pcrs(tok.sealed.pcr_mask, pcrs, sizeof(pcrs));
	seal_tpm_format_pcrs(tok.sealed.pcr_initial_mask, initial, sizeof(initial));
	crypt_logf(cd, CRYPT_LOG_NORMAL, "\ttpm2-pcrs:  %s (sha256; at reset value: %s)\n",
		   pcrs, initial);
	crypt_logf(cd, CRYPT_LOG_NORMAL, "\ttpm2-pin:   %s\n", tok.sealed.pin ? "yes" : "no");
	crypt_logf(cd, CRYPT_LOG_NORMAL, "\tprimary:    %s\n", SEAL_TPM_PRIMARY_TEMPLATE);
}

EXPORT const char *cryptsetup_token_version(void)
{
	return SEAL_VERSION;
}
