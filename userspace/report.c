// SPDX-License-Identifier: GPL-2.0
/*
 * One line per error, naming the device and the cause (see report.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>
#include <libcryptsetup.h>
#include <libdevmapper.h>

#include "report.h"

/* Set once from the command line; read by every message. */
static bool verbose;

const char *seal_exit_text(enum seal_exit code)
{
	switch (code) {
#define SEAL_EXIT_TEXT(name, num, text) case SEAL_EXIT_##name: return text;
	SEAL_EXIT_CODES(SEAL_EXIT_TEXT)
#undef SEAL_EXIT_TEXT
	}
	return "unknown";
}

void report_set_verbose(bool on)
{
	verbose = on;
}

bool report_verbose(void)
{
	return verbose;
}

static void vline(const char *what, const char *fmt, va_list ap)
{
	flockfile(stderr);
	fputs("sealctl: ", stderr);
	if (what)
		fprintf(stderr, "%s: ", what);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

enum seal_exit fail(enum seal_exit code, const char *what, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline(what, fmt, ap);
	va_end(ap);
	return code;
}

void note(const char *what, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline(what, fmt, ap);
	va_end(ap);
}

void debug(const char *what, const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	vline(what, fmt, ap);
	va_end(ap);
}

static void crypt_log_cb(int level, const char *msg, void *usrptr)
{
	size_t len = strlen(msg);

	(void)usrptr;
	if (level == CRYPT_LOG_DEBUG || level == CRYPT_LOG_DEBUG_JSON)
		return;
	while (len && msg[len - 1] == '\n')
		len--;
	debug("libcryptsetup", "%.*s", (int)len, msg);
}

static void dm_log_cb(int level, const char *file, int line, int dm_errno,
		      const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	(void)file;
	(void)line;
	(void)dm_errno;
	if (!verbose || level > 3 /* LOG_ERR */)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	debug("libdevmapper", "%s", buf);
}

void report_capture_libraries(void)
{
	crypt_set_log_callback(NULL, crypt_log_cb, NULL);
	dm_log_with_errno_init(dm_log_cb);
}

void print_json(struct json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
					       JSON_C_TO_STRING_NOSLASHESCAPE));
}
