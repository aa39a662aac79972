// SPDX-License-Identifier: GPL-2.0
/*
 * The clevis LUKS2 token (see clevis_token.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "cleanup.h"
#include "clevis_token.h"

/* the members of a JWE in its compact form's order */
static const char *const jwe_parts[5] = { "protected", "encrypted_key", "iv", "ciphertext", "tag" };

int clevis_token_format(int keyslot, const char *jwe, size_t len, char **ret)
{
	_cleanup_json_ json_object *root = json_object_new_object();
	json_object *slots = json_object_new_array(), *j = json_object_new_object();
	const char *p = jwe, *end = jwe + len, *dot, *field[5];
	size_t flen[5];
	char num[12];

	while (end > jwe && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	for (int i = 0; i < 5; i++) {
		dot = memchr(p, '.', end - p);
		if ((i < 4) != !!dot)
			goto bad;
		field[i] = p;
		flen[i] = (dot ?: end) - p;
		p = dot ? dot + 1 : end;
	}
	if (!root || !slots || !j)
		goto nomem;
	snprintf(num, sizeof(num), "%d", keyslot);
	json_object_object_add(root, "type", json_object_new_string(CLEVIS_TOKEN_TYPE));
	json_object_array_add(slots, json_object_new_string(num));
	json_object_object_add(root, "keyslots", slots);
	/* the order jose writes: alphabetical */
	json_object_object_add(j, "ciphertext", json_object_new_string_len(field[3], flen[3]));
	json_object_object_add(j, "encrypted_key", json_object_new_string_len(field[1], flen[1]));
	json_object_object_add(j, "iv", json_object_new_string_len(field[2], flen[2]));
	json_object_object_add(j, "protected", json_object_new_string_len(field[0], flen[0]));
	json_object_object_add(j, "tag", json_object_new_string_len(field[4], flen[4]));
	json_object_object_add(root, "jwe", j);
	*ret = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
	return *ret ? 0 : -ENOMEM;
bad:
	json_object_put(slots);
	json_object_put(j);
	return -EINVAL;
nomem:
	json_object_put(slots);
	json_object_put(j);
	return -ENOMEM;
}

static int b64url_chars(const char *s)
{
	for (; *s; s++)
		if (!(('A' <= *s && *s <= 'Z') || ('a' <= *s && *s <= 'z') || ('0' <= *s && *s <= '9') ||
		      *s == '-' || *s == '_'))
			return -EINVAL;
	return 0;
}

int clevis_token_parse(const char *json, int *keyslot, char **ret_jwe, const char **why)
{
	_cleanup_json_ json_object *root = json_tokener_parse(json);
	json_object *slots, *j, *v;
	const char *parts[5];
	char *end;
	long slot;

	*why = "not a JSON object";
	if (!root || !json_object_is_type(root, json_type_object))
		return -EINVAL;
	*why = "\"keyslots\" is not one keyslot number";
	if (!json_object_object_get_ex(root, "keyslots", &slots) ||
	    !json_object_is_type(slots, json_type_array) || json_object_array_length(slots) < 1)
		return -EINVAL;
	v = json_object_array_get_idx(slots, 0);
	if (!json_object_is_type(v, json_type_string))
		return -EINVAL;
	errno = 0;
	slot = strtol(json_object_get_string(v), &end, 10);
	if (errno || *end || slot < 0 || slot >= 32)
		return -EINVAL;
	*why = "\"jwe\" is not a JWE object";
	if (!json_object_object_get_ex(root, "jwe", &j) || !json_object_is_type(j, json_type_object))
		return -EINVAL;
	for (int i = 0; i < 5; i++) {
		*why = "\"jwe\" lacks a member, or one is not base64url";
		if (!json_object_object_get_ex(j, jwe_parts[i], &v) ||
		    !json_object_is_type(v, json_type_string))
			return -EINVAL;
		parts[i] = json_object_get_string(v);
		if (b64url_chars(parts[i]) < 0)
			return -EINVAL;
	}
	*why = "\"jwe\" has an empty protected header, iv, ciphertext or tag";
	if (!*parts[0] || !*parts[2] || !*parts[3] || !*parts[4])
		return -EINVAL;
	*why = NULL;
	if (asprintf(ret_jwe, "%s.%s.%s.%s.%s", parts[0], parts[1], parts[2], parts[3], parts[4]) < 0)
		return -ENOMEM;
	*keyslot = slot;
	return 0;
}

json_object *clevis_b64url_json(const char *b64url, size_t n)
{
	_cleanup_free_ char *b64 = malloc(n + 4);
	_cleanup_free_ unsigned char *raw = malloc(n + 4);
	int len, pad;

	if (!b64 || !raw || !n)
		return NULL;
	for (size_t i = 0; i < n; i++)
		b64[i] = b64url[i] == '-' ? '+' : b64url[i] == '_' ? '/' : b64url[i];
	pad = (4 - n % 4) % 4;
	memset(b64 + n, '=', pad);
	b64[n + pad] = '\0';
	len = EVP_DecodeBlock(raw, (unsigned char *)b64, n + pad);
	if (len < 0)
		return NULL;
	len -= pad;
	raw[len] = '\0';
	return json_tokener_parse((char *)raw);
}

/* The protected header of a compact JWE, decoded; NULL if it is not JSON. */
static json_object *jwe_header(const char *jwe)
{
	const char *dot = strchr(jwe, '.');

	return clevis_b64url_json(jwe, dot ? (size_t)(dot - jwe) : strlen(jwe));
}

static const char *get_str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static void copy_str(json_object *to, json_object *from, const char *key)
{
	const char *s = get_str(from, key);

	if (s)
		json_object_object_add(to, key, json_object_new_string(s));
}

json_object *clevis_jwe_binding(const char *jwe)
{
	_cleanup_json_ json_object *hdr = jwe_header(jwe);
	json_object *clevis, *sub, *b, *list, *children;
	const char *pin;

	if (!hdr || !json_object_object_get_ex(hdr, "clevis", &clevis) ||
	    !(pin = get_str(clevis, "pin")))
		return NULL;
	b = json_object_new_object();
	if (!b)
		return NULL;
	json_object_object_add(b, "pin", json_object_new_string(pin));
	if (!json_object_object_get_ex(clevis, pin, &sub) || !json_object_is_type(sub, json_type_object))
		return b;
	if (!strcmp(pin, "tang")) {
		copy_str(b, sub, "url");
	} else if (!strcmp(pin, "tpm2")) {
		copy_str(b, sub, "pcr_bank");
		copy_str(b, sub, "pcr_ids");
	} else if (!strcmp(pin, "sss")) {
		json_object *t;

		if (json_object_object_get_ex(sub, "t", &t))
			json_object_object_add(b, "t", json_object_new_int(json_object_get_int(t)));
		children = json_object_new_array();
		json_object_object_add(b, "pins", children);
		if (!json_object_object_get_ex(sub, "jwe", &list) || !json_object_is_type(list, json_type_array))
			return b;
		for (size_t i = 0; i < json_object_array_length(list); i++) {
			json_object *c = json_object_array_get_idx(list, i), *cb;

			if (!json_object_is_type(c, json_type_string))
				continue;
			cb = clevis_jwe_binding(json_object_get_string(c));
			if (cb)
				json_object_array_add(children, cb);
		}
	}
	return b;
}

bool clevis_binding_uses(json_object *binding, const char *pin)
{
	const char *p = get_str(binding, "pin");
	json_object *pins;

	if (p && !strcmp(p, pin))
		return true;
	if (!json_object_object_get_ex(binding, "pins", &pins) || !json_object_is_type(pins, json_type_array))
		return false;
	for (size_t i = 0; i < json_object_array_length(pins); i++)
		if (clevis_binding_uses(json_object_array_get_idx(pins, i), pin))
			return true;
	return false;
}

static size_t append(char *buf, size_t size, size_t n, const char *fmt, const char *a)
{
	int r;

	if (n >= size)
		return n;
	r = snprintf(buf + n, size - n, fmt, a);
	return r < 0 ? n : n + r;
}

static size_t binding_text(json_object *b, char *buf, size_t size, size_t n)
{
	const char *pin = get_str(b, "pin") ?: "?";
	json_object *pins, *t;

	if (!strcmp(pin, "tang"))
		return append(buf, size, n, "tang(%s)", get_str(b, "url") ?: "?");
	if (!strcmp(pin, "tpm2"))
		return append(buf, size, n, "tpm2(pcrs=%s)", get_str(b, "pcr_ids") ?: "none");
	if (strcmp(pin, "sss") || !json_object_object_get_ex(b, "pins", &pins))
		return append(buf, size, n, "%s", pin);
	n = append(buf, size, n, "sss(t=%s:", json_object_object_get_ex(b, "t", &t) ?
		   json_object_get_string(t) : "?");
	for (size_t i = 0; i < json_object_array_length(pins); i++) {
		n = append(buf, size, n, "%s", " ");
		n = binding_text(json_object_array_get_idx(pins, i), buf, size, n);
	}
	return append(buf, size, n, "%s", ")");
}

void clevis_binding_text(json_object *binding, char *buf, size_t size)
{
	buf[0] = '\0';
	if (binding)
		binding_text(binding, buf, size, 0);
}

/* The config of one binding node for `clevis encrypt`, or NULL (a pin we cannot redo). */
static json_object *node_config(json_object *b)
{
	const char *pin = get_str(b, "pin") ?: "";
	json_object *cfg = json_object_new_object(), *pins, *t, *by_pin;

	if (!cfg)
		return NULL;
	if (!strcmp(pin, "tang") && get_str(b, "url")) {
		copy_str(cfg, b, "url");
		return cfg;
	}
	if (!strcmp(pin, "tpm2")) {
		copy_str(cfg, b, "pcr_bank");
		copy_str(cfg, b, "pcr_ids");
		return cfg;
	}
	if (strcmp(pin, "sss") || !json_object_object_get_ex(b, "t", &t) ||
	    !json_object_object_get_ex(b, "pins", &pins))
		goto bad;
	json_object_object_add(cfg, "t", json_object_new_int(json_object_get_int(t)));
	by_pin = json_object_new_object();
	json_object_object_add(cfg, "pins", by_pin);
	for (size_t i = 0; i < json_object_array_length(pins); i++) {
		json_object *child = json_object_array_get_idx(pins, i), *list, *c;
		const char *name = get_str(child, "pin");

		c = node_config(child);
		if (!c || !name)
			goto bad;
		if (!json_object_object_get_ex(by_pin, name, &list)) {
			list = json_object_new_array();
			json_object_object_add(by_pin, name, list);
		}
		json_object_array_add(list, c);
	}
	return cfg;
bad:
	json_object_put(cfg);
	return NULL;
}

json_object *clevis_binding_config(json_object *binding, const char **pin)
{
	*pin = get_str(binding, "pin");
	return *pin ? node_config(binding) : NULL;
}
