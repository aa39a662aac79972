// SPDX-License-Identifier: GPL-2.0
/*
 * clevis decrypt for a token (see clevis_unlock.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "cleanup.h"
#include "clevis.h"
#include "clevis_token.h"
#include "clevis_unlock.h"

int clevis_token_decrypt(const char *json, unsigned int timeout_s, int *keyslot,
			 struct secret **pass, char *why, size_t size)
{
	struct clevis_run run = { .timeout_s = timeout_s };
	_cleanup_free_ char *jwe = NULL;
	const char *bad = NULL;
	int r;

	r = clevis_token_parse(json, keyslot, &jwe, &bad);
	if (r < 0) {
		snprintf(why, size, "malformed: %s", bad ?: strerror(-r));
		return r;
	}
	r = clevis_exec(&run, (const char *const[]){ "clevis", "decrypt", NULL }, jwe, strlen(jwe), pass);
	if (r == -ETIMEDOUT) {
		/* name the servers that did not answer: the binding, e.g. tang(http://tang1) */
		_cleanup_json_ json_object *binding = clevis_jwe_binding(jwe);
		char servers[160];

		clevis_binding_text(binding, servers, sizeof(servers));
		snprintf(why, size, "clevis decrypt took longer than %u s (no answer from %s)", timeout_s,
			 *servers ? servers : "its pins");
	}
	else if (r == -EIO)
		snprintf(why, size, "clevis decrypt failed: %s", run.err);
	else if (r < 0)
		snprintf(why, size, "clevis decrypt: %s", strerror(-r));
	else if (!(*pass)->len)
		snprintf(why, size, "clevis decrypt returned nothing"), r = -EIO;
	return r;
}

bool clevis_token_uses(const char *json, const char *pin)
{
	_cleanup_json_ json_object *binding = NULL;
	_cleanup_free_ char *jwe = NULL;
	const char *bad = NULL;
	int keyslot;

	if (clevis_token_parse(json, &keyslot, &jwe, &bad) < 0)
		return false;
	binding = clevis_jwe_binding(jwe);
	return binding && clevis_binding_uses(binding, pin);
}
