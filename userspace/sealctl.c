// SPDX-License-Identifier: GPL-2.0
/*
 * sealctl: command line, dispatch. The commands live in cmd_*.c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "luks.h"
#include "report.h"
#include "tpm2.h"

#ifndef SEAL_VERSION
#define SEAL_VERSION "0.1"
#endif

struct command {
	const char *name;
	enum seal_exit (*run)(const struct seal_opts *o, char **argv);
	int min_args, max_args;
	const char *usage;
};

static const struct command commands[] = {
	{ "format",      cmd_format,      1, 1, "format DEV" },
	{ "enroll",      cmd_enroll,      2, 2, "enroll DEV tpm2|passphrase|recovery" },
	{ "list",        cmd_list,        1, 1, "list DEV" },
	{ "remove-slot", cmd_remove_slot, 2, 2, "remove-slot DEV SLOT" },
	{ "rotate-kek",  cmd_rotate_kek,  1, 2, "rotate-kek DEV [SLOT]" },
	{ "open",        cmd_open,        1, 2, "open DEV NAME" },
	{ "close",       cmd_close,       1, 1, "close NAME" },
	{ "status",      cmd_status,      1, 1, "status NAME|DEV" },
};

enum {
	OPT_NEW_KEY_FILE = 0x100,
	OPT_PCRS,
	OPT_PIN,
	OPT_PIN_FILE,
	OPT_TCTI,
	OPT_SECTOR_SIZE,
	OPT_TRIES,
	OPT_TEST_PASSPHRASE,
	OPT_JSON,
	OPT_TOKEN_ONLY,
	OPT_NO_TOKENS,
	OPT_READ_ONLY,
};

static const struct option long_options[] = {
	{ "key-file",        required_argument, NULL, 'd' },
	{ "new-key-file",    required_argument, NULL, OPT_NEW_KEY_FILE },
	{ "pcrs",            required_argument, NULL, OPT_PCRS },
	{ "pin",             no_argument,       NULL, OPT_PIN },
	{ "pin-file",        required_argument, NULL, OPT_PIN_FILE },
	{ "tcti",            required_argument, NULL, OPT_TCTI },
	{ "sector-size",     required_argument, NULL, OPT_SECTOR_SIZE },
	{ "tries",           required_argument, NULL, OPT_TRIES },
	{ "test-passphrase", no_argument,       NULL, OPT_TEST_PASSPHRASE },
	{ "json",            no_argument,       NULL, OPT_JSON },
	{ "token-only",      no_argument,       NULL, OPT_TOKEN_ONLY },
	{ "no-tokens",       no_argument,       NULL, OPT_NO_TOKENS },
	{ "readonly",        no_argument,       NULL, OPT_READ_ONLY },
	{ "force",           no_argument,       NULL, 'f' },
	{ "verbose",         no_argument,       NULL, 'v' },
	{ "help",            no_argument,       NULL, 'h' },
	{ "version",         no_argument,       NULL, 'V' },
	{ }
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: sealctl [OPTIONS] COMMAND ARGS\n\nCommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %s\n", commands[i].usage);
	fprintf(f, "\nOptions:\n"
		"  -d, --key-file FILE     existing passphrase (format: the first one); - is stdin\n"
		"      --new-key-file FILE new passphrase for enroll passphrase / rotate-kek\n"
		"      --pcrs LIST         PCRs for enroll tpm2 (default 7+15; 15 at its reset value)\n"
		"      --pin               protect the tpm2 keyslot with a PIN as well\n"
		"      --pin-file FILE     read the PIN from FILE\n"
		"      --tcti CONF         TPM2 TCTI (default $SEAL_TCTI or device:/dev/tpmrm0)\n"
		"      --sector-size N     format: 512 or 4096 (default)\n"
		"      --tries N           passphrase prompts before giving up (default 3)\n"
		"      --test-passphrase   open: unlock only, create no mapping\n"
		"      --token-only        open: never ask for a passphrase\n"
		"      --no-tokens         ignore tokens, use the passphrase or key file\n"
		"      --readonly          open: read-only mapping\n"
		"      --json              list/status: JSON output\n"
		"  -f, --force             format over signatures; remove the last keyslot\n"
		"  -v, --verbose           library messages and details\n"
		"  -h, --help, -V, --version\n"
		"\nSee sealctl(8).\n");
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

static enum seal_exit parse_options(int argc, char **argv, struct seal_opts *o)
{
	int c;

	*o = (struct seal_opts){ .pcrs = SEAL_TPM_DEFAULT_PCRS, .tries = 3 };
	while ((c = getopt_long(argc, argv, "d:fvhV", long_options, NULL)) != -1) {
		switch (c) {
		case 'd':
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
			break;
		case OPT_TEST_PASSPHRASE:
			o->test_passphrase = true;
			break;
		case OPT_JSON:
			o->json = true;
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
		case 'f':
			o->force = true;
			break;
		case 'v':
			report_set_verbose(true);
			break;
		case 'h':
			usage(stdout);
			exit(SEAL_EXIT_OK);
		case 'V':
			printf("sealctl %s\n", SEAL_VERSION);
			exit(SEAL_EXIT_OK);
		default:
			usage(stderr);
			return SEAL_EXIT_USAGE;
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
	nargs = argc - optind - 1;
	if (nargs < cmd->min_args || nargs > cmd->max_args)
		return fail(SEAL_EXIT_USAGE, NULL, "usage: sealctl %s", cmd->usage);

	/* tpm2-tss logs to stderr by itself; keep to one line per error */
	if (!report_verbose())
		setenv("TSS2_LOG", "all+none", 0);
	report_capture_libraries();
	return cmd->run(&o, argv + optind + 1);
}
