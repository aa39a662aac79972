// SPDX-License-Identifier: GPL-2.0
/*
 * sealctl list DEV: keyslots, what unlocks each, and the tokens.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "clevis_token.h"
#include "commands.h"
#include "luks.h"
#include "report.h"
#include "token.h"
#include "tpm2.h"

struct slot_row {
	int slot;
	const char *kind;	/* tpm2, passphrase, recovery, or a foreign token type */
	int token;		/* -1 without a token */
	const char *pbkdf;
	bool sealed;		/* a tpm2 keyslot whose token parsed: the fields below hold */
	uint32_t pcr_mask, pcr_initial_mask;	/* sha256 bank */
	bool pin;
	char problem[96];	/* a tpm2 or clevis keyslot whose token did not parse: why */
	json_object *binding;	/* a clevis keyslot: its pin tree (clevis_token.h) */
};

/* A clevis keyslot: the pin tree out of the token's JWE. */
static void describe_clevis(struct crypt_device *cd, int token, struct slot_row *row)
{
	_cleanup_free_ char *jwe = NULL;
	const char *json, *why = NULL;
	int slot;

	if (crypt_token_json_get(cd, token, &json) < 0 || clevis_token_parse(json, &slot, &jwe, &why) < 0) {
		snprintf(row->problem, sizeof(row->problem), "token malformed: %s", why ?: "?");
		return;
	}
	row->binding = clevis_jwe_binding(jwe);
	if (!row->binding)
		snprintf(row->problem, sizeof(row->problem), "token malformed: the JWE header names no clevis pin");
}

static void describe_slot(struct crypt_device *cd, int slot, struct slot_row *row)
{
	struct crypt_pbkdf_type pbkdf;
	const char *type, *json;
	int token = -1;

	memset(row, 0, sizeof(*row));
	row->slot = slot;
	row->token = -1;
	row->pbkdf = crypt_keyslot_get_pbkdf(cd, slot, &pbkdf) == 0 ? pbkdf.type : "?";
	type = luks_keyslot_token_type(cd, slot, &token);
	row->token = token;
	if (!type) {
		row->kind = "passphrase";
	} else if (!strcmp(type, SEAL_RECOVERY_TOKEN_TYPE)) {
		row->kind = "recovery";
	} else if (!strcmp(type, SEAL_TOKEN_TYPE)) {
		struct seal_token tok;
		const char *why = NULL;

		row->kind = "tpm2";
		if (crypt_token_json_get(cd, token, &json) < 0 || seal_token_parse(json, &tok, &why) < 0) {
			snprintf(row->problem, sizeof(row->problem), "token malformed: %s", why ?: "?");
			return;
		}
		row->sealed = true;
		row->pcr_mask = tok.sealed.pcr_mask;
		row->pcr_initial_mask = tok.sealed.pcr_initial_mask;
		row->pin = tok.sealed.pin;
	} else if (!strcmp(type, CLEVIS_TOKEN_TYPE)) {
		row->kind = "clevis";
		describe_clevis(cd, token, row);
	} else {
		row->kind = type;
	}
}

/* The DETAILS column of the table: the same facts as --json, on one line. */
static void format_details(const struct slot_row *row, char *buf, size_t size)
{
	char pcrs[80];
	size_t n;

	snprintf(buf, size, "%s", row->problem);
	if (row->binding)
		clevis_binding_text(row->binding, buf, size);
	if (!row->sealed)
		return;
	seal_tpm_format_pcrs(row->pcr_mask, pcrs, sizeof(pcrs));
	snprintf(buf, size, "pcrs=%s bank=sha256 pin=%s", pcrs, row->pin ? "yes" : "no");
	if (!row->pcr_initial_mask)
		return;
	n = strlen(buf);
	seal_tpm_format_pcrs(row->pcr_initial_mask, pcrs, sizeof(pcrs));
	snprintf(buf + n, size - n, " at-reset=%s", pcrs);
}

static json_object *slot_json(const struct slot_row *row)
{
	json_object *o = json_object_new_object(), *tpm2;

	if (!o)
		return NULL;
	json_object_object_add(o, "keyslot", json_object_new_int(row->slot));
	json_object_object_add(o, "type", json_object_new_string(row->kind));
	json_object_object_add(o, "pbkdf", json_object_new_string(row->pbkdf));
	if (row->token >= 0)
		json_object_object_add(o, "token", json_object_new_int(row->token));
	if (row->problem[0])
		json_object_object_add(o, "problem", json_object_new_string(row->problem));
	if (row->binding)
		json_object_object_add(o, "clevis", json_object_get(row->binding));
	if (!row->sealed)
		return o;
	tpm2 = json_object_new_object();
	json_object_object_add(o, "tpm2", tpm2);
	if (!tpm2)
		return o;
	json_object_object_add(tpm2, "bank", json_object_new_string("sha256"));
	json_object_object_add(tpm2, "pcrs", seal_token_pcr_array(row->pcr_mask));
	json_object_object_add(tpm2, "pcrs-at-reset", seal_token_pcr_array(row->pcr_initial_mask));
	json_object_object_add(tpm2, "pin", json_object_new_boolean(row->pin));
	return o;
}

