// SPDX-License-Identifier: GPL-2.0
/*
 * sealctl open DEV NAME (or a sealtab NAME, open_sealtab.c): the unsealer. Unlock (unlock.c), hand the DEK to
 * the kernel keyring, load the seal table, drop the key, wipe, and extend
 * PCR 15 so the TPM secret cannot be unsealed again this boot.
 *
 * The table is the one `cryptsetup open` loads for the same header, with
 * the target named seal and the key named by description only:
 *
 *   0 <len> seal aes-xts-plain64 :64:logon:seal:<uuid> <iv_offset> <maj:min> <offset>
 *     [1 sector_size:<n>]
 *
 * (libcryptsetup 2.6.1 never sets iv_large_sectors for LUKS2: IVs count
 * 512-byte sectors whatever the encryption sector size.)
 *
 * Failure leaves nothing behind: no mapping, no keyring key, no header
 * write (nothing here writes the header).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "cleanup.h"
#include "commands.h"
#include "dm.h"
#include "hygiene.h"
#include "keyring.h"
#include "luks.h"
#include "measure.h"
#include "open_sealtab.h"
#include "pcr_measure.h"
#include "pending.h"
#include "reencrypt_state.h"
#include "report.h"
#include "tpm2.h"
#include "unlock.h"

#define DM_NAME_MAX 127

static bool valid_name(const char *name)
{
	size_t len = strlen(name);

	if (!len || len > DM_NAME_MAX || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	return !strchr(name, '/');
}

/* SEAL-<uuid without dashes>-<name>, as CRYPT-LUKS2-... is for dm-crypt */
static void dm_uuid(const char *luks_uuid, const char *name, char *buf, size_t size)
{
	size_t n = snprintf(buf, size, "%s", SEAL_DM_UUID_PREFIX);

	for (const char *p = luks_uuid; *p && n + 1 < size; p++)
		if (*p != '-')
			buf[n++] = *p;
	snprintf(buf + n, size - n, "-%s", name);
}

static enum seal_exit load_table(struct crypt_device *cd, const char *path, const char *name,
				 const struct seal_opts *o, const struct secret *vk)
{
	const char *uuid = crypt_get_uuid(cd);
	uint32_t sector = crypt_get_sector_size(cd);
	uint64_t offset = crypt_get_data_offset(cd), size;
	char desc[96], params[512], dmuuid[160], opts[32] = "";
	key_serial_t key = 0;
	struct stat st;
	int r;

	if (stat(path, &st) < 0 || !S_ISBLK(st.st_mode))
		return fail(SEAL_EXIT_NO_DEVICE, path, "not a block device (attach an image with losetup)");
	if (device_size(path, &size) < 0)
		return fail(SEAL_EXIT_NO_DEVICE, path, "cannot read the device size");
	if (keyring_description(uuid, desc, sizeof(desc)) < 0)
		return fail(SEAL_EXIT_FAILURE, path, "UUID too long");
	if (sector != 512)
		snprintf(opts, sizeof(opts), " 1 sector_size:%u", sector);
	snprintf(params, sizeof(params), "%s-%s :%zu:logon:%s %llu %u:%u %llu%s",
		 crypt_get_cipher(cd), crypt_get_cipher_mode(cd), vk->len, desc,
		 (unsigned long long)crypt_get_iv_offset(cd), major(st.st_rdev), minor(st.st_rdev),
		 (unsigned long long)offset, opts);
	dm_uuid(uuid, name, dmuuid, sizeof(dmuuid));

	r = keyring_add_logon(desc, vk->data, vk->len, &key);
	if (r < 0)
		return fail(SEAL_EXIT_KEYRING, path, "cannot add the key to the kernel keyring: %s",
			    strerror(-r));
	r = dm_create(name, dmuuid, size / 512 - offset, SEAL_DM_TARGET, params, o->read_only);
	/* loaded or not, the kernel holds its own copy now: drop ours */
	keyring_drop(key);
	if (r < 0) {
		bool present = false;

		if (dm_target_present(SEAL_DM_TARGET, &present) < 0)
			return fail(SEAL_EXIT_DM, path, "device-mapper unavailable: %s",
				    r == -ENODEV ? "no driver in this kernel" : strerror(-r));
		if (!present)
			return fail(SEAL_EXIT_DM, path, "kernel has no seal target (load dm-seal.ko)");
		if (r == -EEXIST)
			return fail(SEAL_EXIT_NAME_IN_USE, path, "mapping name %s is already in use", name);
		return fail(SEAL_EXIT_DM, path, "loading the seal table for %s failed: %s", name,
			    strerror(-r));
	}
	return SEAL_EXIT_OK;
}

static enum seal_exit check_name(const char *path, const char *name)
{
	struct dm_mapping m;
	bool taken;
	int r;

	if (!valid_name(name))
		return fail(SEAL_EXIT_USAGE, path, "invalid mapping name '%s'", name);
	r = dm_query(name, &m);
	taken = r == 0 && m.exists;
	dm_mapping_clear(&m);
	if (r < 0)
		return fail(SEAL_EXIT_DM, path, "device-mapper unavailable: %s",
			    r == -ENODEV ? "no driver in this kernel" : strerror(-r));
	if (taken)
		return fail(SEAL_EXIT_NAME_IN_USE, path, "mapping name %s is already in use", name);
	return SEAL_EXIT_OK;
}

