// SPDX-License-Identifier: GPL-2.0
/*
 * TPM2 sealing and unsealing through tpm2-tss ESAPI (see tpm2.h).
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_sys.h>
#include <tss2/tss2_tctildr.h>

#include "tpm2.h"

#define PIN_KDF_ITERATIONS 10000
#define PCR_MAX 24

#ifdef SEAL_TESTING
bool seal_tpm_testing_plaintext;
#else
#define seal_tpm_testing_plaintext false
#endif

struct seal_tpm {
	TSS2_TCTI_CONTEXT *tcti;
	ESYS_CONTEXT *esys;
	const char *failed_op;		/* the ESAPI call that failed last */
	TSS2_RC rc;			/* and its response code */
	char error[256];
};

/* The TCG "Storage Root Key" template, ECC NIST P-256, empty unique. */
static const TPM2B_PUBLIC primary_template = {
	.publicArea = {
		.type = TPM2_ALG_ECC,
		.nameAlg = TPM2_ALG_SHA256,
		.objectAttributes = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT |
				    TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
				    TPMA_OBJECT_SENSITIVEDATAORIGIN |
				    TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA,
		.parameters.eccDetail = {
			.symmetric = {
				.algorithm = TPM2_ALG_AES,
				.keyBits.aes = 128,
				.mode.aes = TPM2_ALG_CFB,
			},
			.scheme.scheme = TPM2_ALG_NULL,
			.curveID = TPM2_ECC_NIST_P256,
			.kdf.scheme = TPM2_ALG_NULL,
		},
	},
};

static const TPMT_SYM_DEF session_cipher = {
	.algorithm = TPM2_ALG_AES,
	.keyBits.aes = 128,
	.mode.aes = TPM2_ALG_CFB,
};

static const TPMT_SYM_DEF no_cipher = { .algorithm = TPM2_ALG_NULL };

const char *seal_tpm_tcti(const char *option)
{
	const char *env = getenv("SEAL_TCTI");

	if (option && *option)
		return option;
	if (env && *env)
		return env;
	return SEAL_TPM_DEFAULT_TCTI;
}

static bool rc_is_transport(TSS2_RC rc)
{
	TSS2_RC base = rc & ~TSS2_RC_LAYER_MASK;

	return (rc & TSS2_RC_LAYER_MASK) != TSS2_TPM_RC_LAYER &&
	       (base == TSS2_BASE_RC_IO_ERROR ||
		base == TSS2_BASE_RC_NO_CONNECTION);
}

/* The TPM's own code without the handle/session/parameter number. */
static TSS2_RC rc_base(TSS2_RC rc)
{
	if ((rc & TSS2_RC_LAYER_MASK) != TSS2_TPM_RC_LAYER)
		return rc;
	if (rc & TPM2_RC_FMT1)
		return rc & (TPM2_RC_FMT1 | 0x3f);
	return rc & 0xfff;
}

/*
 * ESAPI's verdicts on an answer to a command sent in an HMAC session: its
 * HMAC does not verify, or it does not parse. Only the TPM that holds the
 * session key answers correctly.
 */
static bool rc_is_forged(TSS2_RC rc)
{
	return rc == TSS2_ESYS_RC_RSP_AUTH_FAILED || rc == TSS2_ESYS_RC_MALFORMED_RESPONSE ||
	       rc == TSS2_SYS_RC_MALFORMED_RESPONSE || rc == TSS2_SYS_RC_INSUFFICIENT_RESPONSE;
}

static int tpm_fail(struct seal_tpm *t, const char *op, TSS2_RC rc)
{
	t->failed_op = op;
	t->rc = rc;
	if (rc_is_transport(rc))
		return -ENODEV;
	if (rc_is_forged(rc))
		return -EBADMSG;
	switch (rc_base(rc)) {
	case TPM2_RC_LOCKOUT:
		return -ENOLCK;
	case TPM2_RC_POLICY_FAIL:
	case TPM2_RC_PCR_CHANGED:
		return -EPERM;
	default:
		/* a bad authorization anywhere but the unseal (an owner password on
		 * CreatePrimary, say) is no wrong PIN: the message names the command */
		return -EIO;
	}
}

