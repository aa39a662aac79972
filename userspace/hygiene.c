// SPDX-License-Identifier: GPL-2.0
/*
 * Process hygiene for commands that handle key material.
 *
 * All of the process's memory is locked, now and later (mlockall), so that
 * nothing of it reaches swap: not only our secret buffers (secret.c locks
 * those anyway) but every copy the libraries make in their heap and stacks
 * (tpm2-tss, OpenSSL; heapwipe.c wipes them when freed, which swap would not
 * undo).
 *
 * MCL_ONFAULT locks pages as they are touched instead of populating every
 * mapping up front, so the resident size is what it would be unlocked. That
 * answers the earlier reason for not locking everything, the up to 1 GiB an
 * Argon2id keyslot makes libcryptsetup allocate: in an initramfs (no swap)
 * that memory is resident and unreclaimable whether locked or not; with swap,
 * the Argon2 work area is derived from the passphrase (its first blocks let a
 * guess be checked without paying the memory cost) and belongs out of swap
 * too. libcryptsetup warns itself when a keyslot needs more than the memory
 * there is.
 *
 * MCL_FUTURE under a finite RLIMIT_MEMLOCK would make later allocations fail
 * (the Argon2 area, thread stacks), so memory is locked only where the limit
 * does not apply (CAP_IPC_LOCK) or can be lifted (CAP_SYS_RESOURCE): as root.
 * Otherwise, as when mlockall itself fails, a note says so and the command
 * goes on: the wipes still hold, swap is the residual risk (threat-model.md).
 */
#include <errno.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hygiene.h"
#include "report.h"

static bool may_lock_unbounded(void)
{
	const struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3] = { 0 };

	if (setrlimit(RLIMIT_MEMLOCK, &unlimited) == 0)
		return true;
	if (syscall(SYS_capget, &hdr, caps) < 0)
		return false;
	return caps[CAP_TO_INDEX(CAP_IPC_LOCK)].effective & CAP_TO_MASK(CAP_IPC_LOCK);
}

int process_hygiene(void)
{
	const struct rlimit no_core = { 0, 0 };

	/* not dumpable: no core file, /proc/PID/mem and ptrace denied */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return -errno;
	if (setrlimit(RLIMIT_CORE, &no_core) < 0)
		return -errno;
	if (!may_lock_unbounded())
		note(NULL, "memory not locked (needs CAP_IPC_LOCK): key material may reach swap");
	else if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) < 0)
		note(NULL, "memory not locked: %s: key material may reach swap", strerror(errno));
	return 0;
}
