// SPDX-License-Identifier: GPL-2.0
/*
 * seal-sealtab-generator: /etc/sealtab in the booted system, as
 * systemd-cryptsetup-generator does it for /etc/crypttab. Installed in
 * /usr/lib/systemd/system-generators/; systemd runs it with its output
 * directories (the first, "normal", is used). For each entry it writes
 * seal-open@NAME.service, which runs `sealctl open NAME` (so the entry is
 * read again, by the same parser, when the volume opens), bound to and
 * after the entry's device, before cryptsetup.target (remote-cryptsetup.target
 * for _netdev, after the network) and before /dev/mapper/NAME's users:
 *
 *   nofail              cryptsetup.target only wants the unit (else requires it)
 *   noauto              no target pulls it in; /dev/mapper/NAME (an fstab entry
 *                       on it) or `systemctl start` still does
 *   _netdev             remote-cryptsetup.target, after network-online.target
 *   device-timeout=S    (or x-systemd.device-timeout=S) bound the wait for the device
 *   a key file          RequiresMountsFor= it
 *
 * A volume the initramfs opened already is skipped when the unit runs
 * (ConditionPathExists=!/dev/mapper/NAME), not here: the generator cannot know.
 *
 * What it shares with the initramfs's generator (dracut/90seal/seal-generator.sh):
 * the format and the option names, parsed by userspace/sealtab.c here and by
 * seal-lib.sh there (tests/userspace/sealtab-generator.sh runs both on one file,
 * docs-consistency.sh holds the option lists to the documented one), the same
 * ordering (bound to the device, before cryptsetup.target, required by
 * /dev/mapper/NAME) and the same device-timeout drop-in. The initramfs one also
 * serves rd.seal.* volumes and runs seal-unlock (TPM wait, PCR 15 lock, emergency
 * shell), which the booted system needs none of: two small writers, one format.
 *
 * Test use: seal-sealtab-generator [--sealtab FILE] DIR [EARLY-DIR LATE-DIR]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "sealtab.h"

#define PROG "seal-sealtab-generator"

static void warn_line(const char *path, unsigned int line, const char *msg)
{
	fprintf(stderr, PROG ": %s:%u: %s\n", path, line, msg);
}

/* systemd-escape [--path]: what a unit name may hold, the rest as \xHH */
static char *unit_escape(const char *s, bool path)
{
	char *out = malloc(strlen(s) * 4 + 2), *o = out;

	if (!out)
		return NULL;
	if (path) {
		while (*s == '/')
			s++;
		if (!*s) {
			strcpy(out, "-");
			return out;
		}
	}
	for (const char *p = s; *p; p++) {
		unsigned char c = *p;

		if (path && c == '/') {
			while (p[1] == '/')
				p++;
			if (p[1])
				*o++ = '-';
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || c == ':' || c == '_' ||
			   (c == '.' && o != out)) {
			*o++ = c;
		} else {
			o += sprintf(o, "\\x%02x", c);
		}
	}
	*o = '\0';
	return out;
}

