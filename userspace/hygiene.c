// SPDX-License-Identifier: GPL-2.0
/*
 * Process hygiene for commands that handle key material.
 *
 * mlockall() is deliberately not used: Argon2id keyslots make libcryptsetup
 * allocate up to 1 GiB of working memory, which must not be pinned (an
 * initramfs would run out of memory). Secret buffers are locked one by one
 * instead (secret.c); libcryptsetup wipes its own copies.
 */
#include <errno.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "hygiene.h"

int process_hygiene(void)
{
	const struct rlimit no_core = { 0, 0 };

	/* not dumpable: no core file, /proc/PID/mem and ptrace denied */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return -errno;
	if (setrlimit(RLIMIT_CORE, &no_core) < 0)
		return -errno;
	return 0;
}
