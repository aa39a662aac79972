/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Handing the DEK to the kernel: a `logon` key (never readable back by
 * userspace) in this thread's keyring, dropped once the table is loaded.
 */
#ifndef SEAL_KEYRING_H
#define SEAL_KEYRING_H

#include <stddef.h>
#include <keyutils.h>

/* "seal:<LUKS UUID>", the description the dm table names. */
int keyring_description(const char *uuid, char *buf, size_t size);
int keyring_add_logon(const char *description, const void *key, size_t len,
		      key_serial_t *ret);
/* Revoke and unlink; safe on 0. */
void keyring_drop(key_serial_t key);

#endif /* SEAL_KEYRING_H */
