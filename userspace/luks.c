// SPDX-License-Identifier: GPL-2.0
/*
 * LUKS2 through libcryptsetup; signatures through libblkid (see luks.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <blkid/blkid.h>

#include "cleanup.h"
#include "luks.h"
#include "report.h"
#include "token.h"

int device_size(const char *path, uint64_t *ret)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode)) {
		*ret = st.st_size;
		return 0;
	}
	if (!S_ISBLK(st.st_mode))
		return -ENOTBLK;
	return ioctl(fd, BLKGETSIZE64, ret) < 0 ? -errno : 0;
}

static void probe_everything(blkid_probe pr)
{
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_MAGIC);
	blkid_probe_enable_partitions(pr, 1);
	blkid_probe_set_partitions_flags(pr, BLKID_PARTS_MAGIC);
}

static blkid_probe new_probe(const char *path)
{
	blkid_probe pr = blkid_new_probe_from_filename(path);

	if (pr)
		probe_everything(pr);
	return pr;
}

/* Wiping needs a writable descriptor; libblkid opens read-only by itself. */
static blkid_probe new_probe_fd(int fd)
{
	blkid_probe pr = blkid_new_probe();

	if (!pr)
		return NULL;
	if (blkid_probe_set_device(pr, fd, 0, 0)) {
		blkid_free_probe(pr);
		return NULL;
	}
	probe_everything(pr);
	return pr;
}

char *device_signature(const char *path)
{
	_cleanup_blkid_ blkid_probe pr = new_probe(path);
	const char *type = NULL;

	if (!pr)
		return NULL;
	if (blkid_do_probe(pr) == 0 &&
	    (blkid_probe_lookup_value(pr, "TYPE", &type, NULL) == 0 ||
	     blkid_probe_lookup_value(pr, "PTTYPE", &type, NULL) == 0))
		return strdup(type);
	return NULL;
}