/* The unseal, where the PIN is the authorization: a bad one is a wrong PIN. */
static int tpm_fail_unseal(struct seal_tpm *t, TSS2_RC rc)
{
	int r = tpm_fail(t, "Esys_Unseal", rc);

	switch (rc_base(rc)) {
	case TPM2_RC_AUTH_FAIL:
	case TPM2_RC_BAD_AUTH:
		return -EACCES;
	default:
		return r;
	}
}

const char *seal_tpm_error(const struct seal_tpm *t)
{
	struct seal_tpm *m = (struct seal_tpm *)t;

	if (!t->failed_op)
		return "no TPM error recorded";
	if (t->rc == TSS2_RC_SUCCESS)
		return t->failed_op;
	snprintf(m->error, sizeof(m->error), "%s: 0x%x %s", t->failed_op,
		 t->rc, Tss2_RC_Decode(t->rc));
	return t->error;
}

/*
 * tpm2-tss's debug and trace output holds the secrets it carries (the sealed
 * secret, session keys, the unmarshalled token): off, whatever the
 * environment asks for. Each of its modules reads TSS2_LOG when it first
 * logs, so this runs before any tpm2-tss call.
 */
int seal_tss_log_off(void)
{
	return setenv("TSS2_LOG", "all+none", 1);
}

int seal_tpm_connect(const char *tcti, struct seal_tpm **ret)
{
	struct seal_tpm *t;
	TSS2_RC rc;
	int r;

	if (seal_tss_log_off() < 0)
		return -ENOMEM;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	rc = Tss2_TctiLdr_Initialize(tcti, &t->tcti);
	if (rc != TSS2_RC_SUCCESS) {
		t->failed_op = "Tss2_TctiLdr_Initialize";
		t->rc = rc;
		r = -ENODEV;
		goto err;
	}
	rc = Esys_Initialize(&t->esys, t->tcti, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		r = tpm_fail(t, "Esys_Initialize", rc);
		goto err;
	}
	rc = Esys_Startup(t->esys, TPM2_SU_CLEAR);
	if (rc != TSS2_RC_SUCCESS && rc_base(rc) != TPM2_RC_INITIALIZE) {
		r = tpm_fail(t, "Esys_Startup", rc);
		/* a TCTI that connects but gets no TPM answer is no TPM */
		if (r == -EIO && (rc & TSS2_RC_LAYER_MASK) != TSS2_TPM_RC_LAYER)
			r = -ENODEV;
		goto err;
	}
	*ret = t;
	return 0;
err:
	/* keep the error text reachable for the caller's message */
	*ret = t;
	return r;
}

void seal_tpm_free(struct seal_tpm *t)
{
	if (!t)
		return;
	if (t->esys)
		Esys_Finalize(&t->esys);
	if (t->tcti)
		Tss2_TctiLdr_Finalize(&t->tcti);
	free(t);
}

/* Transient handles of one operation, flushed on every exit path. */
struct handles {
	struct seal_tpm *t;
	ESYS_TR primary, hmac, policy, object;
};

#define HANDLES(tpm) { .t = (tpm), .primary = ESYS_TR_NONE, .hmac = ESYS_TR_NONE, \
		       .policy = ESYS_TR_NONE, .object = ESYS_TR_NONE }

/*
 * After an answer it could not authenticate ESAPI refuses every further call,
 * FlushContext included (TSS2_ESYS_RC_BAD_SEQUENCE). Without a resource
 * manager (/dev/tpm0, swtpm) the primary and the sessions would then stay
 * loaded until reboot and fill the TPM's few slots. So they are flushed
 * through ESAPI's own SAPI context (which took the answer fine), and ESAPI is
 * started afresh on the same TCTI for whatever the caller tries next.
 */
