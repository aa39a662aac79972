/* SPDX-License-Identifier: GPL-2.0 */
/*
 * `sealctl open NAME` with NAME an entry of the sealtab (--sealtab, default /etc/sealtab):
 * its DEVICE, its key file (which must be root's and private: exit 24 otherwise, before
 * any unlock is tried) and its tries=, tcti=, readonly options, unless the command line
 * gave them. A NAME that is no entry but names a file stays a device (v->device NULL);
 * neither: one line, exit 23. Once the volume's header is read, open_sealtab_netdev_hint
 * warns (one line, nothing refused) when a clevis token binds it to tang but the entry
 * lacks _netdev: its seal-open@NAME.service then runs before the network is up.
 */
#ifndef SEAL_OPEN_SEALTAB_H
#define SEAL_OPEN_SEALTAB_H

#include <stdbool.h>

#include "exitcode.h"
#include "options.h"

struct crypt_device;

/* what the entry lent: *o points into it */
struct sealtab_volume {
	char *device;		/* NULL: ARG is a device after all */
	char *name;
	char *key_file;
	char *tcti;
	bool netdev;		/* the entry has _netdev */
};

enum seal_exit open_sealtab_resolve(const char *arg, struct seal_opts *o, struct sealtab_volume *v);
void sealtab_volume_clear(struct sealtab_volume *v);
void open_sealtab_netdev_hint(struct crypt_device *cd, const struct sealtab_volume *v);

#endif /* SEAL_OPEN_SEALTAB_H */
