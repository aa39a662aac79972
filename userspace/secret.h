/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Buffers for key material: page-backed, mlock'ed, excluded from core dumps
 * and from fork()ed children, and wiped with explicit_bzero() before they
 * are unmapped. Declare them with _cleanup_secret_ so every exit path wipes.
 */
#ifndef SEAL_SECRET_H
#define SEAL_SECRET_H

#include <stddef.h>
#include <stdint.h>

#include "cleanup.h"

struct secret {
	size_t len;		/* bytes in use */
	size_t size;		/* capacity of data[] */
	uint8_t data[];
};

struct secret *secret_new(size_t size);
struct secret *secret_dup(const void *data, size_t len);
void secret_free(struct secret *s);
void secret_wipe(void *p, size_t len);

static inline void secret_freep(struct secret **s)
{
	secret_free(*s);
}

#define _cleanup_secret_ _cleanup_(secret_freep)

/*
 * Overwrite the stack below the caller: a library that returned (tpm2-tss
 * decrypts parameters into stack arrays) may have left key material in its
 * frames.
 */
void secret_scrub_stack(void);

/* base64 text of a secret (no newline), itself a secret. NULL on ENOMEM. */
struct secret *secret_base64(const struct secret *s);

#endif /* SEAL_SECRET_H */
