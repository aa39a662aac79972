/* SPDX-License-Identifier: GPL-2.0 */
/*
 * device-mapper through libdevmapper: the only code that talks to dm.
 */
#ifndef SEAL_DM_H
#define SEAL_DM_H

#include <stdbool.h>
#include <stdint.h>

#define SEAL_DM_TARGET		"seal"
#define SEAL_DM_UUID_PREFIX	"SEAL-"

struct dm_mapping {
	bool exists;
	bool read_only;
	bool suspended;
	int open_count;
	char uuid[130];
	char target[32];
	uint64_t length;	/* 512-byte sectors */
	char *params;		/* the table line after the target name */
};

void dm_mapping_clear(struct dm_mapping *m);

/* 0 with m->exists false when there is no such mapping. */
int dm_query(const char *name, struct dm_mapping *m);
/* The target's status line (STATUSTYPE_INFO) of mapping @name; owned by the caller. */
int dm_query_info(const char *name, char **ret);
/* Does the running kernel provide @target (modules are not loaded here)? */
int dm_target_present(const char *target, bool *ret);
/* One-target table, created, loaded and resumed; waits for udev. */
int dm_create(const char *name, const char *uuid, uint64_t length, const char *target,
	      const char *params, bool read_only);
int dm_remove(const char *name);
/*
 * Replace the table of the live mapping @name: loaded (the target's constructor runs here,
 * in this thread), then swapped in by a resume, which suspends the device around the swap.
 * If the resume fails the new table is cleared and the old one stays.
 */
int dm_reload(const char *name, uint64_t length, const char *target, const char *params);
/* A target message to sector 0 of @name; its answer (maybe "") is owned by the caller. */
int dm_message(const char *name, const char *msg, char **ret_answer);
/* The name of the mapping whose dm uuid starts with @prefix, or -ENOENT. */
int dm_find_by_uuid_prefix(const char *prefix, char **ret_name);

#endif /* SEAL_DM_H */
