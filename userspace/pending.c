// SPDX-License-Identifier: GPL-2.0
/*
 * Deferred PCR 15 measurements (see pending.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "pending.h"

#define PENDING_FILE_MAX 4096

bool seal_in_initramfs(void)
{
	return access(SEAL_INITRD_RELEASE, F_OK) == 0;
}

static int mkdir_one(const char *path)
{
	struct stat st;

	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (lstat(path, &st) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

static bool valid_uuid(const char *uuid)
{
	size_t n = strlen(uuid);

	return n && n < 64 && strspn(uuid, "0123456789abcdefABCDEF-") == n;
}

int pending_add(const char *uuid, const char *kind, const char *measurement)
{
	char dir[] = SEAL_PENDING_DIR, path[sizeof(SEAL_PENDING_DIR) + 80], line[256];
	_cleanup_close_ int fd = -1;
	char *slash = strrchr(dir, '/');
	size_t n;
	int r;

	if (!valid_uuid(uuid) || strchr(measurement, '\n'))
		return -EINVAL;
	n = snprintf(line, sizeof(line), "%s\n", measurement);
	if (n >= sizeof(line))
		return -ENOSPC;
	*slash = '\0';
	r = mkdir_one(dir);
	*slash = '/';
	if (r == 0)
		r = mkdir_one(dir);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/%s.%s", SEAL_PENDING_DIR, uuid, kind);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, line, n) != (ssize_t)n)
		return errno ? -errno : -EIO;
	r = close(fd);
	fd = -1;
	return r < 0 ? -errno : 0;
}

static int pending_filter(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* the records, in name order; 0 when there is no directory */
static int pending_list(struct dirent ***ret)
{
	int n = scandir(SEAL_PENDING_DIR, ret, pending_filter, alphasort);

	if (n < 0 && errno == ENOENT) {
		*ret = NULL;
		return 0;
	}
	return n < 0 ? -errno : n;
}

static void free_list(struct dirent **list, int n)
{
	for (int i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

static int extend_file(struct seal_tpm *t, int dirfd, const char *name, unsigned int *count)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	char buf[PENDING_FILE_MAX + 1], *line, *save = NULL;
	ssize_t n;
	int r;

	if (fd < 0)
		return -EUCLEAN;
	n = read(fd, buf, PENDING_FILE_MAX + 1);
	if (n < 0 || n > PENDING_FILE_MAX)
		return -EUCLEAN;
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		r = seal_tpm_pcr_event(t, SEAL_TPM_MEASURE_PCR, line, strlen(line), NULL);
		if (r < 0)
			return r;
		(*count)++;
	}
	return 0;
}

int pending_extend(struct seal_tpm *t, unsigned int *count)
{
	struct dirent **list = NULL;
	_cleanup_close_ int dirfd = -1;
	int n, r = 0;

	*count = 0;
	n = pending_list(&list);
	if (n <= 0)
		return n < 0 ? -EUCLEAN : 0;
	dirfd = open(SEAL_PENDING_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		r = -EUCLEAN;
	for (int i = 0; i < n && r == 0; i++)
		r = extend_file(t, dirfd, list[i]->d_name, count);
	free_list(list, n);
	return r;
}

int pending_clear(void)
{
	struct dirent **list = NULL;
	_cleanup_close_ int dirfd = -1;
	int n, r = 0;

	n = pending_list(&list);
	if (n <= 0)
		return n;
	dirfd = open(SEAL_PENDING_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		r = -errno;
	for (int i = 0; i < n && dirfd >= 0; i++)
		if (unlinkat(dirfd, list[i]->d_name, 0) < 0 && errno != ENOENT)
			r = -errno;
	free_list(list, n);
	return r;
}