static int mkdir_p(const char *dir)
{
	return mkdir(dir, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

/* DIR/WHERE/UNIT -> ../UNIT */
static int link_unit(const char *dir, const char *where, const char *unit)
{
	_cleanup_free_ char *d = NULL, *l = NULL, *target = NULL;

	if (asprintf(&d, "%s/%s", dir, where) < 0 || asprintf(&l, "%s/%s", d, unit) < 0 ||
	    asprintf(&target, "../%s", unit) < 0)
		return -ENOMEM;
	if (mkdir_p(d) < 0)
		return -errno;
	if (symlink(target, l) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int write_file(const char *path, const char *text)
{
	_cleanup_fclose_ FILE *f = fopen(path, "we");

	if (!f || fputs(text, f) < 0 || fflush(f) != 0)
		return -errno ?: -EIO;
	return 0;
}

static int device_timeout(const char *dir, const struct sealtab_entry *e, const char *devunit)
{
	_cleanup_free_ char *t = NULL, *d = NULL, *f = NULL, *text = NULL;

	if (!sealtab_opt(e->options, "device-timeout", &t) &&
	    !sealtab_opt(e->options, "x-systemd.device-timeout", &t))
		return 0;
	/* not a whole number: named when the sealtab was read; systemd's default stands */
	if (!t || !*t || strspn(t, "0123456789") != strlen(t))
		return 0;
	if (asprintf(&d, "%s/%s.d", dir, devunit) < 0 || asprintf(&f, "%s/50-seal-timeout.conf", d) < 0 ||
	    asprintf(&text, "# " PROG ": device-timeout= of %s\n[Unit]\nJobRunningTimeoutSec=%s\n",
		     e->name, t) < 0)
		return -ENOMEM;
	if (mkdir_p(d) < 0)
		return -errno;
	return write_file(f, text);
}

static int generate(const char *dir, const char *tab, const struct sealtab_entry *e)
{
	_cleanup_free_ char *name = unit_escape(e->name, false);
	_cleanup_free_ char *devunit = NULL, *mapunit = NULL, *unit = NULL, *file = NULL;
	_cleanup_free_ char *text = NULL, *keymount = NULL, *dev = unit_escape(e->device, true);
	_cleanup_free_ char *map = NULL, *mapdev = NULL;
	bool nofail = sealtab_opt(e->options, "nofail", NULL);
	bool noauto = sealtab_opt(e->options, "noauto", NULL);
	bool netdev = sealtab_opt(e->options, "_netdev", NULL);
	const char *target = netdev ? "remote-cryptsetup.target" : "cryptsetup.target";
	int r;

	if (!name || !dev || asprintf(&devunit, "%s.device", dev) < 0 ||
	    asprintf(&map, "/dev/mapper/%s", e->name) < 0 || !(mapdev = unit_escape(map, true)) ||
	    asprintf(&mapunit, "%s.device", mapdev) < 0 ||
	    asprintf(&unit, "seal-open@%s.service", name) < 0 ||
	    asprintf(&file, "%s/%s", dir, unit) < 0)
		return -ENOMEM;
	if (e->key_file && asprintf(&keymount, "RequiresMountsFor=%s\n", e->key_file) < 0)
		return -ENOMEM;
	if (asprintf(&text,
		     "# Automatically generated by " PROG " from %s line %u\n"
		     "[Unit]\n"
		     "Description=Open seal volume %s\n"
		     "Documentation=man:sealctl(8)\n"
		     "SourcePath=%s\n"
		     "DefaultDependencies=no\n"
		     "IgnoreOnIsolate=true\n"
		     "Conflicts=umount.target\n"
		     "BindsTo=%s\n"
		     "After=%s\n"
		     "%s"
		     "%s"
		     "Before=%s umount.target\n"
		     "Wants=blockdev@%s.target\n"
		     "Before=blockdev@%s.target\n"
		     "ConditionPathExists=!%s\n"
		     "\n"
		     "[Service]\n"
		     "Type=oneshot\n"
		     "RemainAfterExit=yes\n"
		     "TimeoutSec=infinity\n"
		     "KeyringMode=private\n"
		     /* found in systemd's search path (/usr/local/sbin, /usr/sbin...) */
		     "ExecStart=sealctl open %s\n"
		     "ExecStop=sealctl close %s\n",
		     tab, e->line, e->name, tab, devunit, devunit,
		     netdev ? "After=remote-cryptsetup-pre.target network-online.target\n"
			      "Wants=network-online.target\n"
			    : "After=cryptsetup-pre.target systemd-udevd-kernel.socket\n",
		     keymount ?: "", target, mapdev, mapdev, map, e->name, e->name) < 0)
		return -ENOMEM;
	r = write_file(file, text);
	if (r < 0)
		return r;
	if (!noauto) {
		_cleanup_free_ char *where = NULL;

		if (asprintf(&where, "%s.%s", target, nofail ? "wants" : "requires") < 0)
			return -ENOMEM;
		r = link_unit(dir, where, unit);
		if (r < 0)
			return r;
	}
	{
		_cleanup_free_ char *where = NULL;

		if (asprintf(&where, "%s.requires", mapunit) < 0)
			return -ENOMEM;
		r = link_unit(dir, where, unit);
		if (r < 0)
			return r;
	}
	return device_timeout(dir, e, devunit);
}

int main(int argc, char **argv)
{
	_cleanup_(sealtab_clear) struct sealtab t = { 0 };
	const char *tab = SEALTAB_DEFAULT, *dir;
	int r, ret = 0;

	if (argc > 2 && !strcmp(argv[1], "--sealtab")) {
		tab = argv[2];
		argv += 2;
		argc -= 2;
	}
	if (argc != 2 && argc != 4) {
		fprintf(stderr, "usage: " PROG " [--sealtab FILE] DIR [EARLY-DIR LATE-DIR]\n");
		return 1;
	}
	dir = argv[1];
	r = sealtab_read(tab, NULL, warn_line, &t);
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		fprintf(stderr, PROG ": cannot read %s: %s\n", tab, strerror(-r));
		return 1;
	}
	for (size_t i = 0; i < t.n; i++) {
		r = generate(dir, tab, &t.entries[i]);
		if (r < 0) {
			fprintf(stderr, PROG ": %s: cannot write its unit: %s\n", t.entries[i].name,
				strerror(-r));
			ret = 1;
		}
	}
	return ret;
}
