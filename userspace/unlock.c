// SPDX-License-Identifier: GPL-2.0
/*
 * The unsealer's order of unlock methods (see unlock.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "askpass.h"
#include "clevis_token.h"
#include "clevis_unlock.h"
#include "luks.h"
#include "pending.h"
#include "report.h"
#include "token.h"
#include "tpm2.h"
#include "unlock.h"
#include "unseal.h"

void unlocked_clear(struct unlocked *u)
{
	secret_free(u->volume_key);
	u->volume_key = NULL;
	u->keyslot = -1;
}

enum seal_exit tpm_exit_code(int r)
{
	switch (r) {
	case -ENODEV:
		return SEAL_EXIT_TPM_ABSENT;
	case -EPERM:
		return SEAL_EXIT_TPM_PCR;
	case -ENOLCK:
		return SEAL_EXIT_TPM_LOCKOUT;
	case -EBADE:
		return SEAL_EXIT_TPM_PRIMARY;
	case -EACCES:
	case -ENOANO:
		return SEAL_EXIT_TPM_PIN;
	case -ENOMEM:
		return SEAL_EXIT_FAILURE;
	case -EBADMSG:
	case -ENOTRECOVERABLE:
		return SEAL_EXIT_TPM_UNCONFIRMED;
	default:
		return SEAL_EXIT_TPM_ERROR;
	}
}

const char *tpm_cause(int r)
{
	switch (r) {
	case -ENODEV:
		return "no TPM2 reachable";
	case -EPERM:
		return "PCR values differ from the sealed policy";
	case -ENOLCK:
		return "TPM2 is in dictionary-attack lockout";
	case -EBADE:
		return "TPM2 primary key differs from the one recorded at enrollment (other TPM, cleared TPM, or interposer)";
	case -EACCES:
		return "wrong PIN";
	case -ENOANO:
		return "a PIN is required";
	case -EBADMSG:
		return "the TPM's answer is not authentic, or PCR 15 did not take the extend (an interposer on the TPM bus?)";
	case -ENOTRECOVERABLE:
		return "unsealed, but PCR 15 extend not confirmed by the TPM: the secret was discarded";
	default:
		return "TPM2 error";
	}
}

/* Which failure explains best why nothing unlocked (higher wins). */
static int failure_rank(enum seal_exit e)
{
	switch (e) {
	case SEAL_EXIT_TPM_UNCONFIRMED:
		return 8;
	case SEAL_EXIT_TPM_LOCKOUT:
		return 7;
	case SEAL_EXIT_TPM_PIN:
		return 6;
	case SEAL_EXIT_TPM_PCR:
		return 5;
	case SEAL_EXIT_TPM_PRIMARY:
		return 4;
	case SEAL_EXIT_TOKEN:
		return 3;
	case SEAL_EXIT_CLEVIS:
		return 2;
	case SEAL_EXIT_TPM_ERROR:
		return 2;
	case SEAL_EXIT_TPM_ABSENT:
		return 1;
	default:
		return 0;
	}
}

struct attempt {
	struct crypt_device *cd;
	const char *path;
	const struct seal_opts *opts;
	struct seal_tpm *tpm;
	int tpm_status;		/* 1 not tried, 0 connected, <0 errno */
	enum seal_exit worst;	/* best explanation so far */
	bool interactive;
};

static void attempt_failed(struct attempt *a, enum seal_exit e)
{
	if (failure_rank(e) > failure_rank(a->worst))
		a->worst = e;
}

int read_pin(const struct seal_opts *opts, const char *path, struct secret **ret)
{
	_cleanup_free_ char *prompt = NULL;

	if (opts->pin_file)
		return askpass_pin_file(opts->pin_file, ret);
	if (asprintf(&prompt, "TPM2 PIN for %s: ", path) < 0)
		return -ENOMEM;
	return askpass_prompt(prompt, path, ret);
}

