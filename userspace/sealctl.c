// SPDX-License-Identifier: GPL-2.0
/*
 * sealctl: command line, dispatch. The commands live in cmd_*.c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clevis.h"
#include "commands.h"
#include "luks.h"
#include "report.h"
#include "secret.h"
#include "tpm2.h"

/* the one version, debian/changelog's: userspace/Makefile passes mk/version's */
#ifndef SEAL_VERSION
#error "SEAL_VERSION is not defined: build with userspace/Makefile (it passes mk/version)"
#endif

struct command {
	const char *name;
	enum seal_exit (*run)(const struct seal_opts *o, char **argv);
	int min_args, max_args;
	const char *usage;
};

static const struct command commands[] = {
	{ "format",      cmd_format,      1, 1, "format DEV" },
	{ "enroll",      cmd_enroll,      2, 4, "enroll DEV tpm2|passphrase|recovery | tang URL | clevis PIN CONFIG" },
	{ "list",        cmd_list,        1, 1, "list DEV" },
	{ "remove-slot", cmd_remove_slot, 2, 2, "remove-slot DEV SLOT" },
	{ "rotate-kek",  cmd_rotate_kek,  1, 2, "rotate-kek DEV [SLOT]" },
	{ "regen",       cmd_regen,       2, 2, "regen DEV SLOT" },
	{ "reencrypt",   cmd_reencrypt,   1, 2, "reencrypt DEV|NAME | reencrypt --resume DEV NAME" },
	{ "open",        cmd_open,        1, 2, "open DEV NAME | open NAME" },
	{ "close",       cmd_close,       1, 1, "close NAME" },
	{ "status",      cmd_status,      1, 1, "status NAME|DEV" },
	{ "lock-tpm",    cmd_lock_tpm,    0, 1, "lock-tpm [REASON]" },
};

/*
 * Every option once: parsing, --help and (through a test) sealctl(8) come
 * from this table.
 *   id                short long name          argument help
 */
#define SEAL_OPTIONS(X)								\
	X(KEY_FILE,        'd', "key-file",        "FILE", "existing passphrase (format: the first one); - is stdin") \
	X(NEW_KEY_FILE,    0,   "new-key-file",    "FILE", "new passphrase for enroll passphrase / rotate-kek") \
	X(PCRS,            0,   "pcrs",            "LIST", "PCRs for enroll tpm2 (default 7+15; 15 at its reset value)") \
	X(PIN,             0,   "pin",             NULL,   "protect the tpm2 keyslot with a PIN as well") \
	X(PIN_FILE,        0,   "pin-file",        "FILE", "read the PIN from FILE") \
	X(THUMBPRINT,      0,   "thumbprint",      "TP",   "enroll tang/clevis: trusted tang signing key(s), comma-separated") \
	X(CLEVIS_TIMEOUT,  0,   "clevis-timeout",  "SEC",  "seconds for one clevis token or tang request (default 10)") \
	X(TCTI,            0,   "tcti",            "CONF", "TPM2 TCTI (default $SEAL_TCTI or device:/dev/tpmrm0)") \
	X(SECTOR_SIZE,     0,   "sector-size",     "N",    "format: 512 or 4096 (default)") \
	X(TRIES,           0,   "tries",           "N",    "passphrase prompts before giving up (default 3)") \
	X(SEALTAB,         0,   "sealtab",         "FILE", "open NAME: the volumes (default /etc/sealtab)") \
	X(TEST_PASSPHRASE, 0,   "test-passphrase", NULL,   "open: unlock only, create no mapping") \
	X(TOKEN_ONLY,      0,   "token-only",      NULL,   "open: never ask for a passphrase") \
	X(NO_TOKENS,       0,   "no-tokens",       NULL,   "ignore tokens, use the passphrase or key file") \
	X(READ_ONLY,       0,   "readonly",        NULL,   "open: read-only mapping") \
	X(DEFER_LOCK,      0,   "defer-lock",      NULL,   "open, initramfs only: PCR 15 moves at lock-tpm, not now") \
	X(RESUME,          0,   "resume",          NULL,   "reencrypt: continue a stopped rotation") \
	X(MAX_RATE,        0,   "max-rate",        "RATE", "reencrypt: at most RATE bytes/s (suffix K, M, G: KiB...)") \
	X(JSON,            0,   "json",            NULL,   "list, status: JSON output") \
	X(FORCE,           'f', "force",           NULL,   "format over signatures; remove the last keyslot") \
	X(VERBOSE,         'v', "verbose",         NULL,   "library messages and details") \
	X(HELP,            'h', "help",            NULL,   "this text") \
	X(VERSION,         'V', "version",         NULL,   "the version")

