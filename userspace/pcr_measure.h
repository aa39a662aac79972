/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sealctl's extend of PCR 15 with a measurement (measure.h) after an unlock
 * or a foreign unseal, through the TPM of --tcti, printing its own failure
 * line. Our own unseals are measured in unseal.c; this is for the rest
 * (open's volume measurement, clevis's and systemd's TPM secrets).
 */
#ifndef SEAL_PCR_MEASURE_H
#define SEAL_PCR_MEASURE_H

#include <stdbool.h>

#include "exitcode.h"
#include "options.h"

/* PCR 15 <- @measurement; a missing TPM only earns a note unless @must. */
enum seal_exit pcr_measure(const char *path, const struct seal_opts *o, const char *measurement,
			   bool must);

/* PCR 15 <- "seal:<@uuid>:unsealed": a foreign TPM secret of that volume came out. */
enum seal_exit pcr_measure_unsealed(const char *path, const struct seal_opts *o, const char *uuid,
				    bool must);

#endif /* SEAL_PCR_MEASURE_H */