static int get_key(struct attempt *a, int keyslot, const struct secret *pass, struct unlocked *out)
{
	_cleanup_secret_ struct secret *vk = secret_new(SEAL_KEY_SIZE * 2);
	size_t size;
	int r;

	if (!vk)
		return -ENOMEM;
	size = vk->size;
	r = crypt_volume_key_get(a->cd, keyslot, (char *)vk->data, &size,
				 (const char *)pass->data, pass->len);
	if (r < 0)
		return r;
	vk->len = size;
	out->volume_key = TAKE_PTR(vk);
	out->keyslot = r;
	return 0;
}

/* One line for a seal-tpm2 token that failed: the cause, and the TPM's code when it has one. */
static void token_failed(struct attempt *a, int id, int r)
{
	if (r == -EIO || r == -EBADMSG || r == -ENOTRECOVERABLE)
		note(a->path, "token %d (seal-tpm2): %s (%s)", id, tpm_cause(r),
		     seal_tpm_error(a->tpm));
	else
		note(a->path, "token %d (seal-tpm2): %s", id, tpm_cause(r));
	attempt_failed(a, tpm_exit_code(r));
}

static bool try_seal_token(struct attempt *a, int id, const char *json, struct unlocked *out)
{
	_cleanup_secret_ struct secret *pin = NULL, *secret = NULL, *pass = NULL;
	struct seal_token tok;
	const char *why = NULL;
	int r;

	if (seal_token_parse(json, &tok, &why) < 0) {
		note(a->path, "token %d (seal-tpm2): malformed: %s", id, why ?: "?");
		attempt_failed(a, SEAL_EXIT_TOKEN);
		return false;
	}
	if (a->tpm_status > 0)
		a->tpm_status = seal_tpm_connect(seal_tpm_tcti(a->opts->tcti), &a->tpm);
	if (a->tpm_status < 0) {
		note(a->path, "token %d (seal-tpm2): %s (%s)", id, tpm_cause(a->tpm_status),
		     seal_tpm_tcti(a->opts->tcti));
		attempt_failed(a, tpm_exit_code(a->tpm_status));
		return false;
	}
	/* a PCR mismatch (PCR 15 moved: this boot unsealed already) asks for no PIN */
	r = seal_tpm_check(a->tpm, &tok.sealed);
	if (r < 0) {
		token_failed(a, id, r);
		return false;
	}
	if (tok.sealed.pin) {
		if (!a->opts->pin_file && !a->interactive) {
			note(a->path, "token %d (seal-tpm2): needs a PIN (use --pin-file)", id);
			attempt_failed(a, SEAL_EXIT_TPM_PIN);
			return false;
		}
		r = read_pin(a->opts, a->path, &pin);
		if (r < 0) {
			note(a->path, "token %d (seal-tpm2): cannot read the PIN: %s", id, strerror(-r));
			attempt_failed(a, SEAL_EXIT_TPM_PIN);
			return false;
		}
	}
	/* -ENOTRECOVERABLE: the secret came out but PCR 15 did not move; it was wiped unused */
	if (a->opts->defer_lock)
		r = seal_unseal_deferred(a->tpm, crypt_get_uuid(a->cd), &tok.sealed, pin, &secret);
	else
		r = seal_unseal_once(a->tpm, crypt_get_uuid(a->cd), &tok.sealed, pin, &secret);
	if (r == -EROFS) {
		note(a->path, "token %d (seal-tpm2): cannot record the deferred PCR %d measurement in %s: not unsealed",
		     id, SEAL_TPM_MEASURE_PCR, SEAL_PENDING_DIR);
		attempt_failed(a, SEAL_EXIT_FAILURE);
		return false;
	}
	if (r < 0) {
		token_failed(a, id, r);
		return false;
	}
	out->tpm_unsealed = true;
	pass = secret_base64(secret);
	if (!pass)
		return false;
	r = get_key(a, tok.keyslot, pass, out);
	if (r < 0) {
		note(a->path, "token %d (seal-tpm2): the unsealed secret opens no keyslot (keyslot %d)",
		     id, tok.keyslot);
		attempt_failed(a, SEAL_EXIT_TOKEN);
		return false;
	}
	debug(a->path, "keyslot %d unlocked by token %d (seal-tpm2)", out->keyslot, id);
	return true;
}

