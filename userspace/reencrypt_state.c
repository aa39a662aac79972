// SPDX-License-Identifier: GPL-2.0
/*
 * The seal-reencrypt token: JSON <-> struct reenc_state (see reencrypt_state.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "reencrypt_state.h"

static int get_u64(struct json_object *o, const char *key, uint64_t *ret)
{
	struct json_object *v;
	const char *s;
	char *end;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return -EINVAL;
	s = json_object_get_string(v);
	errno = 0;
	*ret = strtoull(s, &end, 10);
	return errno || !*s || *end ? -EINVAL : 0;
}

static int get_slot(struct json_object *v)
{
	int n;

	if (!json_object_is_type(v, json_type_int))
		return -EINVAL;
	n = json_object_get_int(v);
	return n < 0 || n >= crypt_keyslot_max(CRYPT_LUKS2) ? -EINVAL : n;
}

static int parse(struct json_object *o, struct reenc_state *st)
{
	struct json_object *pairs, *drop, *lock;
	size_t n;

	if (!json_object_object_get_ex(o, "seal-pairs", &pairs) ||
	    !json_object_is_type(pairs, json_type_array) ||
	    !json_object_object_get_ex(o, "seal-drop", &drop) ||
	    !json_object_is_type(drop, json_type_array) ||
	    !json_object_object_get_ex(o, "seal-lock", &lock) ||
	    get_u64(o, "seal-boundary", &st->boundary) < 0 ||
	    get_u64(o, "seal-sectors", &st->sectors) < 0 || st->boundary > st->sectors)
		return -EINVAL;
	if (json_object_object_get_ex(o, "seal-exact", &lock) &&
	    json_object_is_type(lock, json_type_boolean))
		st->exact = json_object_get_boolean(lock);
	if (!json_object_object_get_ex(o, "seal-lock", &lock))
		return -EINVAL;
	st->lock_slot = get_slot(lock);
	n = json_object_array_length(pairs);
	if (st->lock_slot < 0 || !n || n > SEAL_REENC_MAX_SLOTS ||
	    json_object_array_length(drop) > SEAL_REENC_MAX_SLOTS)
		return -EINVAL;
	st->npairs = n;
	for (size_t i = 0; i < n; i++) {
		struct json_object *p = json_object_array_get_idx(pairs, i);

		if (!json_object_is_type(p, json_type_array) || json_object_array_length(p) != 2)
			return -EINVAL;
		st->old[i] = get_slot(json_object_array_get_idx(p, 0));
		st->new[i] = get_slot(json_object_array_get_idx(p, 1));
		if (st->old[i] < 0 || st->new[i] < 0)
			return -EINVAL;
	}
	st->ndrop = json_object_array_length(drop);
	for (int i = 0; i < st->ndrop; i++) {
		st->drop[i] = get_slot(json_object_array_get_idx(drop, i));
		if (st->drop[i] < 0)
			return -EINVAL;
	}
	return 0;
}

int reenc_state_load(struct crypt_device *cd, struct reenc_state *st)
{
	int max = crypt_token_max(CRYPT_LUKS2);

	for (int t = 0; t < max; t++) {
		_cleanup_json_ struct json_object *o = NULL;
		const char *type, *json;
		crypt_token_info ti = crypt_token_status(cd, t, &type);

		if (ti == CRYPT_TOKEN_INACTIVE || ti == CRYPT_TOKEN_INVALID ||
		    !type || strcmp(type, SEAL_REENC_TOKEN_TYPE))
			continue;
		if (crypt_token_json_get(cd, t, &json) < 0)
			return -EINVAL;
		o = json_tokener_parse(json);
		memset(st, 0, sizeof(*st));
		st->token = t;
		return o ? parse(o, st) : -EINVAL;
	}
	return -ENOENT;
}

bool reenc_in_progress(struct crypt_device *cd)
{
	struct reenc_state st;

	return reenc_state_load(cd, &st) != -ENOENT;
}

static struct json_object *slot_string(int slot)
{
	char s[16];

	snprintf(s, sizeof(s), "%d", slot);
	return json_object_new_string(s);
}

static struct json_object *u64_string(uint64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "%" PRIu64, v);
	return json_object_new_string(s);
}

int reenc_state_save(struct crypt_device *cd, struct reenc_state *st)
{
	_cleanup_json_ struct json_object *o = json_object_new_object();
	struct json_object *slots = json_object_new_array(), *pairs = json_object_new_array(),
			   *drop = json_object_new_array();
	int r;

	if (!o || !slots || !pairs || !drop) {
		json_object_put(slots);
		json_object_put(pairs);
		json_object_put(drop);
		return -ENOMEM;
	}
	json_object_object_add(o, "type", json_object_new_string(SEAL_REENC_TOKEN_TYPE));
	json_object_object_add(o, "keyslots", slots);
	json_object_object_add(o, "seal-pairs", pairs);
	json_object_object_add(o, "seal-drop", drop);
	for (int i = 0; i < st->npairs; i++) {
		struct json_object *p = json_object_new_array();

		if (!p)
			return -ENOMEM;
		json_object_array_add(p, json_object_new_int(st->old[i]));
		json_object_array_add(p, json_object_new_int(st->new[i]));
		json_object_array_add(pairs, p);
		json_object_array_add(slots, slot_string(st->new[i]));
	}
	for (int i = 0; i < st->ndrop; i++)
		json_object_array_add(drop, json_object_new_int(st->drop[i]));
	json_object_object_add(o, "seal-lock", json_object_new_int(st->lock_slot));
	json_object_object_add(o, "seal-boundary", u64_string(st->boundary));
	json_object_object_add(o, "seal-sectors", u64_string(st->sectors));
	json_object_object_add(o, "seal-exact", json_object_new_boolean(st->exact));
	r = crypt_token_json_set(cd, st->token < 0 ? CRYPT_ANY_TOKEN : st->token,
				 json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	if (r < 0)
		return r;
	st->token = r;
	return 0;
}

int reenc_state_remove(struct crypt_device *cd, struct reenc_state *st)
{
	int r = st->token < 0 ? 0 : crypt_token_json_set(cd, st->token, NULL);

	if (r >= 0)
		st->token = -1;
	return r < 0 ? r : 0;
}
