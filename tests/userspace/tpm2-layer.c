// SPDX-License-Identifier: GPL-2.0
/*
 * tpm2-layer: the TPM layer (userspace/tpm2.c, built with SEAL_TESTING) tested
 * through its own API, a kselftest on the kernel's kselftest_harness.h. The
 * TPM is the one $SEAL_TCTI names (tests/userspace/tpm2-layer.sh starts swtpm
 * for it and takes these results as its own); with no TPM there the whole
 * program is a kselftest skip (exit 4).
 *
 * Output: TAP version 13, the plan up front, "ok N FIXTURE.VARIANT.TEST" or
 * "not ok ...", "# " diagnostics; exit 0 only when every test passed. The
 * harness runs each test in a child of its own: a test's TPM connection, its
 * secrets and seal_tpm_testing_plaintext end with it.
 *
 *   seal   a random secret of 32 or 64 bytes sealed to PCR 16 (the debug PCR
 *          any locality may extend), in salted parameter-encrypted sessions
 *          or, as the control variant the bus capture test also runs,
 *          plaintext ones: the unseal gives the same bytes; once PCR 16 has
 *          moved the check and the unseal both refuse with -EPERM and give
 *          nothing; another primary key's Name is refused with -EBADE.
 *   pin    a PIN-sealed secret: no PIN -ENOANO, a wrong one -EACCES, the
 *          right one the secret.
 *   and what the layer says for no TPM (a closed port, an unknown TCTI), for
 *   128 bytes (the most a TPM seals) and for a secret larger than ESAPI's
 *   buffer.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "secret.h"
#include "tpm2.h"

/*
 * linux-source-6.1's harness has a signal handler with an unused parameter (kselftest builds
 * with -Wall; we add -Wextra)
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

/* the debug PCR: resettable, extendable from any locality, used by nothing at boot */
#define TEST_PCR 16

/* a secret of @len random bytes (getentropy() gives 256 at most per call) */
static struct secret *random_secret(size_t len)
{
	struct secret *s = secret_new(len);

	if (!s)
		return NULL;
	for (s->len = 0; s->len < len; s->len += 256) {
		if (getentropy(s->data + s->len, len - s->len < 256 ? len - s->len : 256) < 0) {
			secret_free(s);
			return NULL;
		}
	}
	s->len = len;
	return s;
}

static struct secret *text_secret(const char *text)
{
	return secret_dup(text, strlen(text));
}

FIXTURE(seal) {
	struct seal_tpm *t;
	struct secret *in;
	struct seal_tpm_sealed sealed;
};

FIXTURE_VARIANT(seal) {
	size_t len;
	bool plaintext;
};

FIXTURE_VARIANT_ADD(seal, salted_32_bytes) {
	.len = 32,
	.plaintext = false,
};

FIXTURE_VARIANT_ADD(seal, salted_64_bytes) {
	.len = 64,
	.plaintext = false,
};

FIXTURE_VARIANT_ADD(seal, plaintext_32_bytes) {
	.len = 32,
	.plaintext = true,
};

FIXTURE_VARIANT_ADD(seal, plaintext_64_bytes) {
	.len = 64,
	.plaintext = true,
};

FIXTURE_SETUP(seal)
{
	int r;

	seal_tpm_testing_plaintext = variant->plaintext;
	r = seal_tpm_connect(seal_tpm_tcti(NULL), &self->t);
	ASSERT_EQ(0, r) TH_LOG("connect to %s: %s", seal_tpm_tcti(NULL), strerror(-r));
	self->in = random_secret(variant->len);
	ASSERT_NE(NULL, self->in);
	r = seal_tpm_seal(self->t, 1u << TEST_PCR, self->in, NULL, &self->sealed);
	ASSERT_EQ(0, r) TH_LOG("seal: %s (%s)", strerror(-r), seal_tpm_error(self->t));
}

FIXTURE_TEARDOWN(seal)
{
	secret_free(self->in);
	seal_tpm_free(self->t);
}

