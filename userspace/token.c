// SPDX-License-Identifier: GPL-2.0
/*
 * seal-tpm2 token JSON (format in token.h), through json-c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <tss2/tss2_mu.h>

#include "cleanup.h"
#include "token.h"

static const char hexdigits[] = "0123456789abcdef";

static char *hex_encode(const uint8_t *p, size_t len)
{
	char *s = malloc(2 * len + 1);

	if (!s)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		s[2 * i] = hexdigits[p[i] >> 4];
		s[2 * i + 1] = hexdigits[p[i] & 15];
	}
	s[2 * len] = '\0';
	return s;
}

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int hex_decode(const char *s, uint8_t *out, size_t cap, size_t *len)
{
	size_t n = strlen(s);

	if (n % 2 || n / 2 > cap)
		return -EINVAL;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hex_nibble(s[2 * i]), lo = hex_nibble(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = hi << 4 | lo;
	}
	*len = n / 2;
	return 0;
}

static char *b64_encode(const uint8_t *p, size_t len)
{
	char *s = malloc(4 * ((len + 2) / 3) + 1);

	if (s)
		EVP_EncodeBlock((unsigned char *)s, p, len);
	return s;
}

static int b64_decode(const char *s, uint8_t *out, size_t cap, size_t *len)
{
	size_t n = strlen(s), pad = 0;
	_cleanup_free_ uint8_t *buf = NULL;
	int r;

	if (n % 4)
		return -EINVAL;
	if (n && s[n - 1] == '=')
		pad++;
	if (n > 1 && s[n - 2] == '=')
		pad++;
	buf = malloc(n / 4 * 3 + 1);
	if (!buf)
		return -ENOMEM;
	r = EVP_DecodeBlock(buf, (const unsigned char *)s, n);
	if (r < 0 || (size_t)r < pad || (size_t)r - pad > cap)
		return -EINVAL;
	memcpy(out, buf, r - pad);
	*len = r - pad;
	return 0;
}

json_object *seal_token_pcr_array(uint32_t mask)
{
	json_object *a = json_object_new_array();

	for (int i = 0; a && i < 24; i++)
		if (mask & (1u << i))
			json_object_array_add(a, json_object_new_int(i));
	return a;
}

static int add(json_object *o, const char *key, json_object *val)
{
	if (!val)
		return -ENOMEM;
	return json_object_object_add(o, key, val) ? -ENOMEM : 0;
}

static int add_str(json_object *o, const char *key, char *owned)
{
	_cleanup_free_ char *s = owned;

	return s ? add(o, key, json_object_new_string(s)) : -ENOMEM;
}

int seal_token_format(const struct seal_tpm_sealed *s, int keyslot, char **ret)
{
	uint8_t priv[sizeof(TPM2B_PRIVATE)], pub[sizeof(TPM2B_PUBLIC)];
	size_t priv_len = 0, pub_len = 0;
	_cleanup_json_ json_object *o = json_object_new_object();
	json_object *slots = json_object_new_array();
	char slot[16];
	int r = 0;

	if (!o || !slots) {
		json_object_put(slots);
		return -ENOMEM;
	}
	if (Tss2_MU_TPM2B_PRIVATE_Marshal(&s->private, priv, sizeof(priv), &priv_len) ||
	    Tss2_MU_TPM2B_PUBLIC_Marshal(&s->public, pub, sizeof(pub), &pub_len)) {
		json_object_put(slots);
		return -EINVAL;
	}
	snprintf(slot, sizeof(slot), "%d", keyslot);
	json_object_array_add(slots, json_object_new_string(slot));

	r = r ?: add(o, "type", json_object_new_string(SEAL_TOKEN_TYPE));
	r = r ?: add(o, "keyslots", slots);
	r = r ?: add(o, "seal-version", json_object_new_int(SEAL_TOKEN_VERSION));
	r = r ?: add_str(o, "tpm2-private", b64_encode(priv, priv_len));
	r = r ?: add_str(o, "tpm2-public", b64_encode(pub, pub_len));
	r = r ?: add(o, "tpm2-pcr-bank", json_object_new_string("sha256"));
	r = r ?: add(o, "tpm2-pcrs", seal_token_pcr_array(s->pcr_mask));
	r = r ?: add(o, "tpm2-pcrs-initial", seal_token_pcr_array(s->pcr_initial_mask));
	r = r ?: add_str(o, "tpm2-policy-hash", hex_encode(s->policy.buffer, s->policy.size));
	r = r ?: add(o, "tpm2-primary-template", json_object_new_string(SEAL_TPM_PRIMARY_TEMPLATE));
	r = r ?: add_str(o, "tpm2-primary-name",
			 hex_encode(s->primary_name.name, s->primary_name.size));
	r = r ?: add(o, "tpm2-pin", json_object_new_boolean(s->pin));
	if (s->pin)
		r = r ?: add_str(o, "tpm2-pin-salt", b64_encode(s->pin_salt, sizeof(s->pin_salt)));
	if (r < 0)
		return r;
	*ret = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							JSON_C_TO_STRING_NOSLASHESCAPE));
	return *ret ? 0 : -ENOMEM;
}

char *seal_recovery_token_format(int keyslot)
{
	char *s = NULL;

	if (asprintf(&s, "{\"type\":\"%s\",\"keyslots\":[\"%d\"]}",
		     SEAL_RECOVERY_TOKEN_TYPE, keyslot) < 0)
		return NULL;
	return s;
}

static const char *get_string(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int get_pcrs(json_object *o, const char *key, uint32_t *mask)
{
	json_object *a;

	*mask = 0;
	if (!json_object_object_get_ex(o, key, &a) || !json_object_is_type(a, json_type_array))
		return -EINVAL;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *v = json_object_array_get_idx(a, i);
		int n;

		if (!json_object_is_type(v, json_type_int))
			return -EINVAL;
		n = json_object_get_int(v);
		if (n < 0 || n > 23)
			return -EINVAL;
		*mask |= 1u << n;
	}
	return 0;
}

static int first_keyslot(json_object *o)
{
	json_object *a, *v;
	const char *s;
	char *end;
	long n;

	if (!json_object_object_get_ex(o, "keyslots", &a) ||
	    !json_object_is_type(a, json_type_array) || json_object_array_length(a) < 1)
		return -ENOENT;
	v = json_object_array_get_idx(a, 0);
	if (!json_object_is_type(v, json_type_string))
		return -EINVAL;
	s = json_object_get_string(v);
	n = strtol(s, &end, 10);
	if (!*s || *end || n < 0 || n > 31)
		return -EINVAL;
	return n;
}

#define BAD(field) ({ *why = field; return -EINVAL; })

int seal_token_parse(const char *json, struct seal_token *out, const char **why)
{
	_cleanup_json_ json_object *o = json_tokener_parse(json);
	uint8_t buf[sizeof(TPM2B_PRIVATE) + sizeof(TPM2B_PUBLIC)];
	size_t len, off;
	const char *s;
	json_object *v;
	int slot;

	memset(out, 0, sizeof(*out));
	if (!o || !json_object_is_type(o, json_type_object))
		BAD("not a JSON object");
	s = get_string(o, "type");
	if (!s || strcmp(s, SEAL_TOKEN_TYPE))
		BAD("type");
	slot = first_keyslot(o);
	if (slot < 0)
		BAD("keyslots");
	out->keyslot = slot;
	/* required: a token of no known version is not ours to interpret */
	if (!json_object_object_get_ex(o, "seal-version", &v) ||
	    !json_object_is_type(v, json_type_int) || json_object_get_int(v) != SEAL_TOKEN_VERSION)
		BAD("seal-version");

	s = get_string(o, "tpm2-private");
	off = 0;
	if (!s || b64_decode(s, buf, sizeof(buf), &len) ||
	    Tss2_MU_TPM2B_PRIVATE_Unmarshal(buf, len, &off, &out->sealed.private) || off != len)
		BAD("tpm2-private");
	s = get_string(o, "tpm2-public");
	off = 0;
	if (!s || b64_decode(s, buf, sizeof(buf), &len) ||
	    Tss2_MU_TPM2B_PUBLIC_Unmarshal(buf, len, &off, &out->sealed.public) || off != len)
		BAD("tpm2-public");
	s = get_string(o, "tpm2-pcr-bank");
	if (!s || strcmp(s, "sha256"))
		BAD("tpm2-pcr-bank (only sha256)");
	if (get_pcrs(o, "tpm2-pcrs", &out->sealed.pcr_mask))
		BAD("tpm2-pcrs");
	if (get_pcrs(o, "tpm2-pcrs-initial", &out->sealed.pcr_initial_mask) ||
	    (out->sealed.pcr_initial_mask & ~out->sealed.pcr_mask))
		BAD("tpm2-pcrs-initial");
	s = get_string(o, "tpm2-policy-hash");
	if (!s || hex_decode(s, out->sealed.policy.buffer, sizeof(out->sealed.policy.buffer), &len) ||
	    len != 32)
		BAD("tpm2-policy-hash");
	out->sealed.policy.size = len;
	s = get_string(o, "tpm2-primary-template");
	if (!s || strcmp(s, SEAL_TPM_PRIMARY_TEMPLATE))
		BAD("tpm2-primary-template");
	s = get_string(o, "tpm2-primary-name");
	if (!s || hex_decode(s, out->sealed.primary_name.name,
			     sizeof(out->sealed.primary_name.name), &len) || len < 4)
		BAD("tpm2-primary-name");
	out->sealed.primary_name.size = len;
	if (!json_object_object_get_ex(o, "tpm2-pin", &v) || !json_object_is_type(v, json_type_boolean))
		BAD("tpm2-pin");
	out->sealed.pin = json_object_get_boolean(v);
	if (out->sealed.pin) {
		s = get_string(o, "tpm2-pin-salt");
		if (!s || b64_decode(s, out->sealed.pin_salt, sizeof(out->sealed.pin_salt), &len) ||
		    len != SEAL_TPM_PIN_SALT_SIZE)
			BAD("tpm2-pin-salt");
	}
	return 0;
}

int seal_token_keyslot_count(const char *json)
{
	_cleanup_json_ json_object *o = json_tokener_parse(json);
	json_object *a;

	if (!o || !json_object_object_get_ex(o, "keyslots", &a) ||
	    !json_object_is_type(a, json_type_array))
		return -EINVAL;
	return json_object_array_length(a);
}

int seal_token_first_keyslot(const char *json)
{
	_cleanup_json_ json_object *o = json_tokener_parse(json);

	if (!o)
		return -EINVAL;
	return first_keyslot(o);
}

char *seal_token_type(const char *json)
{
	_cleanup_json_ json_object *o = json_tokener_parse(json);
	const char *s;

	if (!o || !json_object_is_type(o, json_type_object))
		return NULL;
	s = get_string(o, "type");
	return s ? strdup(s) : NULL;
}
