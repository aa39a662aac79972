// SPDX-License-Identifier: GPL-2.0
/*
 * Extend PCR 15 with a measurement, for sealctl's commands (see pcr_measure.h).
 */
#include <errno.h>
#include <string.h>

#include "cleanup.h"
#include "measure.h"
#include "pcr_measure.h"
#include "report.h"
#include "tpm2.h"
#include "unlock.h"

enum seal_exit pcr_measure(const char *path, const struct seal_opts *o, const char *measurement,
			   bool must)
{
	_cleanup_tpm_ struct seal_tpm *t = NULL;
	int r;

	r = seal_tpm_connect(seal_tpm_tcti(o->tcti), &t);
	if (r == -ENODEV && !must) {
		debug(path, "no TPM2: PCR %d not extended", SEAL_TPM_MEASURE_PCR);
		return SEAL_EXIT_OK;
	}
	if (r == 0)
		r = seal_tpm_pcr_event(t, SEAL_TPM_MEASURE_PCR, measurement, strlen(measurement),
				       NULL);
	if (r < 0)
		return fail(tpm_exit_code(r), path, "cannot extend PCR %d: %s", SEAL_TPM_MEASURE_PCR,
			    tpm_cause(r));
	return SEAL_EXIT_OK;
}

enum seal_exit pcr_measure_unsealed(const char *path, const struct seal_opts *o, const char *uuid,
				    bool must)
{
	char measurement[SEAL_MEASUREMENT_MAX];
	int r;

	r = measurement_build(uuid, NULL, measurement, sizeof(measurement));
	if (r < 0)
		return fail(SEAL_EXIT_FAILURE, path, "cannot build the PCR measurement: %s", strerror(-r));
	return pcr_measure(path, o, measurement, must);
}