TEST_F(seal, unseal_gives_the_same_bytes)
{
	_cleanup_secret_ struct secret *out = NULL;
	int r;

	r = seal_tpm_check(self->t, &self->sealed);
	ASSERT_EQ(0, r) TH_LOG("check: %s (%s)", strerror(-r), seal_tpm_error(self->t));
	r = seal_tpm_unseal(self->t, &self->sealed, NULL, &out);
	ASSERT_EQ(0, r) TH_LOG("unseal: %s (%s)", strerror(-r), seal_tpm_error(self->t));
	ASSERT_NE(NULL, out);
	ASSERT_EQ(variant->len, out->len);
	ASSERT_EQ(0, memcmp(self->in->data, out->data, variant->len))
		TH_LOG("the unsealed bytes differ from the sealed ones");
}

TEST_F(seal, pcr16_moved_refused_eperm)
{
	static const char event[] = "tpm2-layer: PCR 16 moves";
	struct secret *out = NULL;
	int r;

	r = seal_tpm_pcr_event(self->t, TEST_PCR, event, sizeof(event) - 1, NULL);
	ASSERT_EQ(0, r) TH_LOG("extend PCR 16: %s (%s)", strerror(-r), seal_tpm_error(self->t));
	EXPECT_EQ(-EPERM, seal_tpm_check(self->t, &self->sealed));
	r = seal_tpm_unseal(self->t, &self->sealed, NULL, &out);
	EXPECT_EQ(-EPERM, r) TH_LOG("unseal after PCR 16 moved: %s", strerror(-r));
	ASSERT_EQ(NULL, out) {
		secret_free(out);
	}
}

TEST_F(seal, other_primary_refused_ebade)
{
	struct seal_tpm_sealed other = self->sealed;
	struct secret *out = NULL;
	int r;

	ASSERT_GT(other.primary_name.size, 0);
	other.primary_name.name[other.primary_name.size - 1] ^= 1;
	EXPECT_EQ(-EBADE, seal_tpm_check(self->t, &other));
	r = seal_tpm_unseal(self->t, &other, NULL, &out);
	EXPECT_EQ(-EBADE, r) TH_LOG("unseal under another primary Name: %s", strerror(-r));
	ASSERT_EQ(NULL, out) {
		secret_free(out);
	}
}

FIXTURE(pin) {
	struct seal_tpm *t;
	struct secret *in;
	struct seal_tpm_sealed sealed;
};

FIXTURE_SETUP(pin)
{
	_cleanup_secret_ struct secret *pin = text_secret("1234");
	int r;

	r = seal_tpm_connect(seal_tpm_tcti(NULL), &self->t);
	ASSERT_EQ(0, r) TH_LOG("connect to %s: %s", seal_tpm_tcti(NULL), strerror(-r));
	self->in = random_secret(SEAL_TPM_SECRET_SIZE);
	ASSERT_NE(NULL, self->in);
	ASSERT_NE(NULL, pin);
	r = seal_tpm_seal(self->t, 1u << TEST_PCR, self->in, pin, &self->sealed);
	ASSERT_EQ(0, r) TH_LOG("seal: %s (%s)", strerror(-r), seal_tpm_error(self->t));
	ASSERT_TRUE(self->sealed.pin);
}

FIXTURE_TEARDOWN(pin)
{
	secret_free(self->in);
	seal_tpm_free(self->t);
}

/* one wrong PIN counts once against the dictionary-attack limit of this swtpm (its own) */
TEST_F(pin, none_enoano_wrong_eacces_right_unseals)
{
	_cleanup_secret_ struct secret *wrong = text_secret("9999"), *right = text_secret("1234");
	_cleanup_secret_ struct secret *out = NULL;
	int r;

	ASSERT_NE(NULL, wrong);
	ASSERT_NE(NULL, right);
	ASSERT_EQ(-ENOANO, seal_tpm_unseal(self->t, &self->sealed, NULL, &out));
	ASSERT_EQ(NULL, out);
	r = seal_tpm_unseal(self->t, &self->sealed, wrong, &out);
	ASSERT_EQ(-EACCES, r) TH_LOG("wrong PIN: %s (%s)", strerror(-r), seal_tpm_error(self->t));
	ASSERT_EQ(NULL, out);
	r = seal_tpm_unseal(self->t, &self->sealed, right, &out);
	ASSERT_EQ(0, r) TH_LOG("right PIN: %s (%s)", strerror(-r), seal_tpm_error(self->t));
	ASSERT_NE(NULL, out);
	ASSERT_EQ(self->in->len, out->len);
	ASSERT_EQ(0, memcmp(self->in->data, out->data, out->len));
}

