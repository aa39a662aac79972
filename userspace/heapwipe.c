// SPDX-License-Identifier: GPL-2.0
/*
 * Every heap block sealctl frees is wiped before glibc gets it back.
 *
 * Our own key material lives in locked, wiped buffers (secret.c), but the
 * libraries copy it into their heap: tpm2-tss keeps the sensitive area given
 * to Esys_Create (the TPM secret, the PIN-derived auth value) in its context
 * and the auth value of every object in its node, and releases them with
 * plain free() (Esys_TR_Close, Esys_Finalize). tpm2.c clears the copies it
 * knows of; glibc's free() leaves any other where it was, and pages the
 * process gives back (munmap, exit) are not cleared by the kernel until they
 * are reused: a RAM dump finds them after sealctl is long gone. This closes
 * that for every copy, known or not, in whichever library.
 *
 * An executable's own definition of a function comes first in the dynamic
 * linker's lookup, so free() and realloc() defined here are the ones
 * tpm2-tss, OpenSSL, json-c, libcryptsetup and glibc itself (fclose, ...)
 * call; they must be exported (visibility "default": the build hides
 * everything else).
 *
 * realloc() never resizes in place: glibc moves a grown block and cuts the
 * tail off a shrunk one with its internal free, which would bypass the wipe
 * (reallocarray() likewise calls glibc's realloc directly). So it always
 * allocates anew, copies, and frees the old block through free() below.
 *
 * Why not the tunable glibc.malloc.perturb: it comes from the environment
 * (GLIBC_TUNABLES, read before main), so sealctl would have to re-execute
 * itself, and glibc does not fill every freed chunk with it: chunks that go
 * to the per-thread cache (the small ones, where keys and auth values are)
 * and mmap()ed chunks are released unfilled.
 *
 * The token plugin cannot do this: a library loaded by dlopen() comes after
 * the executable and libc in the lookup order, so in systemd-cryptsetup or
 * cryptsetup free() stays glibc's (Documentation/threat-model.md).
 */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "secret.h"

#define EXPORTED __attribute__((visibility("default")))

/* glibc's own allocator entry point; free() below replaces the public one */
extern void __libc_free(void *p);

EXPORTED void free(void *p)
{
	if (!p)
		return;
	secret_wipe(p, malloc_usable_size(p));
	__libc_free(p);
}

EXPORTED void *realloc(void *p, size_t size)
{
	size_t old;
	void *q;

	if (!p)
		return malloc(size);
	if (!size) {
		free(p);
		return NULL;
	}
	q = malloc(size);
	if (!q)
		return NULL;
	old = malloc_usable_size(p);
	memcpy(q, p, old < size ? old : size);
	free(p);
	return q;
}

EXPORTED void *reallocarray(void *p, size_t n, size_t size)
{
	size_t bytes;

	if (__builtin_mul_overflow(n, size, &bytes)) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, bytes);
}
