/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SEAL_HYGIENE_H
#define SEAL_HYGIENE_H

/*
 * Called first by every command that touches keys: no core dumps, no
 * ptrace attach by other processes of the same user, all memory locked
 * (nothing swapped out; hygiene.c says when it cannot be).
 * Returns 0 or a negative errno.
 */
int process_hygiene(void);

#endif /* SEAL_HYGIENE_H */
