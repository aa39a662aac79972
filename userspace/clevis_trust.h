/* SPDX-License-Identifier: GPL-2.0 */
/*
 * No trust on first use without saying so: every tang pin of a clevis
 * config gets the thumbprint ("thp") of a signing key of its server's
 * advertisement, one the administrator named (--thumbprint) or confirmed on
 * the terminal after seeing it. Without either, the enrollment is refused.
 */
#ifndef SEAL_CLEVIS_TRUST_H
#define SEAL_CLEVIS_TRUST_H

#include "exitcode.h"
#include "options.h"

struct json_object;

/* Walk @cfg of pin @pin (sss nests), complete each tang pin's "thp". */
enum seal_exit clevis_trust_config(const char *path, const char *pin, struct json_object *cfg,
				   const struct seal_opts *o);

#endif /* SEAL_CLEVIS_TRUST_H */