static void sys_flush(struct seal_tpm *t, ESYS_TR handle)
{
	TSS2_SYS_CONTEXT *sys;
	TPM2_HANDLE tpm_handle;

	if (Esys_TR_GetTpmHandle(t->esys, handle, &tpm_handle) == TSS2_RC_SUCCESS &&
	    Esys_GetSysContext(t->esys, &sys) == TSS2_RC_SUCCESS)
		(void)Tss2_Sys_FlushContext(sys, tpm_handle);
}

static void esys_restart(struct seal_tpm *t)
{
	Esys_Finalize(&t->esys);
	if (Esys_Initialize(&t->esys, t->tcti, NULL) != TSS2_RC_SUCCESS)
		t->esys = NULL;
}

static void handles_flush(struct handles *h)
{
	ESYS_TR *all[] = { &h->object, &h->policy, &h->hmac, &h->primary };
	bool refused = false;

	for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
		if (*all[i] == ESYS_TR_NONE)
			continue;
		if (refused || Esys_FlushContext(h->t->esys, *all[i]) == TSS2_ESYS_RC_BAD_SEQUENCE) {
			refused = true;
			sys_flush(h->t, *all[i]);
		}
		*all[i] = ESYS_TR_NONE;
	}
	if (refused)
		esys_restart(h->t);
}

#define _cleanup_handles_ _cleanup_(handles_flush)

static void esys_freep(void *p)
{
	Esys_Free(*(void **)p);
}

#define _cleanup_esys_ _cleanup_(esys_freep)

/* ESAPI's copy of unsealed data: wiped before it is freed. */
static void sensitive_data_freep(TPM2B_SENSITIVE_DATA **d)
{
	if (!*d)
		return;
	secret_wipe(*d, sizeof(**d));
	Esys_Free(*d);
}

/*
 * ESAPI decrypts response parameters in place in its SAPI response buffer,
 * so after Unseal the plaintext secret sits there until the next response
 * overwrites it. Wipe it now.
 */
static void wipe_response_buffer(struct seal_tpm *t)
{
	TSS2_SYS_CONTEXT *sys;
	const uint8_t *buf;
	size_t len;

	if (Esys_GetSysContext(t->esys, &sys) != TSS2_RC_SUCCESS)
		return;
	if (Tss2_Sys_GetRpBuffer(sys, &len, &buf) != TSS2_RC_SUCCESS)
		return;
	secret_wipe((void *)buf, len);
}

static int create_primary(struct seal_tpm *t, struct handles *h, ESYS_TR hierarchy,
			  TPM2B_NAME *name)
{
	const TPM2B_SENSITIVE_CREATE empty_sensitive = { 0 };
	const TPML_PCR_SELECTION no_pcrs = { 0 };
	TPM2B_NAME *n = NULL;
	TSS2_RC rc;

	rc = Esys_CreatePrimary(t->esys, hierarchy, ESYS_TR_PASSWORD,
				ESYS_TR_NONE, ESYS_TR_NONE, &empty_sensitive,
				&primary_template, NULL, &no_pcrs, &h->primary,
				NULL, NULL, NULL, NULL);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail(t, "Esys_CreatePrimary", rc);
	rc = Esys_TR_GetName(t->esys, h->primary, &n);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail(t, "Esys_TR_GetName", rc);
	*name = *n;
	Esys_Free(n);
	return 0;
}

/* A session salted to the primary, for parameter encryption. */
static int start_hmac_session(struct seal_tpm *t, struct handles *h, TPMA_SESSION attrs)
{
	TSS2_RC rc;

	rc = Esys_StartAuthSession(t->esys, h->primary, ESYS_TR_NONE, ESYS_TR_NONE,
				   ESYS_TR_NONE, ESYS_TR_NONE, NULL, TPM2_SE_HMAC,
				   &session_cipher, TPM2_ALG_SHA256, &h->hmac);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail(t, "Esys_StartAuthSession", rc);
	rc = Esys_TRSess_SetAttributes(t->esys, h->hmac,
				       attrs | TPMA_SESSION_CONTINUESESSION, 0xff);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail(t, "Esys_TRSess_SetAttributes", rc);
	return 0;
}

