/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One function per sealctl command, each in cmd_<name>.c. They print their
 * own failure line and return an exit code (exitcode.h).
 */
#ifndef SEAL_COMMANDS_H
#define SEAL_COMMANDS_H

#include "exitcode.h"
#include "options.h"

enum seal_exit cmd_format(const struct seal_opts *o, char **argv);
enum seal_exit cmd_enroll(const struct seal_opts *o, char **argv);
enum seal_exit cmd_enroll_clevis(const struct seal_opts *o, char **argv);
enum seal_exit cmd_list(const struct seal_opts *o, char **argv);
enum seal_exit cmd_remove_slot(const struct seal_opts *o, char **argv);
enum seal_exit cmd_regen(const struct seal_opts *o, char **argv);
enum seal_exit cmd_rotate_kek(const struct seal_opts *o, char **argv);
enum seal_exit cmd_open(const struct seal_opts *o, char **argv);
enum seal_exit cmd_close(const struct seal_opts *o, char **argv);
enum seal_exit cmd_status(const struct seal_opts *o, char **argv);
enum seal_exit cmd_reencrypt(const struct seal_opts *o, char **argv);
enum seal_exit cmd_lock_tpm(const struct seal_opts *o, char **argv);

/* "3" -> 3 within [0, max); -EINVAL otherwise. */
int parse_keyslot(const char *s, int max);

#endif /* SEAL_COMMANDS_H */
