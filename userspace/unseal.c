// SPDX-License-Identifier: GPL-2.0
/*
 * Unseal, then measure before anything else can happen (see unseal.h).
 */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "cleanup.h"
#include "measure.h"
#include "pending.h"
#include "tpm_late.h"
#include "unseal.h"

int seal_unseal_once(struct seal_tpm *t, const char *luks_uuid,
		     const struct seal_tpm_sealed *sealed, const struct secret *pin,
		     struct secret **ret)
{
	_cleanup_secret_ struct secret *secret = NULL;
	char measurement[SEAL_MEASUREMENT_MAX];
	sigset_t all, old;
	int r, m;

	r = measurement_build(luks_uuid, NULL, measurement, sizeof(measurement));
	if (r < 0)
		return r;
	r = seal_tpm_late_lock(t, &sealed->primary_name);
	if (r < 0)
		return r;
	/* a SIGINT or SIGTERM between the unseal and the extend would skip the extend */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	r = seal_tpm_unseal(t, sealed, pin, &secret);
	m = r < 0 ? 0 : seal_tpm_pcr_event(t, SEAL_TPM_MEASURE_PCR, measurement,
					    strlen(measurement), &sealed->primary_name);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (r < 0)
		return r;
	if (m < 0)
		return -ENOTRECOVERABLE;
	*ret = TAKE_PTR(secret);
	return 0;
}

int seal_unseal_deferred(struct seal_tpm *t, const char *luks_uuid,
			 const struct seal_tpm_sealed *sealed, const struct secret *pin,
			 struct secret **ret)
{
	char measurement[SEAL_MEASUREMENT_MAX];
	int r;

	if (!seal_in_initramfs())
		return -EPERM;
	r = measurement_build(luks_uuid, NULL, measurement, sizeof(measurement));
	if (r < 0)
		return r;
	r = seal_tpm_late_lock(t, &sealed->primary_name);
	if (r < 0)
		return r;
	/* the record first: no unseal without one, whatever happens after it */
	if (pending_add(luks_uuid, "unsealed", measurement) < 0)
		return -EROFS;
	return seal_tpm_unseal(t, sealed, pin, ret);
}