/* A clevis token (tang, sss, ...): clevis decrypt, bounded by --clevis-timeout. */
static bool try_clevis_token(struct attempt *a, int id, const char *json, struct unlocked *out)
{
	_cleanup_secret_ struct secret *pass = NULL;
	char why[200];
	int keyslot = -1, r;

	r = clevis_token_decrypt(json, a->opts->clevis_timeout, &keyslot, &pass, why, sizeof(why));
	if (r < 0) {
		/* a tpm2 pin may have unsealed before another pin of an sss failed */
		out->foreign_tried |= r != -EINVAL && clevis_token_uses(json, "tpm2");
		note(a->path, "token %d (clevis): %s", id, why);
		attempt_failed(a, r == -EINVAL ? SEAL_EXIT_TOKEN : SEAL_EXIT_CLEVIS);
		return false;
	}
	/* clevis's tpm2 pin unsealed and extended nothing: the caller measures, opened or not */
	out->foreign_tpm |= clevis_token_uses(json, "tpm2");
	if (get_key(a, keyslot, pass, out) < 0) {
		note(a->path, "token %d (clevis): the decrypted key opens no keyslot (keyslot %d)", id, keyslot);
		attempt_failed(a, SEAL_EXIT_TOKEN);
		return false;
	}
	debug(a->path, "keyslot %d unlocked by token %d (clevis)", out->keyslot, id);
	return true;
}

static int foreign_token_key(struct attempt *a, struct crypt_keyslot_context *kc, struct secret *vk)
{
	size_t size = vk->size;
	int r;

	r = crypt_volume_key_get_by_keyslot_context(a->cd, CRYPT_ANY_SLOT, (char *)vk->data, &size, kc);
	if (r >= 0)
		vk->len = size;
	/* the token's own answer (-ENOANO: PIN needed or wrong) is kept in the context */
	else if (crypt_keyslot_context_get_error(kc) == -ENOANO)
		r = -ENOANO;
	return r;
}

/*
 * A systemd-tpm2 token that failed other than for a missing TPM (-EAGAIN) may
 * still have unsealed: systemd's plugin does not say whether the secret it
 * got opened no keyslot.
 */
static void foreign_failed(struct unlocked *out, const char *type, int r)
{
	out->foreign_tried |= r != -EAGAIN && !strcmp(type, "systemd-tpm2");
}

/*
 * A token of another plugin (systemd-tpm2, -fido2, -pkcs11): first without a
 * PIN; -ENOANO asks for one (systemd-cryptenroll --tpm2-with-pin), read from
 * --pin-file or prompted for, and tried once: a wrong PIN is one try the TPM
 * (or security key) counts against its limit. libcryptsetup keeps a pointer
 * to the PIN, so it is declared first and freed after the context.
 */
