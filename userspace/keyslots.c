// SPDX-License-Identifier: GPL-2.0
/*
 * Keyslots for each KEK source (see keyslots.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "askpass.h"
#include "clevis.h"
#include "clevis_token.h"
#include "keyslots.h"
#include "luks.h"
#include "report.h"
#include "token.h"
#include "tpm2.h"
#include "unlock.h"

static int add_slot(struct crypt_device *cd, const struct secret *vk, const struct secret *pass)
{
	return crypt_keyslot_add_by_volume_key(cd, CRYPT_ANY_SLOT, (const char *)vk->data, vk->len,
					       (const char *)pass->data, pass->len);
}

/* A keyslot for a key that is not (yet) the segment's: a DEK rotation's new key. */
static int add_unbound_slot(struct crypt_device *cd, const struct secret *vk, const struct secret *pass)
{
	return crypt_keyslot_add_by_key(cd, CRYPT_ANY_SLOT, (const char *)vk->data, vk->len,
					(const char *)pass->data, pass->len,
					CRYPT_VOLUME_KEY_NO_SEGMENT | CRYPT_VOLUME_KEY_DIGEST_REUSE);
}

/* Write @json as a new token for @slot; undo the keyslot if that fails. */
static enum seal_exit attach_token(struct crypt_device *cd, const char *path, int slot,
				   const char *json)
{
	int r = crypt_token_json_set(cd, CRYPT_ANY_TOKEN, json);

	if (r >= 0)
		return SEAL_EXIT_OK;
	(void)crypt_keyslot_destroy(cd, slot);
	return fail(SEAL_EXIT_FAILURE, path, "cannot write the token: %s", strerror(-r));
}

static enum seal_exit verify_sealed(struct seal_tpm *t, const char *path,
				    const struct seal_tpm_sealed *sealed,
				    const struct secret *pin, const struct secret *secret)
{
	_cleanup_secret_ struct secret *check = NULL;
	int r = seal_tpm_unseal(t, sealed, pin, &check);

	if (r == -EPERM && sealed->pcr_initial_mask) {
		note(path, "PCR %d is extended already (a volume was unlocked this boot): "
		     "the new token unseals after the next reboot", SEAL_TPM_MEASURE_PCR);
		return SEAL_EXIT_OK;
	}
	if (r < 0)
		return fail(tpm_exit_code(r), path, "sealed secret does not unseal: %s", tpm_cause(r));
	if (check->len != secret->len || memcmp(check->data, secret->data, secret->len))
		return fail(SEAL_EXIT_TPM_ERROR, path, "sealed secret unseals to different bytes");
	return SEAL_EXIT_OK;
}

static enum seal_exit add_tpm2(struct crypt_device *cd, const char *path, const struct secret *vk,
			       const struct seal_opts *opts, uint32_t pcrs, bool pin, bool unbound,
			       int *ret_slot)
{
	_cleanup_secret_ struct secret *secret = secret_new(SEAL_TPM_SECRET_SIZE);
	_cleanup_secret_ struct secret *pin_value = NULL, *pass = NULL;
	_cleanup_tpm_ struct seal_tpm *t = NULL;
	_cleanup_free_ char *json = NULL, *prompt = NULL;
	struct seal_tpm_sealed sealed;
	enum seal_exit e;
	int r, slot;

	if (!secret)
		return fail(SEAL_EXIT_FAILURE, path, "out of memory");
	if (pin) {
		if (asprintf(&prompt, "New TPM2 PIN for %s: ", path) < 0)
			return SEAL_EXIT_FAILURE;
		r = opts->pin_file ? askpass_pin_file(opts->pin_file, &pin_value) :
				     askpass_new(NULL, prompt, path, &pin_value);
		if (r < 0)
			return fail(SEAL_EXIT_TPM_PIN, path, "cannot read a new PIN: %s",
				    r == -EBADMSG ? "the two entries differ" : strerror(-r));
	}
	r = seal_tpm_connect(seal_tpm_tcti(opts->tcti), &t);
	if (r < 0)
		return fail(tpm_exit_code(r), path, "%s (%s)", tpm_cause(r), seal_tpm_tcti(opts->tcti));
	if (getrandom(secret->data, SEAL_TPM_SECRET_SIZE, 0) != SEAL_TPM_SECRET_SIZE)
		return fail(SEAL_EXIT_FAILURE, path, "getrandom: %s", strerror(errno));
	secret->len = SEAL_TPM_SECRET_SIZE;

	r = seal_tpm_seal(t, pcrs, secret, pin_value, &sealed);
	if (r == -EIO)
		return fail(SEAL_EXIT_TPM_ERROR, path, "sealing failed: %s", seal_tpm_error(t));
	if (r < 0)
		return fail(tpm_exit_code(r), path, "sealing failed: %s", tpm_cause(r));
	e = verify_sealed(t, path, &sealed, pin_value, secret);
	if (e != SEAL_EXIT_OK)
		return e;

	pass = secret_base64(secret);
	if (!pass || luks_pbkdf_minimal(cd) < 0)
		return fail(SEAL_EXIT_FAILURE, path, "cannot prepare the keyslot");
	slot = unbound ? add_unbound_slot(cd, vk, pass) : add_slot(cd, vk, pass);
	if (slot < 0)
		return fail(SEAL_EXIT_FAILURE, path, "cannot add a keyslot: %s", strerror(-slot));
	r = seal_token_format(&sealed, slot, &json);
	if (r < 0) {
		(void)crypt_keyslot_destroy(cd, slot);
		return fail(SEAL_EXIT_FAILURE, path, "cannot build the token: %s", strerror(-r));
	}
	e = attach_token(cd, path, slot, json);
	if (e == SEAL_EXIT_OK)
		*ret_slot = slot;
	return e;
}

