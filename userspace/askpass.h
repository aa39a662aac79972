/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Passphrases, PINs and recovery keys in, straight into secret buffers
 * (no stdio buffering, no copies): from a key file, from the terminal
 * with echo off, or from systemd's password agents when there is no
 * terminal in a systemd boot (systemd-ask-password).
 *
 * Returns 0 or a negative errno; -ENOTTY means no source is available.
 */
#ifndef SEAL_ASKPASS_H
#define SEAL_ASKPASS_H

#include "secret.h"

#define SEAL_PASSPHRASE_MAX	512
#define SEAL_KEYFILE_MAX	8192

/* Whole file, verbatim ("-" = standard input). */
int askpass_file(const char *path, struct secret **ret);
/*
 * A key file named in the sealtab: like askpass_file() (no "-"), but only a regular file
 * owned by root that neither group nor others may access. askpass_private_check() is that
 * test on an open file: -EINVAL not a regular file, -EPERM not root's, -EACCES group or
 * others have some access.
 */
int askpass_private_file(const char *path, struct secret **ret);
int askpass_private_check(int fd);
/* One line, without its newline. @id names the request for agents. */
int askpass_prompt(const char *prompt, const char *id, struct secret **ret);
/* A PIN from a file: like askpass_file(), without the line's newline (as the prompt). */
int askpass_pin_file(const char *path, struct secret **ret);
/* A new passphrase: from @file, else prompted twice and compared. */
int askpass_new(const char *file, const char *prompt, const char *id, struct secret **ret);

/* 64 lowercase hex digits in 8 dash-separated groups, from getrandom(). */
int recovery_key_generate(struct secret **ret);

#endif /* SEAL_ASKPASS_H */
