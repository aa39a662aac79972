// SPDX-License-Identifier: GPL-2.0
/*
 * Locked, wiped buffers for key material (see secret.h).
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include <openssl/evp.h>

#include "secret.h"

void secret_wipe(void *p, size_t len)
{
	/* explicit_bzero is a libc barrier the optimiser may not remove */
	explicit_bzero(p, len);
}

__attribute__((noinline)) void secret_scrub_stack(void)
{
	uint8_t area[256 * 1024];

	explicit_bzero(area, sizeof(area));
	__asm__ volatile("" : : "r"(area) : "memory");
}

static size_t mapping_size(size_t size)
{
	long page = sysconf(_SC_PAGESIZE);

	return (sizeof(struct secret) + size + page - 1) / page * page;
}

struct secret *secret_new(size_t size)
{
	size_t total = mapping_size(size);
	struct secret *s;

	s = mmap(NULL, total, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s == MAP_FAILED)
		return NULL;
	/*
	 * A failed mlock (RLIMIT_MEMLOCK) is not fatal: the buffer is still
	 * excluded from dumps and wiped; swap is the residual risk.
	 */
	(void)mlock(s, total);
	(void)madvise(s, total, MADV_DONTDUMP);
	(void)madvise(s, total, MADV_WIPEONFORK);
	s->len = 0;
	s->size = size;
	return s;
}

struct secret *secret_dup(const void *data, size_t len)
{
	struct secret *s = secret_new(len);

	if (!s)
		return NULL;
	memcpy(s->data, data, len);
	s->len = len;
	return s;
}

void secret_free(struct secret *s)
{
	size_t total;

	if (!s)
		return;
	total = mapping_size(s->size);
	secret_wipe(s, total);
	(void)munlock(s, total);
	(void)munmap(s, total);
}

struct secret *secret_base64(const struct secret *s)
{
	struct secret *out = secret_new(4 * ((s->len + 2) / 3) + 1);

	if (!out)
		return NULL;
	out->len = EVP_EncodeBlock(out->data, s->data, s->len);
	return out;
}
