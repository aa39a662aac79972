/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TPM2 sealing of a 32-byte secret to a PCR policy (tpm2-tss ESAPI).
 *
 * - Parent: a transient primary key under the owner hierarchy, created
 *   from one fixed template (TCG SRK, ECC NIST P-256, empty unique). Its
 *   Name is recorded at sealing and compared at unsealing, so a substituted
 *   TPM (or an active interposer answering with its own key) is refused.
 * - Sessions are salted to that primary and parameter-encrypted with
 *   AES-128-CFB: the secret crosses the TPM interface only encrypted,
 *   going in (Create, TPMA_SESSION_DECRYPT) and coming out (Unseal,
 *   TPMA_SESSION_ENCRYPT).
 * - Policy: PolicyPCR over the sha256 bank (plus PolicyAuthValue with a
 *   PIN), computed in software so a PCR can be bound to its reset value
 *   (PCR 15, which the unsealer extends after every unlock).
 *
 * Every function returns 0 or a negative errno with these meanings:
 *   -ENODEV  no TPM reachable        -EPERM   PCR values differ from policy
 *   -ENOLCK  DA lockout              -EBADE   primary key differs
 *   -EACCES  wrong PIN               -ENOANO  PIN required, none given
 *   -EBADMSG an answer in an HMAC session is not the TPM's (its HMAC does
 *            not verify), or an extend did not take (an interposer?)
 *   -EIO     other TPM/TSS error (seal_tpm_error() has the response code)
 */
#ifndef SEAL_TPM2_H
#define SEAL_TPM2_H

#include <stdbool.h>
#include <stdint.h>

#include <tss2/tss2_tpm2_types.h>

#include "secret.h"

#define SEAL_TPM_DEFAULT_TCTI	"device:/dev/tpmrm0"
#define SEAL_TPM_SECRET_SIZE	32
#define SEAL_TPM_MEASURE_PCR	15
#define SEAL_TPM_DEFAULT_PCRS	((1u << 7) | (1u << SEAL_TPM_MEASURE_PCR))
/* where boot loaders measure the kernel command line (GRUB 8; sd-boot 12; UKI 11); GRUB's 9 is files only */
#define SEAL_TPM_CMDLINE_PCRS ((1u << 8) | (1u << 11) | (1u << 12))
#define SEAL_TPM_PRIMARY_TEMPLATE "tcg-srk-ecc-p256"
#define SEAL_TPM_PIN_SALT_SIZE	16

struct seal_tpm;

struct seal_tpm_sealed {
	TPM2B_PRIVATE private;
	TPM2B_PUBLIC public;
	uint32_t pcr_mask;		/* sha256 bank, bit n = PCR n */
	uint32_t pcr_initial_mask;	/* subset bound to the reset value (zero) */
	TPM2B_DIGEST policy;
	TPM2B_NAME primary_name;
	bool pin;
	uint8_t pin_salt[SEAL_TPM_PIN_SALT_SIZE];
};

/* Before any tpm2-tss call: its logs hold secrets, so they are off, always. */
int seal_tss_log_off(void);

/* The TCTI to use: @option, else $SEAL_TCTI, else device:/dev/tpmrm0. */
const char *seal_tpm_tcti(const char *option);

int seal_tpm_connect(const char *tcti, struct seal_tpm **ret);
void seal_tpm_free(struct seal_tpm *t);
static inline void seal_tpm_freep(struct seal_tpm **t)
{
	seal_tpm_free(*t);
}
#define _cleanup_tpm_ _cleanup_(seal_tpm_freep)

/* The failing call and its decoded response code, for messages. */
const char *seal_tpm_error(const struct seal_tpm *t);

int seal_tpm_seal(struct seal_tpm *t, uint32_t pcr_mask,
		  const struct secret *secret, const struct secret *pin,
		  struct seal_tpm_sealed *out);
/*
 * Would the unseal get past the primary key (-EBADE) and the PCR policy as
 * the PCRs are now, those bound to their reset value included (-EPERM)? The
 * policy is the sealed object's own authPolicy. Nothing here counts as an
 * attempt against the TPM's dictionary-attack limit: run it before asking
 * for a PIN. seal_tpm_unseal() checks the same again.
 */
int seal_tpm_check(struct seal_tpm *t, const struct seal_tpm_sealed *in);
int seal_tpm_unseal(struct seal_tpm *t, const struct seal_tpm_sealed *in,
		    const struct secret *pin, struct secret **ret);

/*
 * Extend @pcr (all banks) with the digest of @data (TPM2_PCR_Event), then
 * read the sha256 bank back: -EBADMSG unless it moved exactly by that
 * extend. Both run in an HMAC session salted to a primary key, so a forged
 * answer from an interposer on the TPM bus is refused too (-EBADMSG). With
 * @primary (a token's recorded primary Name) that primary must answer
 * (-EBADE); without, the null hierarchy's primary is used unchecked.
 */
int seal_tpm_pcr_event(struct seal_tpm *t, unsigned int pcr,
		       const void *data, size_t len, const TPM2B_NAME *primary);

/*
 * Is @pcr's sha256 value its reset value (zero)? 1 yes, 0 no, or an errno.
 * Read as seal_tpm_pcr_event() reads back, authenticated by the TPM, with
 * @primary as there.
 */
int seal_tpm_pcr_at_reset(struct seal_tpm *t, unsigned int pcr, const TPM2B_NAME *primary);

/* "7+15" <-> mask. parse returns -EINVAL on junk or PCR > 23. */
int seal_tpm_parse_pcrs(const char *s, uint32_t *ret);
void seal_tpm_format_pcrs(uint32_t mask, char *buf, size_t size);

#ifdef SEAL_TESTING
/* Test tool only: run without salted, parameter-encrypted sessions. */
extern bool seal_tpm_testing_plaintext;
#endif

#endif /* SEAL_TPM2_H */
