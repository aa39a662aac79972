/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Running clevis (and the tools of its tang pin) as a child process: the
 * input goes to its stdin through a pipe, its stdout comes back through a
 * pipe into locked memory; nothing secret is ever in argv, the environment
 * or a file. A deadline bounds the run: past it, the child's whole process
 * group (clevis, its pins, curl) is killed.
 */
#ifndef SEAL_CLEVIS_H
#define SEAL_CLEVIS_H

#include <stdbool.h>
#include <stddef.h>

#include "secret.h"

/* sealctl open's default time for one clevis token (--clevis-timeout) */
#define SEAL_CLEVIS_TIMEOUT_S 10

struct clevis_run {
	unsigned int timeout_s;	/* 0: no limit (an interactive enroll) */
	bool tty;		/* keep the controlling terminal (clevis may ask there) */
	char err[160];		/* the child's last line on stderr, on failure */
};

/*
 * Run @argv (argv[0] found on $PATH) with @in (@in_len bytes) on stdin.
 * Returns 0 with the child's stdout in *@out (a secret, NUL-terminated
 * after len); -ETIMEDOUT past the deadline, -EIO when the child failed
 * or could not be run (run->err says why).
 */
int clevis_exec(struct clevis_run *run, const char *const argv[], const void *in, size_t in_len,
		struct secret **out);

#endif /* SEAL_CLEVIS_H */