static bool try_foreign_token(struct attempt *a, int id, const char *type, struct unlocked *out)
{
	_cleanup_secret_ struct secret *pin = NULL;
	_cleanup_(crypt_keyslot_context_freep) struct crypt_keyslot_context *kc = NULL;
	_cleanup_secret_ struct secret *vk = secret_new(SEAL_KEY_SIZE * 2);
	int r;

	if (!vk)
		return false;
	r = crypt_keyslot_context_init_by_token(a->cd, id, NULL, NULL, 0, NULL, &kc);
	if (r < 0)
		return false;
	r = foreign_token_key(a, kc, vk);
	if (r == -ENOANO && !a->opts->pin_file && !a->interactive) {
		note(a->path, "token %d (%s): needs a PIN (use --pin-file)", id, type);
		attempt_failed(a, SEAL_EXIT_TPM_PIN);
		return false;
	}
	if (r == -ENOANO) {
		r = read_pin(a->opts, a->path, &pin);
		if (r < 0) {
			note(a->path, "token %d (%s): cannot read the PIN: %s", id, type, strerror(-r));
			attempt_failed(a, SEAL_EXIT_TPM_PIN);
			return false;
		}
		r = crypt_keyslot_context_set_pin(a->cd, (const char *)pin->data, pin->len, kc);
		if (r >= 0)
			r = foreign_token_key(a, kc, vk);
		if (r == -ENOANO) {
			note(a->path, "token %d (%s): wrong PIN", id, type);
			attempt_failed(a, SEAL_EXIT_TPM_PIN);
			return false;
		}
		/* systemd 252's plugin reports a wrong PIN and a changed PCR alike */
		if (r < 0 && r != -EAGAIN) {
			foreign_failed(out, type, r);
			note(a->path, "token %d (%s): no usable key with this PIN (wrong PIN, or PCRs changed)",
			     id, type);
			return false;
		}
	}
	if (r < 0) {
		foreign_failed(out, type, r);
		note(a->path, "token %d (%s): %s", id, type,
		     r == -EAGAIN ? "its device (TPM, security key) is missing" : "no usable key");
		return false;
	}
	out->volume_key = TAKE_PTR(vk);
	out->keyslot = r;
	/* systemd's plugin unsealed from the TPM and extended nothing: the caller measures */
	out->foreign_tpm |= !strcmp(type, "systemd-tpm2");
	debug(a->path, "keyslot %d unlocked by token %d (%s)", r, id, type);
	return true;
}

typedef bool (*token_try_fn)(struct attempt *a, int id, const char *json, struct unlocked *out);

/* Every token of @type, in id order, until one unlocks. */
static bool try_tokens_of(struct attempt *a, const char *type, token_try_fn try, struct unlocked *out)
{
	int max = crypt_token_max(CRYPT_LUKS2);
	const char *json;

	for (int id = 0; id < max; id++) {
		_cleanup_free_ char *t = NULL;

		if (crypt_token_json_get(a->cd, id, &json) < 0)
			continue;
		t = seal_token_type(json);
		if (t && !strcmp(t, type) && try(a, id, json, out))
			return true;
	}
	return false;
}

static bool try_tokens(struct attempt *a, struct unlocked *out)
{
	int max = crypt_token_max(CRYPT_LUKS2);
	const char *type;

	/* own tokens first: unsealed here, once; then clevis tokens (tang, sss, tpm2 pin) */
	if (try_tokens_of(a, SEAL_TOKEN_TYPE, try_seal_token, out) ||
	    try_tokens_of(a, CLEVIS_TOKEN_TYPE, try_clevis_token, out))
		return true;
	/* then whatever another installed plugin handles */
	for (int id = 0; id < max; id++) {
		crypt_token_info st = crypt_token_status(a->cd, id, &type);

		if (st != CRYPT_TOKEN_INTERNAL && st != CRYPT_TOKEN_EXTERNAL)
			continue;
		if (!strcmp(type, SEAL_TOKEN_TYPE) || !strcmp(type, SEAL_RECOVERY_TOKEN_TYPE) ||
		    !strcmp(type, CLEVIS_TOKEN_TYPE))
			continue;
		if (try_foreign_token(a, id, type, out))
			return true;
	}
	return false;
}

enum seal_exit key_file_refused(const char *path, const char *key_file, int r)
{
	struct stat st;

	if (r == -EINVAL || r == -EPERM)
		return fail(SEAL_EXIT_KEY_FILE_UNSAFE, path, "key file %s refused: %s", key_file,
			    r == -EINVAL ? "not a regular file" : "not owned by root");
	/* the mode is looked up again for the message only: the refusal stands without it */
	if (stat(key_file, &st) < 0)
		return fail(SEAL_EXIT_KEY_FILE_UNSAFE, path,
			    "key file %s refused: group or others may access it (chmod 0600 it, or 0400)",
			    key_file);
	return fail(SEAL_EXIT_KEY_FILE_UNSAFE, path,
		    "key file %s refused: group or others may access it (mode %04o; chmod 0600 it, or 0400)",
		    key_file, (unsigned int)(st.st_mode & 07777));
}