/*
 * What the layer says without a TPM: -ENODEV, and (as connect promises) a handle that
 * only carries the error text for the caller's message, naming the step that failed.
 */
FIXTURE(no_tpm) {
	struct seal_tpm *t;
};

FIXTURE_SETUP(no_tpm)
{
	self->t = NULL;
}

FIXTURE_TEARDOWN(no_tpm)
{
	seal_tpm_free(self->t);
}

/* nothing listens on port 1 */
TEST_F(no_tpm, closed_port_enodev)
{
	ASSERT_EQ(-ENODEV, seal_tpm_connect("swtpm:host=127.0.0.1,port=1", &self->t));
	ASSERT_NE(NULL, self->t);
	ASSERT_NE(NULL, strstr(seal_tpm_error(self->t), "Tss2_TctiLdr_Initialize"))
		TH_LOG("error text: %s", seal_tpm_error(self->t));
}

TEST_F(no_tpm, unknown_tcti_enodev)
{
	ASSERT_EQ(-ENODEV, seal_tpm_connect("no-such-tcti-module", &self->t));
	ASSERT_NE(NULL, self->t);
	ASSERT_NE(NULL, strstr(seal_tpm_error(self->t), "Tss2_TctiLdr_Initialize"))
		TH_LOG("error text: %s", seal_tpm_error(self->t));
}

FIXTURE(tpm) {
	struct seal_tpm *t;
};

FIXTURE_SETUP(tpm)
{
	int r = seal_tpm_connect(seal_tpm_tcti(NULL), &self->t);

	ASSERT_EQ(0, r) TH_LOG("connect to %s: %s", seal_tpm_tcti(NULL), strerror(-r));
}

FIXTURE_TEARDOWN(tpm)
{
	seal_tpm_free(self->t);
}

/* a sealed data object holds 128 bytes (the TPM's MAX_SYM_DATA): all of them come back */
TEST_F(tpm, secret_of_128_bytes_round_trip)
{
	_cleanup_secret_ struct secret *in = random_secret(128), *out = NULL;
	struct seal_tpm_sealed sealed;
	int r;

	ASSERT_NE(NULL, in);
	r = seal_tpm_seal(self->t, 1u << TEST_PCR, in, NULL, &sealed);
	ASSERT_EQ(0, r) TH_LOG("seal: %s (%s)", strerror(-r), seal_tpm_error(self->t));
	r = seal_tpm_unseal(self->t, &sealed, NULL, &out);
	ASSERT_EQ(0, r) TH_LOG("unseal: %s (%s)", strerror(-r), seal_tpm_error(self->t));
	ASSERT_EQ(in->len, out->len);
	ASSERT_EQ(0, memcmp(in->data, out->data, in->len));
}

/* more than ESAPI's buffer (TPM2_MAX_SYM_DATA, 256) is refused before the TPM is asked */
TEST_F(tpm, secret_over_256_bytes_einval)
{
	_cleanup_secret_ struct secret *big = random_secret(TPM2_MAX_SYM_DATA + 1);
	struct seal_tpm_sealed sealed;

	ASSERT_NE(NULL, big);
	ASSERT_EQ(-EINVAL, seal_tpm_seal(self->t, 1u << TEST_PCR, big, NULL, &sealed));
}

/*
 * kselftest's convention for missing hardware: with no TPM reachable, the
 * program skips as a whole (exit 4). The probe's connection is closed before
 * the tests run: swtpm serves one client at a time.
 */
int main(int argc, char **argv)
{
	struct seal_tpm *t = NULL;
	int r = seal_tpm_connect(seal_tpm_tcti(NULL), &t);

	seal_tpm_free(t);
	if (r < 0) {
		ksft_print_header();
		ksft_exit_skip("no TPM at %s: %s\n", seal_tpm_tcti(NULL), strerror(-r));
	}
	return test_harness_run(argc, argv);
}
