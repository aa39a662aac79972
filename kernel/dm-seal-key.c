// SPDX-License-Identifier: GPL-2.0
/*
 * dm-seal key handling: parse a keyring reference, load the key it names
 * into the tfm, and wipe it from the tfm again.
 *
 * Keys come only from the kernel keyring. The payload is read under the
 * key's semaphore and handed straight to crypto_skcipher_setkey(), so the
 * target makes no copy of it; afterwards the expanded key in the tfm is the
 * only one the target holds, and userspace may unlink or revoke the keyring
 * key. Wiping sets a random key.
 *
 * Nothing here logs: errors are returned as a sentence in *error, which the
 * caller reports (ti->error for a table, the kernel log for a message).
 */
#include <crypto/xts.h>
#include <keys/encrypted-type.h>
#include <keys/trusted-type.h>
#include <keys/user-type.h>
#include <linux/ctype.h>
#include <linux/key.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "dm-seal.h"

/*
 * Reads a key's payload; called with key->sem held for reading. A payload
 * that is gone (revoked key) gives -EKEYREVOKED.
 */
typedef int (*seal_payload_fn)(const struct key *key, const u8 **data,
			       unsigned int *len);

static int seal_payload_user(const struct key *key, const u8 **data,
			     unsigned int *len)
{
	const struct user_key_payload *ukp = user_key_payload_locked(key);

	if (!ukp)
		return -EKEYREVOKED;
	*data = ukp->data;
	*len = ukp->datalen;
	return 0;
}

static int seal_payload_encrypted(const struct key *key, const u8 **data,
				  unsigned int *len)
{
	const struct encrypted_key_payload *ekp = key->payload.data[0];

	if (!ekp)
		return -EKEYREVOKED;
	*data = ekp->decrypted_data;
	*len = ekp->decrypted_datalen;
	return 0;
}

static int seal_payload_trusted(const struct key *key, const u8 **data,
				unsigned int *len)
{
	const struct trusted_key_payload *tkp = key->payload.data[0];

	if (!tkp)
		return -EKEYREVOKED;
	*data = tkp->key;
	*len = tkp->key_len;
	return 0;
}

/*
 * The key types, by enum seal_key_type. @type is NULL for a type the running
 * kernel does not have; the symbols of optional types are then never
 * referenced.
 */
static const struct {
	const char *name;
	struct key_type *type;
	seal_payload_fn payload;
} seal_key_types[] = {
	[SEAL_KEY_LOGON] = { "logon", &key_type_logon, seal_payload_user },
	[SEAL_KEY_USER] = { "user", &key_type_user, seal_payload_user },
	[SEAL_KEY_ENCRYPTED] = {
		"encrypted",
		IS_ENABLED(CONFIG_ENCRYPTED_KEYS) ? &key_type_encrypted : NULL,
		seal_payload_encrypted
	},
	[SEAL_KEY_TRUSTED] = {
		"trusted",
		IS_ENABLED(CONFIG_TRUSTED_KEYS) ? &key_type_trusted : NULL,
		seal_payload_trusted
	},
};

const char *seal_key_type_name(enum seal_key_type type)
{
	return seal_key_types[type].name;
}

static bool seal_has_whitespace(const char *s)
{
	for (; *s; s++)
		if (isspace(*s))
			return true;
	return false;
}