int device_open_exclusive(const char *path)
{
	/*
	 * On a block device O_EXCL fails with EBUSY while it is mounted, mapped
	 * or opened exclusively by anyone else, and keeps it so while we hold
	 * the descriptor; Linux ignores the flag on a regular file (an image).
	 */
	int fd = open(path, O_RDWR | O_EXCL | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int device_wipe_signatures(int fd, const char *path)
{
	_cleanup_blkid_ blkid_probe pr = new_probe_fd(fd);

	if (!pr)
		return -ENOMEM;
	while (blkid_do_probe(pr) == 0) {
		const char *type = "unknown", *off = "?";

		if (blkid_probe_lookup_value(pr, "TYPE", &type, NULL))
			blkid_probe_lookup_value(pr, "PTTYPE", &type, NULL);
		if (blkid_probe_lookup_value(pr, "SBMAGIC_OFFSET", &off, NULL))
			blkid_probe_lookup_value(pr, "PTMAGIC_OFFSET", &off, NULL);
		note(path, "wiping %s signature at offset %s", type, off);
		if (blkid_do_wipe(pr, 0))
			return -EIO;
	}
	return fsync(fd) < 0 ? -errno : 0;
}

enum seal_exit volume_load(const char *path, bool read_only, struct crypt_device **ret)
{
	_cleanup_crypt_ struct crypt_device *cd = NULL;
	_cleanup_free_ char *sig = NULL;
	uint32_t req = 0;
	uint64_t size;
	int r;

	r = device_size(path, &size);
	if (r == -ENOENT)
		return fail(SEAL_EXIT_NO_DEVICE, path, "device not found");
	if (r < 0)
		return fail(SEAL_EXIT_NO_DEVICE, path, "cannot open device: %s", strerror(-r));
	/*
	 * With metadata locking on, libcryptsetup 2.6.1 rewrites a damaged
	 * header copy from the good one whenever it loads the header. Readers
	 * must not write: without locking it only reads (and uses) the good copy.
	 */
	if (read_only)
		crypt_metadata_locking(NULL, 0);
	r = crypt_init(&cd, path);
	if (r < 0)
		return fail(SEAL_EXIT_NO_DEVICE, path, "cannot open device: %s", strerror(-r));
	r = crypt_load(cd, CRYPT_LUKS2, NULL);
	if (r == 0) {
		if (crypt_persistent_flags_get(cd, CRYPT_FLAGS_REQUIREMENTS, &req) == 0 && req)
			return fail(SEAL_EXIT_UNSUPPORTED, path,
				    "LUKS2 header has unmet requirements (reencryption in progress?)");
		*ret = TAKE_PTR(cd);
		return SEAL_EXIT_OK;
	}
	if (crypt_load(cd, CRYPT_LUKS1, NULL) == 0)
		return fail(SEAL_EXIT_UNSUPPORTED, path, "LUKS1 volume; seal needs LUKS2");
	sig = device_signature(path);
	if (sig && !strcmp(sig, "crypto_LUKS"))
		return fail(SEAL_EXIT_HEADER_CORRUPT, path,
			    "LUKS2 header damaged in both copies (restore a header backup)");
	if (size < 4096)
		return fail(SEAL_EXIT_NO_DEVICE, path, "device too small (%llu bytes) to hold a LUKS2 header",
			    (unsigned long long)size);
	if (sig)
		return fail(SEAL_EXIT_NOT_LUKS, path, "not a LUKS2 device (found %s)", sig);
	return fail(SEAL_EXIT_NOT_LUKS, path, "not a LUKS2 device");
}

enum seal_exit volume_check_seal(struct crypt_device *cd, const char *path)
{
	const char *cipher = crypt_get_cipher(cd), *mode = crypt_get_cipher_mode(cd);
	int key_size = crypt_get_volume_key_size(cd);
	uint64_t size, data = crypt_get_data_offset(cd) * 512;
	uint32_t sector = crypt_get_sector_size(cd);

	if (!cipher || !mode || strcmp(cipher, SEAL_CIPHER) || strcmp(mode, SEAL_CIPHER_MODE) ||
	    key_size != SEAL_KEY_SIZE)
		return fail(SEAL_EXIT_UNSUPPORTED, path,
			    "cipher %s-%s with a %d-bit key; seal handles aes-xts-plain64 with 512 bits",
			    cipher ?: "?", mode ?: "?", key_size * 8);
	struct crypt_params_integrity ip = { 0 };

	if (crypt_get_integrity_info(cd, &ip) == 0 && ip.tag_size)
		return fail(SEAL_EXIT_UNSUPPORTED, path, "authenticated encryption (dm-integrity) volume");
	if (sector < 512 || sector > 4096 || (sector & (sector - 1)))
		return fail(SEAL_EXIT_UNSUPPORTED, path, "sector size %u", sector);
	if (device_size(path, &size) < 0 || size < data + sector)
		return fail(SEAL_EXIT_NO_DEVICE, path,
			    "device too small: no data area after the %llu-byte header",
			    (unsigned long long)data);
	if ((size - data) % sector)
		return fail(SEAL_EXIT_UNSUPPORTED, path,
			    "data area is not a multiple of the %u-byte sector size", sector);
	return SEAL_EXIT_OK;
}

/*
 * Only the test build (build/userspace/tests/sealctl) may weaken a human
 * passphrase's keyslot: in the installed binary an environment variable, which
 * a boot loader's command line can set (systemd.setenv=), must not.
 */
#ifdef SEAL_TESTING
static bool fast_pbkdf(void)
{
	const char *e = getenv("SEAL_TEST_FAST_PBKDF");

	return e && !strcmp(e, "1");
}
#else
static bool fast_pbkdf(void)
{
	return false;
}
#endif

int luks_pbkdf_passphrase(struct crypt_device *cd)
{
	const struct crypt_pbkdf_type *def = crypt_get_pbkdf_default(CRYPT_LUKS2);
	struct crypt_pbkdf_type fast = {
		.type = CRYPT_KDF_ARGON2ID,
		.hash = "sha256",
		.iterations = 4,
		.max_memory_kb = 32,
		.parallel_threads = 1,
		.flags = CRYPT_PBKDF_NO_BENCHMARK,
	};
	struct crypt_pbkdf_type slow;

	if (fast_pbkdf())
		return crypt_set_pbkdf_type(cd, &fast);
	slow = *def;
	slow.type = CRYPT_KDF_ARGON2ID;
	return crypt_set_pbkdf_type(cd, &slow);
}

int luks_pbkdf_minimal(struct crypt_device *cd)
{
	const struct crypt_pbkdf_type minimal = {
		.type = CRYPT_KDF_PBKDF2,
		.hash = "sha512",
		.iterations = 1000,
		.flags = CRYPT_PBKDF_NO_BENCHMARK,
	};

	return crypt_set_pbkdf_type(cd, &minimal);
}

uint32_t luks_keyslot_tokens(struct crypt_device *cd, int keyslot)
{
	int max = crypt_token_max(CRYPT_LUKS2);
	uint32_t mask = 0;

	for (int t = 0; t < max && t < 32; t++)
		if (crypt_token_is_assigned(cd, t, keyslot) == 0)
			mask |= 1u << t;
	return mask;
}

/*
 * The keyslot's tokens go first, each in a header write of its own, and the keyslot last:
 * cut short anywhere (a kill, a power cut), the header never holds a token whose keyslot
 * is half destroyed. Such a token is tried at unlock; its secret, unsealed (the boot's one
 * unseal: PCR 15 moves), would open nothing, and the next token would then be refused. A
 * keyslot left without its token is tried by no token.
 */
int luks_destroy_keyslot(struct crypt_device *cd, int keyslot)
{
	uint32_t tokens = luks_keyslot_tokens(cd, keyslot);
	int r;

	for (int t = 0; t < 32; t++) {
		const char *json;

		if (!(tokens & (1u << t)))
			continue;
		r = crypt_token_json_get(cd, t, &json);
		if (r < 0)
			return r;
		/* a token that served this keyslot only goes; another loses the keyslot */
		if (seal_token_keyslot_count(json) == 1)
			r = crypt_token_json_set(cd, t, NULL);
		else
			r = crypt_token_unassign_keyslot(cd, t, keyslot);
		if (r < 0)
			return r;
	}
	return crypt_keyslot_destroy(cd, keyslot);
}

const char *luks_keyslot_token_type(struct crypt_device *cd, int keyslot, int *ret_token)
{
	int max = crypt_token_max(CRYPT_LUKS2);

	for (int t = 0; t < max; t++) {
		const char *type;
		crypt_token_info st = crypt_token_status(cd, t, &type);

		if (st == CRYPT_TOKEN_INACTIVE || st == CRYPT_TOKEN_INVALID)
			continue;
		if (crypt_token_is_assigned(cd, t, keyslot) == 0) {
			if (ret_token)
				*ret_token = t;
			return type;
		}
	}
	return NULL;
}

int luks_active_keyslots(struct crypt_device *cd)
{
	int n = 0, max = crypt_keyslot_max(CRYPT_LUKS2);

	for (int s = 0; s < max; s++) {
		crypt_keyslot_info ki = crypt_keyslot_status(cd, s);

		if (ki == CRYPT_SLOT_ACTIVE || ki == CRYPT_SLOT_ACTIVE_LAST)
			n++;
	}
	return n;
}
