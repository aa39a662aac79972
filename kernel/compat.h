/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one place where dm-seal deals with differences between the kernels it
 * builds against (Linux 6.1 to 6.12).
 *
 * Kbuild force-includes this header into every source file and passes the
 * HAVE_* macros it found by probing the kernel headers; nothing here, and
 * nothing in the .c files, tests a kernel version number. The sources are
 * written against the newer API, which is provided here where it is missing.
 */
#ifndef DM_SEAL_COMPAT_H
#define DM_SEAL_COMPAT_H

#include <linux/crypto.h>
#include <linux/device-mapper.h>
#include <linux/module.h>

#if !IS_ENABLED(CONFIG_KEYS)
#error "dm-seal takes its keys from the kernel keyring and needs CONFIG_KEYS"
#endif

/*
 * Crypto completion callbacks are written as
 *	void done(crypto_completion_data_t *data, int err)
 * and find their context with crypto_get_completion_data(data). Up to 6.2
 * the callback got the request; since 6.3 it gets the data pointer itself.
 * Kernels with the transitional helpers need nothing from here.
 */
#ifndef HAVE_CRYPTO_COMPLETION_DATA_T
#ifdef HAVE_CRYPTO_COMPLETION_VOID
#define crypto_completion_data_t void

static inline void *crypto_get_completion_data(void *data)
{
	return data;
}
#else
#define crypto_completion_data_t struct crypto_async_request

static inline void *crypto_get_completion_data(struct crypto_async_request *req)
{
	return req->data;
}
#endif /* HAVE_CRYPTO_COMPLETION_VOID */
#endif /* HAVE_CRYPTO_COMPLETION_DATA_T */

#endif /* DM_SEAL_COMPAT_H */