/* Parse the <size> of a key reference. */
static int seal_parse_key_size(const char *s, size_t len, unsigned int *size)
{
	char buf[16];

	if (len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (!seal_is_decimal(buf))
		return -EINVAL;
	return kstrtouint(buf, 10, size);
}

/**
 * seal_key_parse() - parse a key reference ``:<size>:<type>:<description>``
 * @arg: the table or message argument; overwritten if it holds key bytes
 * @ref: filled in on success; free with seal_key_ref_free()
 * @error: set to a sentence describing the problem on failure
 *
 * Return: 0 or a negative errno.
 */
int seal_key_parse(char *arg, struct seal_key_ref *ref, char **error)
{
	const char *type, *desc;
	unsigned int size, t;
	size_t type_len;

	/* DM cannot escape whitespace when it prints the table back. */
	if (seal_has_whitespace(arg)) {
		*error = "Key string must not contain whitespace";
		return -EINVAL;
	}

	if (arg[0] != ':') {
		/* Most likely a hex key: do not leave it in the ioctl buffer. */
		memset(arg, '0', strlen(arg));
		*error = "Key must come from the kernel keyring, not the table";
		return -EINVAL;
	}

	type = strchr(arg + 1, ':');
	if (!type || seal_parse_key_size(arg + 1, type - arg - 1, &size)) {
		*error = "Invalid key size";
		return -EINVAL;
	}
	if (size != 32 && size != 64) {
		*error = "Key size must be 32 or 64 bytes";
		return -EINVAL;
	}

	type++;
	desc = strchr(type, ':');
	if (!desc || !desc[1]) {
		*error = "Missing key description";
		return -EINVAL;
	}

	type_len = desc - type;
	for (t = 0; t < ARRAY_SIZE(seal_key_types); t++)
		if (strlen(seal_key_types[t].name) == type_len &&
		    !strncmp(type, seal_key_types[t].name, type_len))
			break;
	if (t == ARRAY_SIZE(seal_key_types) || !seal_key_types[t].type) {
		*error = "Unsupported key type";
		return -EINVAL;
	}

	ref->desc = kstrdup(desc + 1, GFP_KERNEL);
	if (!ref->desc) {
		*error = "Cannot allocate key description";
		return -ENOMEM;
	}
	ref->size = size;
	ref->type = t;
	return 0;
}

void seal_key_ref_free(struct seal_key_ref *ref)
{
	/* A description names a key; it is printed in the table. */
	kfree(ref->desc);
	ref->desc = NULL;
}

/**
 * seal_key_load() - set the key named by @ref into @tfm
 * @tfm: the xts(aes) transform
 * @ref: a parsed key reference
 * @error: set to a sentence describing the problem on failure
 *
 * Looks the key up in the keyrings of the calling process. Every check is
 * made before @tfm is touched, so a failure other than "Cannot set key"
 * leaves @tfm as it was; after that one, @tfm's key is undefined.
 *
 * Return: 0 or a negative errno.
 */
int seal_key_load(struct crypto_skcipher *tfm, const struct seal_key_ref *ref,
		  char **error)
{
	struct key_type *type = seal_key_types[ref->type].type;
	struct key *key;
	const u8 *data;
	unsigned int len;
	int r;

	if (!type) {
		*error = "Unsupported key type";
		return -EINVAL;
	}

	key = request_key(type, ref->desc, NULL);
	if (IS_ERR(key)) {
		r = PTR_ERR(key);
		if (r == -EKEYREVOKED || r == -EKEYEXPIRED)
			*error = "Key is revoked or expired";
		else
			*error = "Key lookup failed";
		return r;
	}

	down_read(&key->sem);

	r = key_validate(key);
	if (!r)
		r = seal_key_types[ref->type].payload(key, &data, &len);
	if (r) {
		*error = "Key is revoked or expired";
		goto out;
	}

	if (len != ref->size) {
		*error = "Key size does not match the keyring payload";
		r = -EINVAL;
		goto out;
	}

	r = xts_verify_key(tfm, data, len);
	if (r) {
		*error = "Key refused by xts(aes)";
		goto out;
	}

	r = seal_setkey(tfm, data, len);
	if (r)
		*error = "Cannot set key";
out:
	up_read(&key->sem);
	key_put(key);
	return r;
}

/**
 * seal_tfm_alloc() - allocate an xts(aes) transform for a key
 * @tfm: set to the transform, or NULL on failure
 * @error: set to a sentence describing the problem on failure
 *
 * Return: 0 or a negative errno.
 */
int seal_tfm_alloc(struct crypto_skcipher **tfm, char **error)
{
	struct crypto_skcipher *t;

	t = crypto_alloc_skcipher(SEAL_CRYPTO_ALG, 0,
				  CRYPTO_ALG_ALLOCATES_MEMORY);
	if (IS_ERR(t)) {
		*tfm = NULL;
		*error = "Cannot allocate " SEAL_CRYPTO_ALG " cipher";
		return PTR_ERR(t);
	}
	*tfm = t;
	return 0;
}

/**
 * seal_key_wipe() - replace the key in @tfm with random bytes
 * @tfm: the xts(aes) transform
 * @size: key size in bytes
 *
 * Return: 0 or the error of crypto_skcipher_setkey().
 */
int seal_key_wipe(struct crypto_skcipher *tfm, unsigned int size)
{
	u8 junk[SEAL_MAX_KEY_SIZE];
	int r;

	if (WARN_ON_ONCE(size > sizeof(junk)))
		return -EINVAL;
	get_random_bytes(junk, size);
	r = seal_setkey(tfm, junk, size);
	memzero_explicit(junk, sizeof(junk));
	return r;
}