/* Tokens that unlock nothing: malformed seal-tpm2 tokens and orphans. */
static int token_problem(struct crypt_device *cd, int id, const char **type, char *buf, size_t size)
{
	const char *json, *why = NULL;
	struct seal_token tok;
	crypt_token_info st = crypt_token_status(cd, id, type);

	if (st == CRYPT_TOKEN_INACTIVE || st == CRYPT_TOKEN_INVALID ||
	    crypt_token_json_get(cd, id, &json) < 0)
		return 0;
	if (!strcmp(*type, SEAL_TOKEN_TYPE) && seal_token_parse(json, &tok, &why) < 0) {
		snprintf(buf, size, "malformed: %s", why ?: "?");
		return 1;
	}
	if (!strcmp(*type, CLEVIS_TOKEN_TYPE)) {
		_cleanup_free_ char *jwe = NULL;
		int slot;

		if (clevis_token_parse(json, &slot, &jwe, &why) < 0) {
			snprintf(buf, size, "malformed: %s", why ?: "?");
			return 1;
		}
	}
	if (seal_token_first_keyslot(json) == -ENOENT) {
		snprintf(buf, size, "assigned to no keyslot");
		return 1;
	}
	return 0;
}

static enum seal_exit list_json(struct crypt_device *cd, const char *path, int max)
{
	_cleanup_json_ json_object *root = json_object_new_object();
	json_object *slots = json_object_new_array(), *problems;

	if (!root || !slots)
		return SEAL_EXIT_FAILURE;
	json_object_object_add(root, "device", json_object_new_string(path));
	json_object_object_add(root, "uuid", json_object_new_string(crypt_get_uuid(cd)));
	json_object_object_add(root, "keyslots", slots);
	for (int s = 0; s < max; s++) {
		crypt_keyslot_info ki = crypt_keyslot_status(cd, s);
		struct slot_row row;

		if (ki != CRYPT_SLOT_ACTIVE && ki != CRYPT_SLOT_ACTIVE_LAST)
			continue;
		describe_slot(cd, s, &row);
		json_object_array_add(slots, slot_json(&row));
		json_object_put(row.binding);
	}
	problems = json_object_new_array();
	json_object_object_add(root, "token-problems", problems);
	for (int t = 0; t < crypt_token_max(CRYPT_LUKS2); t++) {
		const char *type;
		char why[96];
		json_object *o;

		if (!token_problem(cd, t, &type, why, sizeof(why)))
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "token", json_object_new_int(t));
		json_object_object_add(o, "type", json_object_new_string(type));
		json_object_object_add(o, "problem", json_object_new_string(why));
		json_object_array_add(problems, o);
	}
	print_json(root);
	return SEAL_EXIT_OK;
}

enum seal_exit cmd_list(const struct seal_opts *o, char **argv)
{
	const char *path = argv[0];
	_cleanup_crypt_ struct crypt_device *cd = NULL;
	int max = crypt_keyslot_max(CRYPT_LUKS2);
	enum seal_exit e;

	e = volume_load(path, true, &cd);
	if (e != SEAL_EXIT_OK)
		return e;
	if (o->json)
		return list_json(cd, path, max);
	printf("%-8s %-12s %-6s %-9s %s\n", "KEYSLOT", "TYPE", "TOKEN", "PBKDF", "DETAILS");
	for (int s = 0; s < max; s++) {
		crypt_keyslot_info ki = crypt_keyslot_status(cd, s);
		struct slot_row row;
		char token[12] = "-", details[512];

		if (ki != CRYPT_SLOT_ACTIVE && ki != CRYPT_SLOT_ACTIVE_LAST)
			continue;
		describe_slot(cd, s, &row);
		if (row.token >= 0)
			snprintf(token, sizeof(token), "%d", row.token);
		format_details(&row, details, sizeof(details));
		json_object_put(row.binding);
		printf("%-8d %-12s %-6s %-9s %s\n", s, row.kind, token, row.pbkdf, details);
	}
	for (int t = 0; t < crypt_token_max(CRYPT_LUKS2); t++) {
		const char *type;
		char why[96];

		if (token_problem(cd, t, &type, why, sizeof(why)))
			printf("token %d (%s): %s\n", t, type, why);
	}
	return SEAL_EXIT_OK;
}