static TPML_PCR_SELECTION pcr_selection(uint32_t mask)
{
	TPML_PCR_SELECTION sel = { .count = 1 };

	sel.pcrSelections[0].hash = TPM2_ALG_SHA256;
	sel.pcrSelections[0].sizeofSelect = 3;
	for (unsigned int i = 0; i < PCR_MAX; i++)
		if (mask & (1u << i))
			sel.pcrSelections[0].pcrSelect[i / 8] |= 1u << (i % 8);
	return sel;
}

/*
 * Current sha256 values of the PCRs in @mask into values[pcr]. PCR_Read takes
 * no authorization; @audit, an HMAC session or ESYS_TR_NONE, is sent as an
 * audit session, which makes the TPM authenticate its answer.
 */
static int read_pcrs(struct seal_tpm *t, uint32_t mask, uint8_t values[PCR_MAX][32],
		     ESYS_TR audit)
{
	uint32_t todo = mask;

	while (todo) {
		TPML_PCR_SELECTION sel = pcr_selection(todo);
		TPML_PCR_SELECTION *out_sel = NULL;
		TPML_DIGEST *out = NULL;
		uint32_t got = 0;
		unsigned int k = 0;
		TSS2_RC rc;

		rc = Esys_PCR_Read(t->esys, audit, ESYS_TR_NONE, ESYS_TR_NONE,
				   &sel, NULL, &out_sel, &out);
		if (rc != TSS2_RC_SUCCESS)
			return tpm_fail(t, "Esys_PCR_Read", rc);
		for (unsigned int s = 0; s < out_sel->count; s++) {
			const TPMS_PCR_SELECTION *ps = &out_sel->pcrSelections[s];

			if (ps->hash != TPM2_ALG_SHA256)
				continue;
			for (unsigned int i = 0; i < PCR_MAX && k < out->count; i++) {
				if (!(ps->pcrSelect[i / 8] & (1u << (i % 8))))
					continue;
				if (out->digests[k].size != 32)
					break;
				memcpy(values[i], out->digests[k].buffer, 32);
				got |= 1u << i;
				k++;
			}
		}
		Esys_Free(out_sel);
		Esys_Free(out);
		if (!(got & todo)) {
			t->failed_op = "Esys_PCR_Read (sha256 bank not active)";
			t->rc = TPM2_RC_VALUE;
			return -EIO;
		}
		todo &= ~got;
	}
	return 0;
}

static void be32_put(uint8_t *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, 4);
}

