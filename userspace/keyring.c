// SPDX-License-Identifier: GPL-2.0
/*
 * The DEK's short stay in the kernel keyring (see keyring.h).
 */
#include <errno.h>
#include <stdio.h>

#include "keyring.h"

int keyring_description(const char *uuid, char *buf, size_t size)
{
	int n = snprintf(buf, size, "seal:%s", uuid);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int keyring_add_logon(const char *description, const void *key, size_t len,
		      key_serial_t *ret)
{
	/*
	 * The thread keyring: the dm ioctl runs in this thread, so the target
	 * finds the key, and no other process ever can.
	 */
	key_serial_t k = add_key("logon", description, key, len, KEY_SPEC_THREAD_KEYRING);

	if (k < 0)
		return -errno;
	*ret = k;
	return 0;
}

void keyring_drop(key_serial_t key)
{
	if (!key)
		return;
	(void)keyctl_revoke(key);
	(void)keyctl_unlink(key, KEY_SPEC_THREAD_KEYRING);
}
