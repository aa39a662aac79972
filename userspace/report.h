/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one error-reporting style: a single line on stderr,
 *
 *   sealctl: <device or name>: <cause>
 *
 * Library layers (tpm2.c, token.c, luks.c, dm.c, keyring.c) never print;
 * they return a negative errno and the command that decides prints once.
 */
#ifndef SEAL_REPORT_H
#define SEAL_REPORT_H

#include <stdbool.h>

#include "exitcode.h"

void report_set_verbose(bool verbose);
bool report_verbose(void);

/* Print the line and return @code, so callers can `return fail(...)`. */
enum seal_exit fail(enum seal_exit code, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* An informational line in the same shape (progress, fallbacks). */
void note(const char *what, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Only with --verbose. */
void debug(const char *what, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* --json output on stdout: pretty, slashes unescaped. */
struct json_object;
void print_json(struct json_object *o);

/* Route libcryptsetup and libdevmapper messages through debug(). */
void report_capture_libraries(void);

#endif /* SEAL_REPORT_H */
