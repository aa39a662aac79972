// SPDX-License-Identifier: GPL-2.0
/*
 * Lock a TPM2 that appeared after the initramfs, without udev (see tpm_late.h).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "tpm_late.h"

int seal_tpm_late_lock(struct seal_tpm *t, const TPM2B_NAME *primary)
{
	int r;

	if (access(SEAL_TPM_NOT_LOCKED, F_OK) < 0)
		return 0;
	r = seal_tpm_pcr_at_reset(t, SEAL_TPM_MEASURE_PCR, primary);
	if (r <= 0)
		return r;
	r = seal_tpm_pcr_event(t, SEAL_TPM_MEASURE_PCR, SEAL_TPM_LATE_EVENT,
			       strlen(SEAL_TPM_LATE_EVENT), primary);
	return r < 0 ? r : -EPERM;
}
