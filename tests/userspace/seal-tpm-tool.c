// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only TPM tool, built against the TPM layer with SEAL_TESTING: a helper
 * for shell tests that need a TPM operation as a process of its own, with the
 * secret on its command line or output. It asserts nothing; the TPM layer's
 * own tests are tpm2-layer.c.
 *
 *   seal-tpm-tool [--plaintext] roundtrip HEX   seal HEX (PCR 16 policy), unseal, print hex
 *	the process whose TPM traffic tpm2-bus-capture.sh records (a secret it
 *	chose, so it knows what to look for) and whose core memory-residue.sh
 *	searches: each file's control that its search can find the secret
 *   seal-tpm-tool unseal-token IMAGE [TOKEN [PINFILE]]
 *                                               unseal a seal-tpm2 token, print the secret hex
 *	the secret a token holds, read without measuring PCR 15 (unlike sealctl
 *	and the plugin): what the searches of captures, logs and memory look for
 *   seal-tpm-tool measure UUID HEXKEY           extend PCR 15 as `sealctl open` does, print the event
 *	the measurement, for tpm2-seal.sh to recompute PCR 15 from
 *
 * --plaintext runs without salted, parameter-encrypted sessions: the bus
 * capture test uses it as its control (the secret must then be visible).
 * The TPM comes from $SEAL_TCTI. Never built into sealctl or the plugin.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libcryptsetup.h>

#include "measure.h"
#include "secret.h"
#include "token.h"
#include "tpm2.h"

static void print_hex(const struct secret *s)
{
	for (size_t i = 0; i < s->len; i++)
		printf("%02x", s->data[i]);
	putchar('\n');
}

static int parse_hex(const char *hex, struct secret **ret)
{
	size_t n = strlen(hex) / 2;
	struct secret *s = secret_new(n);

	if (!s || strlen(hex) % 2)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned int b;

		if (sscanf(hex + 2 * i, "%2x", &b) != 1)
			return -EINVAL;
		s->data[i] = b;
	}
	s->len = n;
	*ret = s;
	return 0;
}

static int roundtrip(const char *hex)
{
	_cleanup_secret_ struct secret *in = NULL, *out = NULL;
	_cleanup_tpm_ struct seal_tpm *t = NULL;
	struct seal_tpm_sealed sealed;
	int r;

	if (parse_hex(hex, &in) < 0)
		return fprintf(stderr, "bad hex\n"), 2;
	r = seal_tpm_connect(seal_tpm_tcti(NULL), &t);
	if (r == 0)
		r = seal_tpm_seal(t, 1u << 16, in, NULL, &sealed);
	if (r == 0)
		r = seal_tpm_unseal(t, &sealed, NULL, &out);
	if (r < 0) {
		fprintf(stderr, "seal-tpm-tool: %s (%s)\n", strerror(-r), t ? seal_tpm_error(t) : "");
		return 1;
	}
	print_hex(out);
	return 0;
}

static int read_pin(const char *path, struct secret **ret)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	struct secret *s = secret_new(256);

	if (!f || !s)
		return -EINVAL;
	s->len = fread(s->data, 1, s->size, f);
	*ret = s;
	return 0;
}

static int unseal_token(const char *image, int token, const char *pin_file)
{
	_cleanup_secret_ struct secret *out = NULL, *pin = NULL;
	_cleanup_tpm_ struct seal_tpm *t = NULL;
	_cleanup_crypt_ struct crypt_device *cd = NULL;
	struct seal_token tok;
	const char *json, *why = NULL;
	int r;

	if (crypt_init(&cd, image) < 0 || crypt_load(cd, CRYPT_LUKS2, NULL) < 0 ||
	    crypt_token_json_get(cd, token, &json) < 0 || seal_token_parse(json, &tok, &why) < 0)
		return fprintf(stderr, "seal-tpm-tool: no seal-tpm2 token %d (%s)\n", token, why ?: ""), 1;
	if (pin_file && read_pin(pin_file, &pin) < 0)
		return fprintf(stderr, "seal-tpm-tool: cannot read %s\n", pin_file), 1;
	r = seal_tpm_connect(seal_tpm_tcti(NULL), &t);
	if (r == 0)
		r = seal_tpm_unseal(t, &tok.sealed, pin, &out);
	if (r < 0) {
		fprintf(stderr, "seal-tpm-tool: %s\n", strerror(-r));
		return 1;
	}
	print_hex(out);
	return 0;
}

static int measure(const char *uuid, const char *hex)
{
	_cleanup_secret_ struct secret *vk = NULL;
	_cleanup_tpm_ struct seal_tpm *t = NULL;
	char event[SEAL_MEASUREMENT_MAX];
	int r;

	if (parse_hex(hex, &vk) < 0 || measurement_build(uuid, vk, event, sizeof(event)) < 0)
		return fprintf(stderr, "bad arguments\n"), 2;
	r = seal_tpm_connect(seal_tpm_tcti(NULL), &t);
	if (r == 0)
		r = seal_tpm_pcr_event(t, SEAL_TPM_MEASURE_PCR, event, strlen(event), NULL);
	if (r < 0) {
		fprintf(stderr, "seal-tpm-tool: %s\n", strerror(-r));
		return 1;
	}
	puts(event);
	return 0;
}

int main(int argc, char **argv)
{
	int i = 1;

	if (i < argc && !strcmp(argv[i], "--plaintext")) {
		seal_tpm_testing_plaintext = true;
		i++;
	}
	if (i + 1 < argc && !strcmp(argv[i], "roundtrip"))
		return roundtrip(argv[i + 1]);
	if (i + 1 < argc && !strcmp(argv[i], "unseal-token"))
		return unseal_token(argv[i + 1], i + 2 < argc ? atoi(argv[i + 2]) : 0,
				    i + 3 < argc ? argv[i + 3] : NULL);
	if (i + 2 < argc && !strcmp(argv[i], "measure"))
		return measure(argv[i + 1], argv[i + 2]);
	fprintf(stderr, "usage: seal-tpm-tool [--plaintext] roundtrip HEX | unseal-token IMAGE [TOKEN [PINFILE]]"
		" | measure UUID HEXKEY\n");
	return 2;
}
