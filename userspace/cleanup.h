/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Scope-bound release of every resource sealctl and the token plugin hold.
 *
 *   _cleanup_free_ char *s = NULL;
 *   _cleanup_(crypt_freep) struct crypt_device *cd = NULL;
 *
 * Each helper accepts a NULL (or negative fd) so variables can be declared
 * before the resource is acquired. Secrets have their own helper in secret.h.
 */
#ifndef SEAL_CLEANUP_H
#define SEAL_CLEANUP_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <blkid/blkid.h>
#include <json-c/json.h>
#include <libcryptsetup.h>
#include <libdevmapper.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

static inline void crypt_freep(struct crypt_device **cd)
{
	crypt_free(*cd);
}

static inline void crypt_keyslot_context_freep(struct crypt_keyslot_context **kc)
{
	crypt_keyslot_context_free(*kc);
}

static inline void json_object_putp(struct json_object **j)
{
	json_object_put(*j);
}

static inline void dm_task_destroyp(struct dm_task **t)
{
	if (*t)
		dm_task_destroy(*t);
}

static inline void blkid_free_probep(blkid_probe *pr)
{
	if (*pr)
		blkid_free_probe(*pr);
}

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_crypt_ _cleanup_(crypt_freep)
#define _cleanup_json_ _cleanup_(json_object_putp)
#define _cleanup_dm_task_ _cleanup_(dm_task_destroyp)
#define _cleanup_blkid_ _cleanup_(blkid_free_probep)

/* Hand a resource out of a scope: the cleanup then sees NULL. */
#define TAKE_PTR(p) ({ typeof(p) _p = (p); (p) = NULL; _p; })
#define TAKE_FD(fd) ({ int _fd = (fd); (fd) = -1; _fd; })

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif /* SEAL_CLEANUP_H */