/* --defer-lock: the measurement waits in SEAL_PENDING_DIR for lock-tpm (pending.h). */
static enum seal_exit record(const char *path, const char *uuid, const char *measurement,
			     bool unsealed)
{
	int r = pending_add(uuid, unsealed ? "unsealed" : "opened", measurement);

	if (r < 0)
		return fail(SEAL_EXIT_FAILURE, path, "cannot record the deferred PCR %d measurement in %s: %s",
			    SEAL_TPM_MEASURE_PCR, SEAL_PENDING_DIR, strerror(-r));
	return SEAL_EXIT_OK;
}

/*
 * PCR 15 <- the volume's measurement (now, or recorded for lock-tpm with
 * --defer-lock); "seal:<UUID>:unsealed" when nothing unlocked. A TPM is
 * required when a TPM secret came out: ours, or a systemd-tpm2 token's or a
 * clevis tpm2 pin's (their plugins extend nothing); a foreign token that
 * failed may have unsealed too and is measured whenever a TPM answers.
 */
static enum seal_exit measure_volume(struct crypt_device *cd, const char *path,
				     const struct seal_opts *o, const struct unlocked *u)
{
	char measurement[SEAL_MEASUREMENT_MAX];
	bool unsealed = u->tpm_unsealed || u->foreign_tpm;
	int r;

	r = measurement_build(crypt_get_uuid(cd), u->volume_key, measurement, sizeof(measurement));
	if (r < 0)
		return fail(SEAL_EXIT_FAILURE, path, "cannot build the PCR measurement: %s", strerror(-r));
	if (o->defer_lock)
		return record(path, crypt_get_uuid(cd), measurement, unsealed);
	return pcr_measure(path, o, measurement, unsealed);
}

/*
 * Table in, key out, PCR 15 extended with the volume's measurement. An
 * unsealed TPM secret was measured away when it came out (unseal.h); this
 * second extend records which volume was opened. After a TPM unlock a
 * mapping whose measurement failed is removed again. With --defer-lock both
 * wait for lock-tpm (pending.h).
 */
static enum seal_exit activate(struct crypt_device *cd, const char *path, const char *name,
			       const struct seal_opts *o, const struct unlocked *u)
{
	bool unsealed = u->tpm_unsealed || u->foreign_tpm;
	enum seal_exit e, me;

	e = load_table(cd, path, name, o, u->volume_key);
	if (e != SEAL_EXIT_OK && !unsealed)
		return e;
	me = measure_volume(cd, path, o, u);
	if (e != SEAL_EXIT_OK)
		return e;
	if (me != SEAL_EXIT_OK)
		(void)dm_remove(name);
	return me;
}

enum seal_exit cmd_open(const struct seal_opts *cmdline, char **argv)
{
	const char *path = argv[0], *name = argv[1];
	_cleanup_crypt_ struct crypt_device *cd = NULL;
	_cleanup_(sealtab_volume_clear) struct sealtab_volume v = { 0 };
	struct seal_opts opts = *cmdline, *o = &opts;
	struct unlocked u = { 0 };
	enum seal_exit e;

	/* open NAME: a sealtab entry (a lone argument with a slash is a device) */
	if (!name && !strchr(path, '/')) {
		e = open_sealtab_resolve(path, o, &v);
		if (e != SEAL_EXIT_OK)
			return e;
		if (v.device) {
			path = v.device;
			name = v.name;
		}
	}
	if (!o->test_passphrase && !name)
		return fail(SEAL_EXIT_USAGE, path, "open needs a mapping NAME (or --test-passphrase)");
	if (o->defer_lock && !seal_in_initramfs())
		return fail(SEAL_EXIT_NOT_INITRAMFS, path,
			    "--defer-lock is for the initramfs only (no %s): outside it every unseal moves PCR %d at once",
			    SEAL_INITRD_RELEASE, SEAL_TPM_MEASURE_PCR);
	if (process_hygiene() < 0)
		return fail(SEAL_EXIT_FAILURE, path, "cannot harden the process: %s", strerror(errno));
	e = volume_load(path, true, &cd);
	if (e == SEAL_EXIT_OK)
		e = volume_check_seal(cd, path);
	if (e == SEAL_EXIT_OK)
		open_sealtab_netdev_hint(cd, &v);
	if (e == SEAL_EXIT_OK && reenc_in_progress(cd))
		e = fail(SEAL_EXIT_REENCRYPTING, path,
			 "a DEK rotation is in progress: it opens nowhere else, reencrypt --resume finishes it");
	if (e == SEAL_EXIT_OK && !o->test_passphrase)
		e = check_name(path, name);
	if (e != SEAL_EXIT_OK)
		return e;

	/* a seal-tpm2 secret that came out of the TPM was measured away already (unseal.h) */
	e = unlock_volume(cd, path, o, &u);
	/*
	 * A foreign TPM secret (systemd-tpm2, clevis tpm2) is spent too, whatever
	 * came of it: measured now unless activate() measures the volume.
	 */
	if ((u.foreign_tpm || u.foreign_tried) && (e != SEAL_EXIT_OK || o->test_passphrase)) {
		enum seal_exit me = measure_volume(cd, path, o, &u);

		if (e == SEAL_EXIT_OK)
			e = me;
	}
	if (e == SEAL_EXIT_OK && o->test_passphrase) {
		note(path, "keyslot %d unlocks the volume", u.keyslot);
	} else if (e == SEAL_EXIT_OK) {
		e = activate(cd, path, name, o, &u);
		if (e == SEAL_EXIT_OK)
			debug(path, "opened as /dev/mapper/%s (keyslot %d)", name, u.keyslot);
	}
	unlocked_clear(&u);
	return e;
}
