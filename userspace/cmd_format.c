// SPDX-License-Identifier: GPL-2.0
/*
 * sealctl format DEV: a new LUKS2 header (aes-xts-plain64, 512-bit DEK) with
 * the first admin passphrase in keyslot 0.
 */
#include <errno.h>
#include <string.h>

#include "askpass.h"
#include "cleanup.h"
#include "commands.h"
#include "hygiene.h"
#include "keyslots.h"
#include "luks.h"
#include "report.h"

/* The device exists, is large enough and carries no signature (or --force). */
static enum seal_exit check_target(const struct seal_opts *o, const char *path, char **ret_sig)
{
	_cleanup_free_ char *sig = NULL;
	uint64_t size;
	int r;

	r = device_size(path, &size);
	if (r == -ENOENT)
		return fail(SEAL_EXIT_NO_DEVICE, path, "device not found");
	if (r < 0)
		return fail(SEAL_EXIT_NO_DEVICE, path, "cannot open device: %s", strerror(-r));
	if (size < SEAL_MIN_FORMAT_SIZE)
		return fail(SEAL_EXIT_NO_DEVICE, path,
			    "device too small (%llu bytes; format needs at least %llu)",
			    (unsigned long long)size, SEAL_MIN_FORMAT_SIZE);
	sig = device_signature(path);
	if (sig && !o->force)
		return fail(SEAL_EXIT_EXISTS, path, "device carries a %s signature (use --force to overwrite it)",
			    sig);
	*ret_sig = TAKE_PTR(sig);
	return SEAL_EXIT_OK;
}

/*
 * Held from before the prompt until libcryptsetup opens it (exclusively too):
 * nobody mounts or maps the device meanwhile.
 */
static enum seal_exit open_exclusive(const char *path, int *ret_fd)
{
	int fd = device_open_exclusive(path);

	if (fd == -EBUSY)
		return fail(SEAL_EXIT_DEVICE_BUSY, path,
			    "device is in use (mounted, mapped or opened exclusively); nothing was written");
	if (fd < 0)
		return fail(SEAL_EXIT_NO_DEVICE, path, "cannot open device for writing: %s", strerror(-fd));
	*ret_fd = fd;
	return SEAL_EXIT_OK;
}

/*
 * Everything that can refuse the format is checked before anything is
 * written: the device, its signatures, exclusive use and the passphrase.
 * A refusal, a mistyped confirmation or Ctrl-C leaves the device as it was.
 */
enum seal_exit cmd_format(const struct seal_opts *o, char **argv)
{
	const char *path = argv[0];
	_cleanup_crypt_ struct crypt_device *cd = NULL;
	_cleanup_secret_ struct secret *pass = NULL;
	_cleanup_free_ char *prompt = NULL, *sig = NULL;
	_cleanup_close_ int fd = -1;
	struct crypt_params_luks2 params = {
		.sector_size = o->sector_size ?: SEAL_DEFAULT_SECTOR,
	};
	enum seal_exit e;
	int r;

	if (process_hygiene() < 0)
		return fail(SEAL_EXIT_FAILURE, path, "cannot harden the process: %s", strerror(errno));
	e = check_target(o, path, &sig);
	if (e != SEAL_EXIT_OK)
		return e;
	e = open_exclusive(path, &fd);
	if (e != SEAL_EXIT_OK)
		return e;
	if (asprintf(&prompt, "New passphrase for %s: ", path) < 0)
		return SEAL_EXIT_FAILURE;
	r = askpass_new(o->key_file, prompt, path, &pass);
	if (r < 0)
		return fail(r == -ENOTTY || r == -ENOENT ? SEAL_EXIT_NO_KEY : SEAL_EXIT_BAD_PASSPHRASE, path,
			    "cannot read a new passphrase: %s; nothing was written",
			    r == -EBADMSG ? "the two entries differ" :
			    r == -ENODATA ? "empty" :
			    r == -ENOTTY ? "no terminal (use --key-file)" : strerror(-r));

	r = crypt_init(&cd, path);
	if (r < 0)
		return fail(SEAL_EXIT_NO_DEVICE, path, "cannot open device: %s", strerror(-r));
	if (luks_pbkdf_passphrase(cd) < 0)
		return fail(SEAL_EXIT_FAILURE, path, "cannot set the key derivation");
	if (sig && device_wipe_signatures(fd, path) < 0)
		return fail(SEAL_EXIT_FAILURE, path, "cannot wipe the existing signatures");
	/* crypt_format() opens the device exclusively itself: let go of it */
	close(TAKE_FD(fd));
	r = crypt_format(cd, CRYPT_LUKS2, SEAL_CIPHER, SEAL_CIPHER_MODE, NULL, NULL,
			 SEAL_KEY_SIZE, &params);
	if (r < 0)
		return fail(SEAL_EXIT_FAILURE, path, "cannot write the LUKS2 header: %s", strerror(-r));
	r = crypt_keyslot_add_by_volume_key(cd, CRYPT_ANY_SLOT, NULL, 0,
					    (const char *)pass->data, pass->len);
	if (r < 0)
		return fail(SEAL_EXIT_FAILURE, path, "cannot add the passphrase keyslot: %s", strerror(-r));
	note(path, "formatted LUKS2 %s-%s, %d-bit key, %u-byte sectors, UUID %s; passphrase in keyslot %d",
	     SEAL_CIPHER, SEAL_CIPHER_MODE, SEAL_KEY_SIZE * 8, params.sector_size,
	     crypt_get_uuid(cd), r);
	return SEAL_EXIT_OK;
}
