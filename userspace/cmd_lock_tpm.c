// SPDX-License-Identifier: GPL-2.0
/*
 * sealctl lock-tpm [REASON]: extend PCR 15 with every measurement `open
 * --defer-lock` left pending (pending.h), then with "seal:lock:REASON", so
 * that no tpm2 keyslot bound to PCR 15's reset value (the default) unseals
 * again until the next reboot; the pending records go only once all of it
 * is confirmed (a failure keeps them: the initramfs then stops the boot). The initramfs runs it before any shell, emergency
 * or rescue target and rd.break point, whether or not anything was unsealed
 * (dracut/90seal), and an administrator may run it by hand.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "commands.h"
#include "pending.h"
#include "report.h"
#include "tpm2.h"
#include "unlock.h"

#define REASON_MAX 32

static bool valid_reason(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > REASON_MAX)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

enum seal_exit cmd_lock_tpm(const struct seal_opts *o, char **argv)
{
	const char *reason = argv[0] ?: "locked";
	_cleanup_tpm_ struct seal_tpm *t = NULL;
	char event[sizeof("seal:lock:") + REASON_MAX];
	unsigned int deferred = 0;
	bool detail;
	int r;

	if (!valid_reason(reason))
		return fail(SEAL_EXIT_USAGE, NULL,
			    "invalid reason '%s' (up to %d of a-z, 0-9 and -)", reason, REASON_MAX);
	snprintf(event, sizeof(event), "seal:lock:%s", reason);
	r = seal_tpm_connect(seal_tpm_tcti(o->tcti), &t);
	if (r == 0)
		r = pending_extend(t, &deferred);
	if (r == 0)
		r = seal_tpm_pcr_event(t, SEAL_TPM_MEASURE_PCR, event, strlen(event), NULL);
	detail = r == -EIO || r == -EBADMSG;
	if (r == -EUCLEAN)
		return fail(SEAL_EXIT_FAILURE, NULL, "cannot read the pending records in %s; PCR %d not locked",
			    SEAL_PENDING_DIR, SEAL_TPM_MEASURE_PCR);
	if (r < 0)
		return fail(tpm_exit_code(r), NULL, "cannot extend PCR %d: %s%s%s%s",
			    SEAL_TPM_MEASURE_PCR, tpm_cause(r), detail ? " (" : "",
			    detail ? seal_tpm_error(t) : "", detail ? ")" : "");
	r = pending_clear();
	if (r < 0)
		note(NULL, "cannot remove the pending records in %s: %s", SEAL_PENDING_DIR,
		     strerror(-r));
	debug(NULL, "PCR %d extended (%u deferred, then %s): no tpm2 keyslot bound to it unseals until reboot",
	      SEAL_TPM_MEASURE_PCR, deferred, event);
	return SEAL_EXIT_OK;
}
