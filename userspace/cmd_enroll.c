// SPDX-License-Identifier: GPL-2.0
/*
 * sealctl enroll DEV tpm2|passphrase|recovery: one more KEK keyslot
 * (tang and clevis: cmd_enroll_clevis.c).
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
#include "tpm2.h"
#include "unlock.h"

enum seal_exit cmd_enroll(const struct seal_opts *o, char **argv)
{
	const char *path = argv[0], *kind = argv[1];
	_cleanup_crypt_ struct crypt_device *cd = NULL;
	_cleanup_secret_ struct secret *pass = NULL;
	_cleanup_free_ char *prompt = NULL;
	struct unlocked u = { 0 };
	struct seal_opts uo;
	char pcrs[80];
	enum seal_exit e;
	int slot = -1, r;

	if (!strcmp(kind, "tang") || !strcmp(kind, "clevis"))
		return cmd_enroll_clevis(o, argv);
	if (strcmp(kind, "tpm2") && strcmp(kind, "passphrase") && strcmp(kind, "recovery"))
		return fail(SEAL_EXIT_USAGE, path, "unknown KEK type '%s' (tpm2, passphrase, recovery, tang, clevis)",
			    kind);
	if (argv[2])
		return fail(SEAL_EXIT_USAGE, path, "enroll %s takes no further argument", kind);
	if (process_hygiene() < 0)
		return fail(SEAL_EXIT_FAILURE, path, "cannot harden the process: %s", strerror(errno));
	e = volume_load(path, false, &cd);
	if (e != SEAL_EXIT_OK)
		return e;
	if (!strcmp(kind, "passphrase")) {
		/* ask for the new one before unlocking, so a typo costs no unlock */
		if (asprintf(&prompt, "New passphrase for %s: ", path) < 0)
			return SEAL_EXIT_FAILURE;
		r = askpass_new(o->new_key_file, prompt, path, &pass);
		if (r < 0)
			return fail(r == -ENOTTY || r == -ENOENT ? SEAL_EXIT_NO_KEY : SEAL_EXIT_BAD_PASSPHRASE,
				    path, "cannot read a new passphrase: %s",
				    r == -EBADMSG ? "the two entries differ" :
				    r == -ENOTTY ? "no terminal (use --new-key-file)" : strerror(-r));
	}
	e = unlock_volume(cd, path, unlock_opts(o, &uo), &u);
	if (e != SEAL_EXIT_OK)
		return e;

	if (!strcmp(kind, "tpm2"))
		e = add_tpm2_slot(cd, path, u.volume_key, o, o->pcrs, o->pin, &slot);
	else if (pass)
		e = add_passphrase_slot(cd, path, u.volume_key, pass, &slot);
	else
		e = add_recovery_slot(cd, path, u.volume_key, &slot);
	unlocked_clear(&u);
	if (e != SEAL_EXIT_OK)
		return e;
	if (!strcmp(kind, "tpm2")) {
		seal_tpm_format_pcrs(o->pcrs, pcrs, sizeof(pcrs));
		note(path, "tpm2 enrolled in keyslot %d (PCRs %s%s)", slot, pcrs, o->pin ? ", PIN" : "");
		if (!(o->pcrs & SEAL_TPM_CMDLINE_PCRS))
			note(path, "warning: PCRs %s do not cover the kernel command line "
			     "(GRUB: 8; systemd-boot: 12; unified kernel image: 11): whoever edits the "
			     "boot entry (rdinit=/bin/sh) gets past the initramfs with the TPM willing", pcrs);
	} else {
		note(path, "%s enrolled in keyslot %d", kind, slot);
	}
	return SEAL_EXIT_OK;
}