static enum seal_exit try_passphrases(struct attempt *a, struct unlocked *out)
{
	_cleanup_free_ char *prompt = NULL;
	unsigned int tries = a->opts->tries ?: 3;
	int r;

	if (a->opts->key_file) {
		_cleanup_secret_ struct secret *pass = NULL;

		if (a->opts->key_file_private)
			r = askpass_private_file(a->opts->key_file, &pass);
		else
			r = askpass_file(a->opts->key_file, &pass);
		if (a->opts->key_file_private && (r == -EINVAL || r == -EPERM || r == -EACCES))
			return key_file_refused(a->path, a->opts->key_file, r);
		if (r < 0)
			return fail(SEAL_EXIT_NO_KEY, a->path,
				    "cannot read key file %s: %s", a->opts->key_file, strerror(-r));
		r = get_key(a, CRYPT_ANY_SLOT, pass, out);
		if (r == -EPERM || r == -ENOENT)
			return fail(SEAL_EXIT_BAD_PASSPHRASE, a->path, "no keyslot accepts the key file");
		if (r < 0)
			return fail(SEAL_EXIT_FAILURE, a->path, "reading the volume key: %s", strerror(-r));
		return SEAL_EXIT_OK;
	}
	if (a->opts->token_only || !a->interactive) {
		if (a->worst != SEAL_EXIT_OK)
			return fail(a->worst, a->path, "no token unlocks the volume and no passphrase source (%s)",
				    a->opts->token_only ? "--token-only" : "no terminal, no --key-file");
		return fail(SEAL_EXIT_NO_KEY, a->path, "no token and no passphrase source (%s)",
			    a->opts->token_only ? "--token-only" : "no terminal, no --key-file");
	}
	if (asprintf(&prompt, "Passphrase or recovery key for %s: ", a->path) < 0)
		return SEAL_EXIT_FAILURE;
	for (unsigned int i = 1; i <= tries; i++) {
		_cleanup_secret_ struct secret *pass = NULL;

		r = askpass_prompt(prompt, a->path, &pass);
		if (r < 0)
			return fail(SEAL_EXIT_NO_KEY, a->path, "cannot read a passphrase: %s", strerror(-r));
		r = get_key(a, CRYPT_ANY_SLOT, pass, out);
		if (r == 0)
			return SEAL_EXIT_OK;
		if (r != -EPERM && r != -ENOENT)
			return fail(SEAL_EXIT_FAILURE, a->path, "reading the volume key: %s", strerror(-r));
		note(a->path, "no keyslot accepts this passphrase (try %u of %u)", i, tries);
	}
	return fail(SEAL_EXIT_BAD_PASSPHRASE, a->path, "no keyslot accepts the passphrase (%u tries)", tries);
}

static bool have_terminal(void)
{
	_cleanup_close_ int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd >= 0 && isatty(fd))
		return true;
	return access("/run/systemd/system", F_OK) == 0 && access("/run/systemd/ask-password", F_OK) == 0;
}

const struct seal_opts *unlock_opts(const struct seal_opts *o, struct seal_opts *copy)
{
	*copy = *o;
	copy->no_tokens = true;
	return copy;
}

enum seal_exit unlock_volume(struct crypt_device *cd, const char *path,
			     const struct seal_opts *opts, struct unlocked *out)
{
	struct attempt a = {
		.cd = cd,
		.path = path,
		.opts = opts,
		.tpm_status = 1,
		.worst = SEAL_EXIT_OK,
		.interactive = have_terminal(),
	};
	enum seal_exit e = SEAL_EXIT_OK;

	out->volume_key = NULL;
	out->keyslot = -1;
	out->tpm_unsealed = false;
	out->foreign_tpm = false;
	out->foreign_tried = false;
	if (opts->no_tokens || !try_tokens(&a, out))
		e = try_passphrases(&a, out);
	seal_tpm_free(a.tpm);
	return e;
}