static int sha256(const void *const *parts, const size_t *lens, size_t n, uint8_t out[32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok;

	if (!md)
		return -ENOMEM;
	ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	for (size_t i = 0; ok && i < n; i++)
		ok = EVP_DigestUpdate(md, parts[i], lens[i]);
	ok = ok && EVP_DigestFinal_ex(md, out, NULL);
	EVP_MD_CTX_free(md);
	return ok ? 0 : -EIO;
}

/*
 * policy = H(0^32 || TPM_CC_PolicyPCR || TPML_PCR_SELECTION || H(PCR values))
 * then, with a PIN, policy = H(policy || TPM_CC_PolicyAuthValue).
 * No PCRs and no PIN leaves the all-zero digest (TPM-bound only).
 */
static int compute_policy(uint32_t mask, uint8_t values[PCR_MAX][32], bool pin,
			  TPM2B_DIGEST *out)
{
	uint8_t pcrs[PCR_MAX * 32], pcr_digest[32], cc[4], sel_buf[sizeof(TPML_PCR_SELECTION)];
	TPML_PCR_SELECTION sel = pcr_selection(mask);
	size_t n = 0, sel_len = 0;
	int r;

	memset(out, 0, sizeof(*out));
	out->size = 32;
	if (mask) {
		for (unsigned int i = 0; i < PCR_MAX; i++)
			if (mask & (1u << i))
				memcpy(pcrs + 32 * n++, values[i], 32);
		r = sha256((const void *[]){ pcrs }, (size_t[]){ 32 * n }, 1, pcr_digest);
		if (r < 0)
			return r;
		if (Tss2_MU_TPML_PCR_SELECTION_Marshal(&sel, sel_buf, sizeof(sel_buf),
						       &sel_len) != TSS2_RC_SUCCESS)
			return -EIO;
		be32_put(cc, TPM2_CC_PolicyPCR);
		r = sha256((const void *[]){ out->buffer, cc, sel_buf, pcr_digest },
			   (size_t[]){ 32, 4, sel_len, 32 }, 4, out->buffer);
		if (r < 0)
			return r;
	}
	if (pin) {
		be32_put(cc, TPM2_CC_PolicyAuthValue);
		r = sha256((const void *[]){ out->buffer, cc }, (size_t[]){ 32, 4 }, 2,
			   out->buffer);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The policy digest the TPM would reach now: PCRs as they are, those in @initial at zero. */
static int current_policy(struct seal_tpm *t, uint32_t mask, uint32_t initial, bool pin,
			  TPM2B_DIGEST *out)
{
	uint8_t values[PCR_MAX][32] = { 0 };
	int r;

	r = read_pcrs(t, mask & ~initial, values, ESYS_TR_NONE);
	if (r < 0)
		return r;
	return compute_policy(mask, values, pin, out);
}

static int pin_auth(const struct secret *pin, const uint8_t *salt, struct secret **ret)
{
	_cleanup_secret_ struct secret *auth = secret_new(sizeof(TPM2B_AUTH));
	TPM2B_AUTH *a;

	if (!auth)
		return -ENOMEM;
	a = (TPM2B_AUTH *)auth->data;
	a->size = 32;
	if (!PKCS5_PBKDF2_HMAC((const char *)pin->data, pin->len, salt,
			       SEAL_TPM_PIN_SALT_SIZE, PIN_KDF_ITERATIONS,
			       EVP_sha256(), a->size, a->buffer))
		return -EIO;
	auth->len = sizeof(*a);
	*ret = TAKE_PTR(auth);
	return 0;
}

int seal_tpm_seal(struct seal_tpm *t, uint32_t pcr_mask, const struct secret *secret,
		  const struct secret *pin, struct seal_tpm_sealed *out)
{
	_cleanup_secret_ struct secret *sens_buf = NULL, *auth = NULL;
	_cleanup_handles_ struct handles h = HANDLES(t);
	_cleanup_esys_ TPM2B_PRIVATE *priv = NULL;
	_cleanup_esys_ TPM2B_PUBLIC *pub = NULL;
	const TPML_PCR_SELECTION no_pcrs = { 0 };
	TPM2B_PUBLIC tmpl = { 0 };
	TPM2B_SENSITIVE_CREATE *sens;
	ESYS_TR auth_session = ESYS_TR_PASSWORD;
	TSS2_RC rc;
	int r;

	if (secret->len > sizeof(sens->sensitive.data.buffer))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->pcr_mask = pcr_mask;
	out->pcr_initial_mask = pcr_mask & (1u << SEAL_TPM_MEASURE_PCR);
	out->pin = pin != NULL;

	sens_buf = secret_new(sizeof(*sens));
	if (!sens_buf)
		return -ENOMEM;
	sens = (TPM2B_SENSITIVE_CREATE *)sens_buf->data;
	sens->sensitive.data.size = secret->len;
	memcpy(sens->sensitive.data.buffer, secret->data, secret->len);
	if (pin) {
		if (getentropy(out->pin_salt, sizeof(out->pin_salt)) < 0)
			return -errno;
		r = pin_auth(pin, out->pin_salt, &auth);
		if (r < 0)
			return r;
		sens->sensitive.userAuth = *(TPM2B_AUTH *)auth->data;
	}

	r = create_primary(t, &h, ESYS_TR_RH_OWNER, &out->primary_name);
	if (r < 0)
		return r;
	r = current_policy(t, pcr_mask, out->pcr_initial_mask, out->pin, &out->policy);
	if (r < 0)
		return r;

	tmpl.publicArea.type = TPM2_ALG_KEYEDHASH;
	tmpl.publicArea.nameAlg = TPM2_ALG_SHA256;
	/* policy only (no USERWITHAUTH); DA protection only where a PIN can be guessed */
	tmpl.publicArea.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
					   (pin ? 0 : TPMA_OBJECT_NODA);
	tmpl.publicArea.parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_NULL;
	tmpl.publicArea.authPolicy = out->policy;

	if (!seal_tpm_testing_plaintext) {
		r = start_hmac_session(t, &h, TPMA_SESSION_DECRYPT | TPMA_SESSION_ENCRYPT);
		if (r < 0)
			return r;
		auth_session = h.hmac;
	}
	rc = Esys_Create(t->esys, h.primary, auth_session, ESYS_TR_NONE, ESYS_TR_NONE,
			 sens, &tmpl, NULL, &no_pcrs, &priv, &pub, NULL, NULL, NULL);
	/* ESAPI encrypted the sensitive data in a stack array */
	secret_scrub_stack();
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail(t, "Esys_Create", rc);
	out->private = *priv;
	out->public = *pub;
	return 0;
}

/* A policy session salted to the primary: PolicyPCR (+ PolicyAuthValue). */
static int start_policy_session(struct seal_tpm *t, struct handles *h,
				const struct seal_tpm_sealed *in, const TPM2B_AUTH *auth)
{
	TPML_PCR_SELECTION sel = pcr_selection(in->pcr_mask);
	const TPM2B_DIGEST current_pcrs = { 0 };
	TSS2_RC rc;

	rc = Esys_StartAuthSession(t->esys, seal_tpm_testing_plaintext ? ESYS_TR_NONE : h->primary,
				   ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, NULL,
				   TPM2_SE_POLICY,
				   seal_tpm_testing_plaintext ? &no_cipher : &session_cipher,
				   TPM2_ALG_SHA256, &h->policy);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail(t, "Esys_StartAuthSession", rc);
	if (in->pcr_mask) {
		/* empty digest: the TPM takes the PCRs as they are */
		rc = Esys_PolicyPCR(t->esys, h->policy, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
				    &current_pcrs, &sel);
		if (rc != TSS2_RC_SUCCESS)
			return tpm_fail(t, "Esys_PolicyPCR", rc);
	}
	if (auth) {
		rc = Esys_PolicyAuthValue(t->esys, h->policy, ESYS_TR_NONE, ESYS_TR_NONE,
					  ESYS_TR_NONE);
		if (rc != TSS2_RC_SUCCESS)
			return tpm_fail(t, "Esys_PolicyAuthValue", rc);
		rc = Esys_TR_SetAuth(t->esys, h->object, auth);
		if (rc != TSS2_RC_SUCCESS)
			return tpm_fail(t, "Esys_TR_SetAuth", rc);
	}
	return 0;
}

/* ESAPI keeps the PIN-derived auth value in the object's node: clear it. */
static void forget_object_auth(struct handles *h)
{
	if (h->object != ESYS_TR_NONE)
		(void)Esys_TR_SetAuth(h->t->esys, h->object, &(const TPM2B_AUTH){ 0 });
}

static int check_policy(struct seal_tpm *t, const struct seal_tpm_sealed *in)
{
	const TPM2B_DIGEST *sealed = &in->public.publicArea.authPolicy;
	TPM2B_DIGEST policy;
	int r;

	/* every bound PCR as it is, those bound to their reset value too (PCR 15 moved?) */
	r = current_policy(t, in->pcr_mask, 0, in->pin, &policy);
	if (r < 0)
		return r;
	/* the object's own authPolicy, which the TPM enforces, not the token's copy of it */
	if (policy.size != sealed->size || memcmp(policy.buffer, sealed->buffer, policy.size))
		return -EPERM;
	return 0;
}

/* The primary key in h->primary, refused (-EBADE) unless its Name is @want (enrollment's). */
static int verified_primary(struct seal_tpm *t, struct handles *h, const TPM2B_NAME *want)
{
	TPM2B_NAME name;
	int r;

	r = create_primary(t, h, ESYS_TR_RH_OWNER, &name);
	if (r < 0)
		return r;
	if (name.size != want->size || memcmp(name.name, want->name, name.size))
		return -EBADE;
	return 0;
}

int seal_tpm_check(struct seal_tpm *t, const struct seal_tpm_sealed *in)
{
	_cleanup_handles_ struct handles h = HANDLES(t);
	int r;

	r = verified_primary(t, &h, &in->primary_name);
	return r < 0 ? r : check_policy(t, in);
}

int seal_tpm_unseal(struct seal_tpm *t, const struct seal_tpm_sealed *in,
		    const struct secret *pin, struct secret **ret)
{
	_cleanup_secret_ struct secret *auth = NULL, *result = NULL;
	_cleanup_handles_ struct handles h = HANDLES(t);
	_cleanup_(sensitive_data_freep) TPM2B_SENSITIVE_DATA *data = NULL;
	TSS2_RC rc;
	int r;

	if (in->pin && !pin)
		return -ENOANO;
	if (in->pin) {
		r = pin_auth(pin, in->pin_salt, &auth);
		if (r < 0)
			return r;
	}

	r = verified_primary(t, &h, &in->primary_name);
	if (r < 0)
		return r;
	/* refuse a PCR mismatch before the TPM sees an attempt (no DA count) */
	r = check_policy(t, in);
	if (r < 0)
		return r;

	rc = Esys_Load(t->esys, h.primary, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
		       &in->private, &in->public, &h.object);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail(t, "Esys_Load", rc);
	if (!seal_tpm_testing_plaintext) {
		r = start_hmac_session(t, &h, TPMA_SESSION_ENCRYPT);
		if (r < 0)
			return r;
	}
	r = start_policy_session(t, &h, in, auth ? (TPM2B_AUTH *)auth->data : NULL);
	if (r == 0) {
		rc = Esys_Unseal(t->esys, h.object, h.policy,
				 seal_tpm_testing_plaintext ? ESYS_TR_NONE : h.hmac,
				 ESYS_TR_NONE, &data);
		/* ESAPI decrypted outData in a stack array, then in its response buffer */
		secret_scrub_stack();
		wipe_response_buffer(t);
		if (rc != TSS2_RC_SUCCESS)
			r = tpm_fail_unseal(t, rc);
	}
	if (auth)
		forget_object_auth(&h);
	if (r < 0)
		return r;

	result = secret_dup(data->buffer, data->size);
	if (!result)
		return -ENOMEM;
	*ret = TAKE_PTR(result);
	return 0;
}

/*
 * The session PCR 15's extend and read-back run in. An active interposer on
 * the TPM bus could swallow PCR_Event, forge its success and forge PCR_Read
 * to show the PCR moved; so every one of these commands carries an HMAC
 * session salted to a primary key, and ESAPI checks each answer's HMAC,
 * keyed by a session key that only the TPM holding that primary's private
 * key can derive:
 * - PCR_Event with the session as the PCR's authorization (its authValue
 *   is empty: the HMAC key is the session key);
 * - PCR_Read, which takes no authorization, with the session as an audit
 *   session (TPMA_SESSION_AUDIT): the TPM answers with an HMAC over the
 *   response parameters, the PCR values included. Chosen over PolicyPCR
 *   with a policy digest read back by PolicyGetDigest, whose answers are as
 *   unauthenticated as PCR_Read's unless they are audited too, and over
 *   Quote, which needs a signing key created at every boot.
 * The primary is the owner hierarchy's, refused (-EBADE) unless its Name is
 * @primary, the one a token recorded at enrollment: an interposer answering
 * CreatePrimary with its own key would know the session key. Without a
 * recorded Name there is nothing to check against; the null hierarchy's
 * primary then serves, as it needs no owner password.
 */
static int start_pcr_session(struct seal_tpm *t, struct handles *h, const TPM2B_NAME *primary)
{
	TPM2B_NAME name;
	int r;

	r = primary ? verified_primary(t, h, primary) :
		      create_primary(t, h, ESYS_TR_RH_NULL, &name);
	if (r < 0)
		return r;
	return start_hmac_session(t, h, TPMA_SESSION_AUDIT);
}

int seal_tpm_pcr_event(struct seal_tpm *t, unsigned int pcr, const void *data, size_t len,
		       const TPM2B_NAME *primary)
{
	_cleanup_handles_ struct handles h = HANDLES(t);
	TPM2B_EVENT event = { .size = len };
	uint8_t before[PCR_MAX][32], after[PCR_MAX][32], want[32], event_digest[32];
	const void *parts[2];
	size_t lens[2];
	TSS2_RC rc;
	int r;

	if (pcr >= PCR_MAX || len > sizeof(event.buffer))
		return -EINVAL;
	memcpy(event.buffer, data, len);
	r = start_pcr_session(t, &h, primary);
	if (r < 0)
		return r;
	r = read_pcrs(t, 1u << pcr, before, h.hmac);
	if (r < 0)
		return r;
	rc = Esys_PCR_Event(t->esys, ESYS_TR_PCR0 + pcr, h.hmac, ESYS_TR_NONE,
			    ESYS_TR_NONE, &event, NULL);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail(t, "Esys_PCR_Event", rc);
	/* read back: the sha256 bank must hold extend(before, sha256(data)) now */
	r = read_pcrs(t, 1u << pcr, after, h.hmac);
	if (r < 0)
		return r;
	parts[0] = data;
	lens[0] = len;
	r = sha256(parts, lens, 1, event_digest);
	parts[0] = before[pcr];
	lens[0] = 32;
	parts[1] = event_digest;
	lens[1] = 32;
	if (r == 0)
		r = sha256(parts, lens, 2, want);
	if (r < 0)
		return r;
	if (memcmp(after[pcr], want, 32)) {
		t->failed_op = "PCR_Read (authenticated read-back: the PCR did not take the extend)";
		t->rc = TSS2_RC_SUCCESS;
		return -EBADMSG;
	}
	return 0;
}

int seal_tpm_pcr_at_reset(struct seal_tpm *t, unsigned int pcr, const TPM2B_NAME *primary)
{
	_cleanup_handles_ struct handles h = HANDLES(t);
	static const uint8_t zero[32];
	uint8_t values[PCR_MAX][32];
	int r;

	if (pcr >= PCR_MAX)
		return -EINVAL;
	r = start_pcr_session(t, &h, primary);
	if (r == 0)
		r = read_pcrs(t, 1u << pcr, values, h.hmac);
	if (r < 0)
		return r;
	return !memcmp(values[pcr], zero, sizeof(zero));
}

int seal_tpm_parse_pcrs(const char *s, uint32_t *ret)
{
	uint32_t mask = 0;
	const char *p = s;

	if (!strcmp(s, "") || !strcmp(s, "none")) {
		*ret = 0;
		return 0;
	}
	for (;;) {
		char *end;
		unsigned long n;

		if (*p < '0' || *p > '9')
			return -EINVAL;
		errno = 0;
		n = strtoul(p, &end, 10);
		if (errno || n >= PCR_MAX)
			return -EINVAL;
		mask |= 1u << n;
		if (!*end)
			break;
		if (*end != '+' && *end != ',')
			return -EINVAL;
		p = end + 1;
	}
	*ret = mask;
	return 0;
}

void seal_tpm_format_pcrs(uint32_t mask, char *buf, size_t size)
{
	size_t off = 0;

	if (size)
		buf[0] = '\0';
	if (!mask) {
		snprintf(buf, size, "none");
		return;
	}
	for (unsigned int i = 0; i < PCR_MAX && off < size; i++)
		if (mask & (1u << i))
			off += snprintf(buf + off, size - off, "%s%u", off ? "+" : "", i);
}