enum option_id {
#define OPTION_ID(id, sh, name, arg, help) OPT_##id,
	SEAL_OPTIONS(OPTION_ID)
#undef OPTION_ID
	OPT_COUNT
};

struct option_doc {
	char short_name;
	const char *arg;
	const char *help;
};

static const struct option_doc option_docs[] = {
#define OPTION_DOC(id, sh, name, a, h) [OPT_##id] = { sh, a, h },
	SEAL_OPTIONS(OPTION_DOC)
#undef OPTION_DOC
};

/* getopt_long returns the short letter, or 0x100 + id for long-only options */
static const struct option long_options[] = {
#define OPTION_LONG(id, sh, name, a, h) \
	{ name, a ? required_argument : no_argument, NULL, sh ? sh : 0x100 + OPT_##id },
	SEAL_OPTIONS(OPTION_LONG)
#undef OPTION_LONG
	{ }
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: sealctl [OPTIONS] COMMAND ARGS\n\nCommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %s\n", commands[i].usage);
	fprintf(f, "\nOptions:\n");
	for (int i = 0; i < OPT_COUNT; i++) {
		const struct option_doc *d = &option_docs[i];
		char left[48];

		snprintf(left, sizeof(left), "%c%c%c --%s%s%s", d->short_name ? '-' : ' ',
			 d->short_name ?: ' ', d->short_name ? ',' : ' ', long_options[i].name,
			 d->arg ? " " : "", d->arg ?: "");
		fprintf(f, "  %-26s %s\n", left, d->help);
	}
	fprintf(f, "\nSee sealctl(8).\n");
}

static enum option_id option_of(int c)
{
	if (c >= 0x100)
		return c - 0x100;
	for (int i = 0; i < OPT_COUNT; i++)
		if (option_docs[i].short_name == c)
			return i;
	return OPT_COUNT;
}

static int parse_uint(const char *s, unsigned int *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || !*s || *end || v > 1u << 20)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* "50M" -> 50 MiB; at least 4 KiB/s. */
static int parse_rate(const char *s, uint64_t *ret)
{
	static const char units[] = "KMG";
	const char *u;
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -EINVAL;
	if (*end) {
		u = strchr(units, *end);
		if (!u || end[1])
			return -EINVAL;
		for (long i = 0; i <= u - units; i++) {
			if (v > UINT64_MAX / 1024)
				return -EINVAL;
			v *= 1024;
		}
	}
	if (v < 4096)
		return -EINVAL;
	*ret = v;
	return 0;
}

static enum seal_exit parse_options(int argc, char **argv, struct seal_opts *o)
{
	char shorts[2 * OPT_COUNT + 1];
	size_t n = 0;
	int c;

	for (int i = 0; i < OPT_COUNT; i++) {
		if (!option_docs[i].short_name)
			continue;
		shorts[n++] = option_docs[i].short_name;
		if (option_docs[i].arg)
			shorts[n++] = ':';
	}
	shorts[n] = '\0';

	*o = (struct seal_opts){ .pcrs = SEAL_TPM_DEFAULT_PCRS, .tries = 3,
				 .clevis_timeout = SEAL_CLEVIS_TIMEOUT_S };
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, long_options, NULL)) != -1) {
		switch (option_of(c)) {
		case OPT_KEY_FILE:
			o->key_file = optarg;
			break;
		case OPT_NEW_KEY_FILE:
			o->new_key_file = optarg;
			break;
		case OPT_PCRS:
			if (seal_tpm_parse_pcrs(optarg, &o->pcrs) < 0)
				return fail(SEAL_EXIT_USAGE, NULL, "invalid --pcrs '%s' (e.g. 7+15, none)", optarg);
			o->pcrs_set = true;
			break;
		case OPT_PIN:
			o->pin = true;
			break;
		case OPT_PIN_FILE:
			o->pin_file = optarg;
			break;
		case OPT_THUMBPRINT:
			o->thumbprint = optarg;
			break;
		case OPT_CLEVIS_TIMEOUT:
			if (parse_uint(optarg, &o->clevis_timeout) < 0 || !o->clevis_timeout)
				return fail(SEAL_EXIT_USAGE, NULL, "--clevis-timeout must be a positive number of seconds");
			break;
		case OPT_TCTI:
			o->tcti = optarg;
			break;
		case OPT_SECTOR_SIZE:
			if (parse_uint(optarg, &o->sector_size) < 0 ||
			    (o->sector_size != 512 && o->sector_size != 4096))
				return fail(SEAL_EXIT_USAGE, NULL, "--sector-size must be 512 or 4096");
			break;
		case OPT_TRIES:
			if (parse_uint(optarg, &o->tries) < 0 || !o->tries)
				return fail(SEAL_EXIT_USAGE, NULL, "--tries must be a positive number");
			o->tries_set = true;
			break;
		case OPT_SEALTAB:
			o->sealtab = optarg;
			break;
		case OPT_TEST_PASSPHRASE:
			o->test_passphrase = true;
			break;
		case OPT_TOKEN_ONLY:
			o->token_only = true;
			break;
		case OPT_NO_TOKENS:
			o->no_tokens = true;
			break;
		case OPT_READ_ONLY:
			o->read_only = true;
			break;
		case OPT_DEFER_LOCK:
			o->defer_lock = true;
			break;
		case OPT_RESUME:
			o->resume = true;
			break;
		case OPT_MAX_RATE:
			if (parse_rate(optarg, &o->max_rate) < 0)
				return fail(SEAL_EXIT_USAGE, NULL, "--max-rate must be a positive number of bytes/s (suffix K, M or G)");
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_FORCE:
			o->force = true;
			break;
		case OPT_VERBOSE:
			report_set_verbose(true);
			break;
		case OPT_HELP:
			usage(stdout);
			exit(SEAL_EXIT_OK);
		case OPT_VERSION:
			printf("sealctl %s\n", SEAL_VERSION);
			exit(SEAL_EXIT_OK);
		case OPT_COUNT:
			return fail(SEAL_EXIT_USAGE, NULL, "unknown option or missing argument: %s (see --help)",
				    argv[optind - 1]);
		}
	}
	return SEAL_EXIT_OK;
}

int main(int argc, char **argv)
{
	const struct command *cmd = NULL;
	struct seal_opts o;
	enum seal_exit e;
	int nargs;

	if (seal_tss_log_off() < 0)
		return fail(SEAL_EXIT_FAILURE, NULL, "cannot turn tpm2-tss logging off");
	e = parse_options(argc, argv, &o);
	if (e != SEAL_EXIT_OK)
		return e;
	if (optind >= argc) {
		usage(stderr);
		return SEAL_EXIT_USAGE;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[optind], commands[i].name))
			cmd = &commands[i];
	if (!cmd)
		return fail(SEAL_EXIT_USAGE, NULL, "unknown command '%s' (see --help)", argv[optind]);
	if (o.defer_lock && cmd->run != cmd_open)
		return fail(SEAL_EXIT_USAGE, NULL, "--defer-lock is an option of open only");
	nargs = argc - optind - 1;
	if (nargs < cmd->min_args || nargs > cmd->max_args)
		return fail(SEAL_EXIT_USAGE, NULL, "usage: sealctl %s", cmd->usage);

	report_capture_libraries();
	e = cmd->run(&o, argv + optind + 1);
	/* whatever a library left in a stack frame below main goes now */
	secret_scrub_stack();
	return e;
}