enum seal_exit add_tpm2_slot(struct crypt_device *cd, const char *path, const struct secret *vk,
			     const struct seal_opts *opts, uint32_t pcrs, bool pin, int *ret_slot)
{
	return add_tpm2(cd, path, vk, opts, pcrs, pin, false, ret_slot);
}

enum seal_exit add_tpm2_copy(struct crypt_device *cd, const char *path, const struct secret *vk,
			     const struct seal_opts *opts, uint32_t pcrs, bool pin, int *ret_slot)
{
	return add_tpm2(cd, path, vk, opts, pcrs, pin, true, ret_slot);
}

enum seal_exit add_passphrase_slot(struct crypt_device *cd, const char *path,
				   const struct secret *vk, const struct secret *pass, int *ret_slot)
{
	int slot;

	if (luks_pbkdf_passphrase(cd) < 0)
		return fail(SEAL_EXIT_FAILURE, path, "cannot set the key derivation");
	slot = add_slot(cd, vk, pass);
	if (slot < 0)
		return fail(SEAL_EXIT_FAILURE, path, "cannot add a keyslot: %s", strerror(-slot));
	*ret_slot = slot;
	return SEAL_EXIT_OK;
}

enum seal_exit add_recovery_slot(struct crypt_device *cd, const char *path,
				 const struct secret *vk, int *ret_slot)
{
	_cleanup_secret_ struct secret *key = NULL;
	_cleanup_free_ char *json = NULL;
	enum seal_exit e;
	int r, slot;

	r = recovery_key_generate(&key);
	if (r < 0)
		return fail(SEAL_EXIT_FAILURE, path, "cannot generate a recovery key: %s", strerror(-r));
	e = add_passphrase_slot(cd, path, vk, key, &slot);
	if (e != SEAL_EXIT_OK)
		return e;
	json = seal_recovery_token_format(slot);
	if (!json) {
		(void)crypt_keyslot_destroy(cd, slot);
		return fail(SEAL_EXIT_FAILURE, path, "out of memory");
	}
	e = attach_token(cd, path, slot, json);
	if (e != SEAL_EXIT_OK)
		return e;
	/* shown once: stdout carries the key and nothing else */
	fflush(stdout);
	if (write(STDOUT_FILENO, key->data, key->len) != (ssize_t)key->len ||
	    write(STDOUT_FILENO, "\n", 1) != 1)
		note(path, "could not print the recovery key: %s", strerror(errno));
	*ret_slot = slot;
	return SEAL_EXIT_OK;
}

enum seal_exit add_clevis_slot(struct crypt_device *cd, const char *path, const struct secret *vk,
			       const struct seal_opts *opts, const char *pin, const char *cfg,
			       int *ret_slot)
{
	_cleanup_secret_ struct secret *kek = secret_new(SEAL_TPM_SECRET_SIZE), *pass = NULL, *jwe = NULL;
	struct clevis_run run = { .timeout_s = opts->clevis_timeout };
	_cleanup_free_ char *json = NULL;
	enum seal_exit e;
	int r, slot;

	if (!kek)
		return fail(SEAL_EXIT_FAILURE, path, "out of memory");
	if (getrandom(kek->data, SEAL_TPM_SECRET_SIZE, 0) != SEAL_TPM_SECRET_SIZE)
		return fail(SEAL_EXIT_FAILURE, path, "getrandom: %s", strerror(errno));
	kek->len = SEAL_TPM_SECRET_SIZE;
	pass = secret_base64(kek);
	if (!pass)
		return fail(SEAL_EXIT_FAILURE, path, "out of memory");
	/* the KEK goes to clevis on its stdin, the JWE comes back on its stdout */
	r = clevis_exec(&run, (const char *const[]){ "clevis", "encrypt", pin, cfg, NULL },
			pass->data, pass->len, &jwe);
	if (r < 0)
		return fail(SEAL_EXIT_CLEVIS, path, "clevis encrypt %s: %s", pin,
			    r == -ETIMEDOUT ? "timed out" : r == -EIO ? run.err : strerror(-r));
	if (luks_pbkdf_minimal(cd) < 0)
		return fail(SEAL_EXIT_FAILURE, path, "cannot prepare the keyslot");
	slot = add_slot(cd, vk, pass);
	if (slot < 0)
		return fail(SEAL_EXIT_FAILURE, path, "cannot add a keyslot: %s", strerror(-slot));
	r = clevis_token_format(slot, (const char *)jwe->data, jwe->len, &json);
	if (r < 0) {
		(void)crypt_keyslot_destroy(cd, slot);
		return fail(SEAL_EXIT_CLEVIS, path, "clevis encrypt %s: its output is not a compact JWE", pin);
	}
	e = attach_token(cd, path, slot, json);
	if (e == SEAL_EXIT_OK)
		*ret_slot = slot;
	return e;
}

enum seal_exit retire_keyslot(struct crypt_device *cd, const char *path, int old, int slot)
{
	/* the new KEK is committed: now the old one goes */
	int r = luks_destroy_keyslot(cd, old);

	if (r < 0)
		return fail(SEAL_EXIT_FAILURE, path, "new keyslot %d added, old keyslot %d not removed: %s",
			    slot, old, strerror(-r));
	note(path, "keyslot %d replaced by keyslot %d", old, slot);
	return SEAL_EXIT_OK;
}
