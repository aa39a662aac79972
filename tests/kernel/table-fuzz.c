// SPDX-License-Identifier: GPL-2.0
/*
 * table-fuzz: hands dm-seal tables to the kernel through the raw DM ioctls and
 * checks what the kernel makes of each one. Guest tests run it
 * (tests/kernel/seal-bad-tables.sh, tests/kernel/seal-table-fuzz.sh); it is
 * built on the host by tests/kernel/Makefile.
 *
 * The raw ioctls, not libdevmapper: libdevmapper doubles every backslash in
 * a table, so through it (and dmsetup) a table can never carry an escaped
 * space or newline to the kernel. Here the kernel gets exactly these bytes.
 *
 *   table-fuzz raw [--hold-excl PATH] LEN PARAMS [LEN PARAMS]...
 *	Loads each "0 LEN seal PARAMS" table into a fresh device and prints one
 *	line per table:
 *	    accepted<TAB><the table as the kernel prints it back>
 *	    refused<TAB><the kernel's error sentence><TAB><its errno><TAB><number of
 *		error lines the kernel logged>
 *	    left<TAB><the dm devices there are after the refusal>
 *	An accepted table must also work: resume, read its first block, status
 *	"valid"; otherwise "broken<TAB>why" is printed. A kernel log line with an
 *	oops, BUG or WARNING prints "crash<TAB>line". With --hold-excl the PATH is
 *	held open with O_EXCL while the tables load.
 *
 *   table-fuzz fuzz --dev PATH [--seed N] [--count N] [--key-types LIST]
 *			[--verbose]
 *	Mutates valid tables at random (seeded: the same seed gives the same
 *	tables), loads each into a new device (one in eight as a reload of a
 *	device with a live table), and compares the kernel's verdict with a
 *	model of the table syntax written from Documentation/device-mapper/
 *	seal.rst: for every table the model predicts "accepted" or the exact
 *	error sentence (or, for a device string it does not know, nothing).
 *	Accepted tables are resumed and checked (size, first block read, status
 *	"valid", the table printed back as the model predicts); every device is
 *	removed. It adds its own keys to the session keyring. Its output is a
 *	kselftest (kselftest.h): KTAP with its plan of 7 up front, "# "
 *	diagnostics, "ok N name" or "not ok N name" per check, exit 0 only when
 *	all 7 passed. Without --key-types it asks the kernel which of the key
 *	types encrypted and trusted it has.
 *
 *   table-fuzz
 *	With no arguments (as kselftest's runner starts it; its arguments can be
 *	given in KSELFTEST_TABLE_FUZZ_ARGS): "fuzz --dev /dev/ram0", skipped
 *	(exit 4) when the seal target or /dev/ram0 is not there.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <linux/dm-ioctl.h>
#include "kselftest.h"
#include <linux/fs.h>
#include <linux/keyctl.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#define CIPHER		"aes-xts-plain64"
#define FUZZ_DEV	"seal-fuzz"
#define MAX_TOKENS	48
#define MAX_REPORTS	15

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("table-fuzz: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p)
		die("out of memory");
	return p;
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		die("out of memory");
	return p;
}

/* A string with its non-printable bytes as \xHH, for diagnostics. */
static const char *printable(const char *s, char *buf, size_t size)
{
	size_t o = 0;

	for (; *s && o + 8 < size; s++) {
		unsigned char c = *s;

		if (c >= 0x20 && c < 0x7f && c != '\\')
			buf[o++] = c;
		else
			o += snprintf(buf + o, size - o, "\\x%02x", c);
	}
	if (*s)
		o += snprintf(buf + o, size - o, "...");
	buf[o] = '\0';
	return buf;
}

/* ------------------------------------------------------------------ */
/* Device-mapper ioctls */

static int dm_fd = -1;
static unsigned char *iobuf;
static size_t iobuf_size;

static void iobuf_reserve(size_t size)
{
	if (size <= iobuf_size)
		return;
	free(iobuf);
	iobuf_size = size < (64 << 10) ? (64 << 10) : size;
	if (posix_memalign((void **)&iobuf, 8, iobuf_size))
		die("out of memory");
}

static struct dm_ioctl *dm_prep(const char *name, size_t data_size)
{
	struct dm_ioctl *io;

	iobuf_reserve(data_size);
	io = (struct dm_ioctl *)iobuf;
	memset(io, 0, sizeof(*io));
	io->version[0] = DM_VERSION_MAJOR;
	io->data_size = data_size;
	io->data_start = sizeof(*io);
	if (name)
		snprintf(io->name, sizeof(io->name), "%s", name);
	return io;
}

static int dm_call(unsigned long cmd, struct dm_ioctl *io)
{
	int r;

	do
		r = ioctl(dm_fd, cmd, io);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : 0;
}

static int dm_create(const char *name, dev_t *devno)
{
	struct dm_ioctl *io = dm_prep(name, sizeof(*io));
	int r = dm_call(DM_DEV_CREATE, io);

	if (!r && devno)
		*devno = makedev(major(io->dev), minor(io->dev));
	return r;
}

static int dm_simple(unsigned long cmd, const char *name)
{
	return dm_call(cmd, dm_prep(name, sizeof(struct dm_ioctl)));
}

/* Load the one-target table "0 len seal params" as name's inactive table. */
static int dm_load(const char *name, uint64_t len, const char *params)
{
	size_t plen = strlen(params) + 1;
	size_t size = sizeof(struct dm_ioctl) + sizeof(struct dm_target_spec) + plen;
	struct dm_ioctl *io = dm_prep(name, size);
	struct dm_target_spec *spec = (void *)(iobuf + sizeof(*io));

	memset(spec, 0, sizeof(*spec));
	spec->sector_start = 0;
	spec->length = len;
	snprintf(spec->target_type, sizeof(spec->target_type), "seal");
	memcpy(spec + 1, params, plen);
	io->target_count = 1;
	return dm_call(DM_TABLE_LOAD, io);
}

/* The live table (table) or status line (!table) of a one-target device. */
static int dm_status(const char *name, bool table, char *out, size_t size)
{
	struct dm_ioctl *io = dm_prep(name, 64 << 10);
	struct dm_target_spec *spec;
	int r;

	io->flags = table ? DM_STATUS_TABLE_FLAG : 0;
	r = dm_call(DM_TABLE_STATUS, io);
	if (r)
		return r;
	if (io->flags & DM_BUFFER_FULL_FLAG || io->target_count != 1)
		return -EMSGSIZE;
	spec = (void *)(iobuf + io->data_start);
	snprintf(out, size, "%s", (char *)(spec + 1));
	return 0;
}

/* Number of dm devices, their names in names (space-separated). */
static int dm_count(char *names, size_t size)
{
	struct dm_ioctl *io = dm_prep(NULL, 64 << 10);
	struct dm_name_list *nl;
	size_t o = 0;
	int n = 0;

	if (dm_call(DM_LIST_DEVICES, io))
		return -1;
	names[0] = '\0';
	nl = (void *)(iobuf + io->data_start);
	if (!nl->dev)
		return 0;
	for (;;) {
		n++;
		if (o + strlen(nl->name) + 2 < size)
			o += snprintf(names + o, size - o, "%s%s", o ? " " : "", nl->name);
		if (!nl->next)
			break;
		nl = (void *)((char *)nl + nl->next);
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* The kernel log, through /dev/kmsg */

static int kmsg_fd = -1;

struct klog {
	int errors;		/* err-level "device-mapper: table:" lines */
	char error[512];	/* the first one, "seal: " kept, "(-Exxx)" cut */
	char errno_name[32];
	int bad;		/* oops, BUG, WARNING and friends */
	char bad_line[512];
	int lost;		/* records overwritten before we read them */
};

static const char *const bad_patterns[] = {
	"BUG:", "Oops", "WARNING:", "Kernel panic", "general protection fault",
	"kernel BUG at", "UBSAN:", "KASAN:", "page allocation failure", "refcount_t:",
	"list_add corruption", "list_del corruption", "kmemleak",
	"blocked for more than", "soft lockup", "stack-protector",
	"slab-out-of-bounds", "use-after-free", "double free",
};

static void kmsg_open(void)
{
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd < 0)
		die("cannot open /dev/kmsg: %s", strerror(errno));
	lseek(kmsg_fd, 0, SEEK_END);
}

/*
 * A stall report (soft lockup, RCU CPU stall) is the guest runner's to judge unless its
 * stacks have a dm-seal frame: under TCG a vCPU the host did not run reports one
 * (tests/lib/guest-watchdog.sh, kernel-log-problems.awk). Its lines, up to the end of the
 * task's trace (a soft lockup) or of the stacks and registers it dumps (an RCU stall), are
 * held back until that is known.
 */
static struct {
	bool open;
	bool rcu;
	char header[512];
} lockup;

static bool rcu_report_line(const char *msg)
{
	static const char *const prefixes[] = {
		"rcu: ", "(t=", "(detected by", "Call Trace:", "<TASK>", "</TASK>",
		"<IRQ>", "</IRQ>", "<NMI>", "</NMI>", "task:", "CPU: ", "Hardware name:",
		"Modules linked in:", "Workqueue: ", "Sending NMI", "NMI backtrace",
		"INFO: NMI handler", "Code: ", "RIP: ", "PKRU: ",
	};
	size_t i, n;

	if (isspace((unsigned char)*msg))
		return true;
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(msg, prefixes[i], strlen(prefixes[i])))
			return true;
	/* register lines: "RAX: 0000...", "R10: ...", "CS:  0010 ..." */
	n = strspn(msg, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
	return n >= 2 && n <= 4 && msg[n] == ':' && msg[n + 1] == ' ';
}

static bool kmsg_lockup_line(struct klog *k, const char *msg)
{
	bool rcu = strstr(msg, "rcu: INFO: rcu_") && strstr(msg, "detected stall");

	if (rcu || strstr(msg, "soft lockup - CPU#")) {
		lockup.open = true;
		lockup.rcu = rcu;
		snprintf(lockup.header, sizeof(lockup.header), "%s", msg);
		return true;
	}
	if (!lockup.open)
		return false;
	if (lockup.rcu && !rcu_report_line(msg)) {
		lockup.open = false;
		return false;
	}
	if (strstr(msg, "[dm_seal]")) {
		if (!k->bad++)
			snprintf(k->bad_line, sizeof(k->bad_line), "%s",
				 lockup.header);
		lockup.open = false;
		return true;
	}
	if (!lockup.rcu && strstr(msg, "</TASK>")) {
		lockup.open = false;
		return true;
	}
	if (strstr(msg, "BUG:") || strstr(msg, "WARNING:") || strstr(msg, "Oops")) {
		lockup.open = false;
		return false;
	}
	return true;
}

static void kmsg_line(struct klog *k, int level, char *msg)
{
	static const char table[] = "device-mapper: table: ";
	char *p, *q;
	size_t i;

	if (kmsg_lockup_line(k, msg))
		return;
	for (i = 0; i < sizeof(bad_patterns) / sizeof(bad_patterns[0]); i++)
		if (strstr(msg, bad_patterns[i])) {
			if (!k->bad++)
				snprintf(k->bad_line, sizeof(k->bad_line), "%s", msg);
			break;
		}
	if (level > 3 || strncmp(msg, table, sizeof(table) - 1))
		return;
	if (k->errors++)
		return;
	/* "device-mapper: table: 253:0: seal: Invalid iv_offset (-EINVAL)" */
	p = strstr(msg + sizeof(table) - 1, ": ");
	p = p ? p + 2 : msg;
	q = strrchr(p, '(');
	if (q && q > p && q[-1] == ' ' && q[strlen(q) - 1] == ')') {
		snprintf(k->errno_name, sizeof(k->errno_name), "%.*s",
			 (int)(strlen(q) - 2), q + 1);
		q[-1] = '\0';
	}
	snprintf(k->error, sizeof(k->error), "%s", p);
}

/* Read every record logged since the last call. */
static void kmsg_read(struct klog *k)
{
	char rec[8192 + 1];
	ssize_t n;

	memset(k, 0, sizeof(*k));
	for (;;) {
		char *msg, *nl;
		int level;

		n = read(kmsg_fd, rec, sizeof(rec) - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EPIPE) {
				k->lost++;
				continue;
			}
			if (errno == EAGAIN)
				break;
			die("reading /dev/kmsg: %s", strerror(errno));
		}
		if (n == 0)
			break;
		rec[n] = '\0';
		level = atoi(rec) & 7;
		msg = strchr(rec, ';');
		if (!msg)
			continue;
		msg++;
		nl = strchr(msg, '\n');
		if (nl)
			*nl = '\0';
		kmsg_line(k, level, msg);
	}
}

/* ------------------------------------------------------------------ */
/* The lower device and the keys */

static char dev_path[256];
static dev_t dev_devno;
static char dev_name[32];		/* "major:minor", as tables print it */
static uint64_t dev_sectors;

static void lower_open(const char *path)
{
	struct stat st;
	uint64_t bytes;
	int fd;

	snprintf(dev_path, sizeof(dev_path), "%s", path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) || !S_ISBLK(st.st_mode) ||
	    ioctl(fd, BLKGETSIZE64, &bytes))
		die("%s: not a usable block device", path);
	close(fd);
	dev_devno = st.st_rdev;
	dev_sectors = bytes >> 9;
	snprintf(dev_name, sizeof(dev_name), "%u:%u", major(dev_devno), minor(dev_devno));
}

struct known_key {
	const char *type, *desc;
	unsigned int size;
	bool revoked;
};

static const struct known_key known_keys[] = {
	{ "logon", "seal-fuzz:k64", 64, false },
	{ "logon", "seal-fuzz:k32", 32, false },
	{ "user", "seal-fuzz:u64", 64, false },
	{ "user", "seal-fuzz:u32", 32, false },
	{ "logon", "seal-fuzz:k48", 48, false },
	{ "logon", "seal-fuzz:revoked", 64, true },
};
#define NR_KNOWN_KEYS (sizeof(known_keys) / sizeof(known_keys[0]))

static void keys_add(void)
{
	unsigned char payload[64];
	size_t i;
	long id;

	for (i = 0; i < NR_KNOWN_KEYS; i++) {
		if (getrandom(payload, known_keys[i].size, 0) != (ssize_t)known_keys[i].size)
			die("getrandom failed");
		id = syscall(SYS_add_key, known_keys[i].type, known_keys[i].desc,
			     payload, (size_t)known_keys[i].size,
			     KEY_SPEC_SESSION_KEYRING);
		if (id < 0)
			die("add_key %s %s: %s", known_keys[i].type,
			    known_keys[i].desc, strerror(errno));
		if (known_keys[i].revoked &&
		    syscall(SYS_keyctl, KEYCTL_REVOKE, id) < 0)
			die("revoke %s: %s", known_keys[i].desc, strerror(errno));
	}
	memset(payload, 0, sizeof(payload));
}

/* Key types the kernel under test has (CONFIG_ENCRYPTED_KEYS, CONFIG_TRUSTED_KEYS). */
static char key_types[128] = "logon,user,encrypted";
static bool key_types_given;

static void key_types_set(const char *list)
{
	snprintf(key_types, sizeof(key_types), "%s", list);
	key_types_given = true;
}

/*
 * The key types this kernel has, for a run without --key-types: add_key() with an empty
 * payload fails with ENODEV for a key type the kernel does not have, with something else
 * (EINVAL) for one it has.
 */
static void key_types_probe(void)
{
	static const char *const optional[] = { "encrypted", "trusted" };
	size_t i, o;

	o = snprintf(key_types, sizeof(key_types), "logon,user");
	for (i = 0; i < sizeof(optional) / sizeof(optional[0]); i++) {
		long id = syscall(SYS_add_key, optional[i], "seal-fuzz:probe", "", (size_t)0,
				  KEY_SPEC_SESSION_KEYRING);

		if (id >= 0)
			syscall(SYS_keyctl, KEYCTL_UNLINK, id, KEY_SPEC_SESSION_KEYRING);
		if (id >= 0 || errno != ENODEV)
			o += snprintf(key_types + o, sizeof(key_types) - o, ",%s", optional[i]);
	}
}

static bool key_type_available(const char *type, size_t len)
{
	const char *p = key_types;

	while (*p) {
		size_t n = strcspn(p, ",");

		if (n == len && !strncmp(p, type, len))
			return true;
		p += n;
		if (*p)
			p++;
	}
	return false;
}

/* ------------------------------------------------------------------ */
/* Checking an accepted table: a real device that works */

/*
 * The device name (devno) has just loaded a table of len sectors as its
 * inactive table: resume it, check the table it prints back (when canon is
 * not NULL), its size and status, and read its first block. Returns NULL or
 * what was wrong. The caller removes the device.
 */
static const char *check_device(const char *name, dev_t devno, uint64_t len,
				const char *canon, char *printed, size_t size)
{
	static char why[1024];
	char node[64], status[512], pbuf[512];
	const char *err = NULL;
	void *block = NULL;
	uint64_t bytes;
	int fd = -1, r, lbs;

	printed[0] = '\0';
	r = dm_simple(DM_DEV_SUSPEND, name);	/* no DM_SUSPEND_FLAG: resume */
	if (r) {
		snprintf(why, sizeof(why), "resume failed: %s", strerror(-r));
		return why;
	}
	if (dm_status(name, true, printed, size))
		return "cannot read the table back";
	if (canon && strcmp(printed, canon)) {
		snprintf(why, sizeof(why), "table printed back as '%s', expected '%s'",
			 printable(printed, pbuf, sizeof(pbuf)), canon);
		return why;
	}
	snprintf(node, sizeof(node), "/dev/dm-%u", minor(devno));
	fd = open(node, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, BLKSSZGET, &lbs) || ioctl(fd, BLKGETSIZE64, &bytes)) {
		snprintf(why, sizeof(why), "cannot open %s: %s", node, strerror(errno));
		err = why;
		goto out;
	}
	if (bytes != len << 9) {
		snprintf(why, sizeof(why), "size %" PRIu64 " bytes, expected %" PRIu64,
			 bytes, len << 9);
		err = why;
		goto out;
	}
	if (posix_memalign(&block, 4096, lbs))
		die("out of memory");
	if (pread(fd, block, lbs, 0) != lbs) {
		snprintf(why, sizeof(why), "reading the first %d-byte block failed: %s",
			 lbs, strerror(errno));
		err = why;
		goto out;
	}
	if (dm_status(name, false, status, sizeof(status)) || strncmp(status, "valid ", 6)) {
		snprintf(why, sizeof(why), "status '%s', expected 'valid ...'", status);
		err = why;
		goto out;
	}
out:
	free(block);
	if (fd >= 0)
		close(fd);
	return err;
}

/* ------------------------------------------------------------------ */
/* raw: load tables given on the command line, print what happened */

static int cmd_raw(int argc, char **argv)
{
	struct klog k, k2;
	dev_t devno;
	char printed[4096], buf[4096], names[4096];
	const char *why;
	int i = 0, r, excl = -1;

	if (argc >= 2 && !strcmp(argv[0], "--hold-excl")) {
		excl = open(argv[1], O_RDONLY | O_EXCL | O_CLOEXEC);
		if (excl < 0)
			die("cannot hold %s exclusively: %s", argv[1], strerror(errno));
		i = 2;
	}
	if ((argc - i) % 2 || argc - i == 0)
		die("raw: want LEN PARAMS pairs");
	kmsg_open();
	for (; i < argc; i += 2) {
		char *end;
		uint64_t len;

		errno = 0;
		len = strtoull(argv[i], &end, 10);
		if (errno || *end)
			die("raw: bad length %s", argv[i]);
		kmsg_read(&k);
		r = dm_create(FUZZ_DEV, &devno);
		if (r)
			die("cannot create %s: %s", FUZZ_DEV, strerror(-r));
		r = dm_load(FUZZ_DEV, len, argv[i + 1]);
		kmsg_read(&k);
		why = r ? NULL : check_device(FUZZ_DEV, devno, len, NULL, printed,
					      sizeof(printed));
		if (!r)
			kmsg_read(&k2);
		dm_simple(DM_DEV_REMOVE, FUZZ_DEV);
		if (dm_count(names, sizeof(names)))
			printf("left\t%s\n", names);
		else if (k.bad || (!r && k2.bad))
			printf("crash\t%s\n", k.bad ? k.bad_line : k2.bad_line);
		else if (r)
			printf("refused\t%s\t%s\t%d\n", k.error,
			       k.errno_name[0] ? k.errno_name : "-", k.errors);
		else if (why)
			printf("broken\t%s\n", why);
		else
			printf("accepted\t%s\n", printable(printed, buf, sizeof(buf)));
		fflush(stdout);
	}
	if (excl >= 0)
		close(excl);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The model: what the documentation says the kernel must do with a table */

static bool k_isspace(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xa0;
}

static bool k_isdigit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* dm_split_args(): whitespace separates, a backslash quotes the next byte. */
static int split_args(char *s, char **argv, int max)
{
	int argc = 0;
	char *out;

	for (;;) {
		while (*s && k_isspace(*s))
			s++;
		if (!*s)
			return argc;
		out = s;
		if (argc < max)
			argv[argc] = s;
		argc++;
		while (*s) {
			if (*s == '\\' && s[1]) {
				*out++ = s[1];
				s += 2;
				continue;
			}
			if (k_isspace(*s))
				break;
			*out++ = *s++;
		}
		if (*s)
			s++;
		*out = '\0';
	}
}

/*
 * A number as the documentation allows it: decimal digits only (leading
 * zeros are still decimal), no sign, no trailing characters, no overflow.
 */
static bool doc_number(const char *s, uint64_t max, uint64_t *val)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (!k_isdigit(*s))
			return false;
		if (v > (UINT64_MAX - (*s - '0')) / 10)
			return false;
		v = v * 10 + (*s - '0');
	}
	if (v > max)
		return false;
	*val = v;
	return true;
}

struct model {
	enum { ACCEPT, REFUSE, UNKNOWN } kind;
	const char *error;	/* REFUSE: the sentence, as kmsg_line() extracts it */
	char canon[2048];	/* ACCEPT: the table printed back */
};

#define REFUSED(m, msg) do { (m)->kind = REFUSE; (m)->error = (msg); return; } while (0)

/* Device strings the model knows the fate of; any other is UNKNOWN. */
struct known_dev {
	const char *name;	/* "=" stands for the lower device's major:minor */
	bool valid;
};

static const struct known_dev known_devs[] = {
	{ "=", true },
	{ "/dev/ram0", true },
	{ "/dev//ram0", true },
	{ "/dev/./ram0", true },
	{ "/dev/null", false },
	{ "/dev", false },
	{ "/nonexistent", false },
	{ "/dev/ram0/", false },
	{ "0:0", false },
	{ "9999:9999", false },
	{ "4096:0", false },
	{ "0:1048576", false },
	{ "-", false },
};
#define NR_KNOWN_DEVS (sizeof(known_devs) / sizeof(known_devs[0]))

static int known_dev(const char *s)
{
	size_t i;

	for (i = 0; i < NR_KNOWN_DEVS; i++) {
		const char *name = known_devs[i].name;

		if (!strcmp(name, "=") ? !strcmp(s, dev_name) : !strcmp(s, name))
			return known_devs[i].valid;
	}
	return -1;
}

/*
 * A key reference :<size>:<type>:<description> as the documentation allows
 * it. Return NULL and split @key into *@type and *@desc, or the refusal.
 */
static const char *model_key(char *key, unsigned int *size, char **type, char **desc)
{
	char size_buf[16], *p;
	uint64_t v;
	size_t n;

	for (p = key; *p; p++)
		if (k_isspace(*p))
			return "seal: Key string must not contain whitespace";
	if (key[0] != ':')
		return "seal: Key must come from the kernel keyring, not the table";
	*type = strchr(key + 1, ':');
	n = *type ? (size_t)(*type - key - 1) : 0;
	/* The size field: 1 to 15 characters, a decimal number. */
	if (!*type || !n || n >= sizeof(size_buf))
		return "seal: Invalid key size";
	memcpy(size_buf, key + 1, n);
	size_buf[n] = '\0';
	if (!doc_number(size_buf, UINT_MAX, &v))
		return "seal: Invalid key size";
	*size = v;
	if (*size != 32 && *size != 64)
		return "seal: Key size must be 32 or 64 bytes";
	(*type)++;
	*desc = strchr(*type, ':');
	if (!*desc || !(*desc)[1])
		return "seal: Missing key description";
	*(*desc)++ = '\0';
	if (!((!strcmp(*type, "logon") || !strcmp(*type, "user") ||
	       !strcmp(*type, "encrypted") || !strcmp(*type, "trusted")) &&
	      key_type_available(*type, strlen(*type))))
		return "seal: Unsupported key type";
	return NULL;
}

/* The keyring's verdict on a parsed key: NULL, or the refusal. */
static const char *model_key_lookup(const char *type, const char *desc, unsigned int size)
{
	unsigned int i;

	for (i = 0; i < NR_KNOWN_KEYS; i++)
		if (!strcmp(known_keys[i].type, type) && !strcmp(known_keys[i].desc, desc))
			break;
	if (i == NR_KNOWN_KEYS)
		return "seal: Key lookup failed";
	if (known_keys[i].revoked)
		return "seal: Key is revoked or expired";
	if (known_keys[i].size != size)
		return "seal: Key size does not match the keyring payload";
	return NULL;
}

/* The same refusal for the reencrypt key (dm-seal-reencrypt.c rewords it). */
static const char *model_new_key_error(const char *error)
{
	if (!strcmp(error, "seal: Key lookup failed"))
		return "seal: Reencrypt key lookup failed";
	if (!strcmp(error, "seal: Key is revoked or expired"))
		return "seal: Reencrypt key is revoked or expired";
	return "seal: Reencrypt key size does not match the keyring payload";
}

static void model_table(uint64_t len, const char *params, struct model *m)
{
	char *copy = NULL, *argv[MAX_TOKENS + 8], *key, *type, *desc;
	char *new_type = NULL, *new_desc = NULL;
	uint64_t iv_offset, start, count, v, boundary = 0;
	unsigned int key_size, new_key_size = 0, sector_size = 512, i;
	bool discards = false, iv_large = false, seen_ss = false, reenc = false;
	size_t o, n;
	int argc, dev;

	m->kind = UNKNOWN;
	m->error = NULL;
	m->canon[0] = '\0';
	if (!len)
		REFUSED(m, "zero-length target");
	if (len > ((uint64_t)LLONG_MAX >> 9))
		REFUSED(m, "too large device");

	copy = xstrdup(params);
	argc = split_args(copy, argv, MAX_TOKENS + 8);
	if (argc > MAX_TOKENS + 8)
		argc = MAX_TOKENS + 8;	/* more than any count allows anyway */
	if (argc < 5)
		goto refuse_args;
	if (strcmp(argv[0], CIPHER)) {
		m->error = "seal: Cipher must be " CIPHER;
		goto refuse;
	}

	/* <key> :<size>:<type>:<description> */
	key = argv[1];
	m->error = model_key(key, &key_size, &type, &desc);
	if (m->error)
		goto refuse;

	if (!doc_number(argv[2], UINT64_MAX, &iv_offset)) {
		m->error = "seal: Invalid iv_offset";
		goto refuse;
	}
	dev = known_dev(argv[3]);
	if (dev < 0)
		goto out;	/* UNKNOWN */
	if (!dev) {
		m->error = "seal: Device lookup failed";
		goto refuse;
	}
	if (!doc_number(argv[4], UINT64_MAX, &start)) {
		m->error = "seal: Invalid device offset";
		goto refuse;
	}

	/* [<#opt> <opt>...] */
	if (argc > 5) {
		if (!doc_number(argv[5], 6, &count)) {
			m->error = "seal: Invalid number of optional arguments";
			goto refuse;
		}
		if (count > (uint64_t)argc - 6) {
			m->error = "seal: Not enough optional arguments";
			goto refuse;
		}
		if (count < (uint64_t)argc - 6) {
			m->error = "seal: Too many arguments";
			goto refuse;
		}
		for (i = 6; i < (unsigned int)argc; i++) {
			const char *opt = argv[i];
			bool *seen;

			if (!strcasecmp(opt, "allow_discards")) {
				seen = &discards;
			} else if (!strcasecmp(opt, "iv_large_sectors")) {
				seen = &iv_large;
			} else if (!strncasecmp(opt, "sector_size:", 12)) {
				seen = &seen_ss;
				if (!seen_ss) {
					if (!doc_number(opt + 12, UINT_MAX, &v) ||
					    v < 512 || v > 4096 || (v & (v - 1))) {
						m->error = "seal: Invalid sector_size";
						goto refuse;
					}
					sector_size = v;
				}
			} else if (!strcasecmp(opt, "reencrypt")) {
				seen = &reenc;
			} else {
				m->error = "seal: Unknown optional argument";
				goto refuse;
			}
			if (*seen) {
				m->error = "seal: Duplicate optional argument";
				goto refuse;
			}
			*seen = true;
			if (seen != &reenc)
				continue;
			/* reencrypt <new key> <boundary> */
			if ((unsigned int)argc - i < 3) {
				m->error = "seal: Missing reencrypt key or boundary";
				goto refuse;
			}
			if (model_key(argv[++i], &new_key_size, &new_type, &new_desc)) {
				m->error = "seal: Invalid reencrypt key";
				goto refuse;
			}
			if (!doc_number(argv[++i], UINT64_MAX, &boundary)) {
				m->error = "seal: Invalid reencrypt boundary";
				goto refuse;
			}
		}
	}

	if (len % (sector_size / 512)) {
		m->error = "seal: Device length is not a multiple of sector_size";
		goto refuse;
	}
	if (iv_offset % (sector_size / 512)) {
		m->error = "seal: iv_offset is not a multiple of sector_size";
		goto refuse;
	}
	/*
	 * Not in the documentation, but dm core requires it: the target's
	 * logical block size is sector_size, and a start on the lower device
	 * that is not aligned to it fails dm_calculate_queue_limits() ("start=N
	 * not aligned to h/w logical block size"): on a new device the table
	 * is refused with dm core's message, on a device that already had a
	 * table the load succeeds and the resume fails. The target must refuse
	 * such a table itself; the sentence is the one this test proposes.
	 */
	if (start % (sector_size / 512)) {
		m->error = "seal: Device offset is not a multiple of sector_size";
		goto refuse;
	}
	if (start > dev_sectors || len > dev_sectors - start) {
		m->error = "seal: Device is too small";
		goto refuse;
	}

	/* The key, looked up in the keyring. */
	m->error = model_key_lookup(type, desc, key_size);
	if (m->error)
		goto refuse;
	if (reenc) {
		if (boundary % (sector_size / 512)) {
			m->error = "seal: Reencrypt boundary is not a multiple of sector_size";
			goto refuse;
		}
		if (boundary > len) {
			m->error = "seal: Reencrypt boundary is beyond the end of the target";
			goto refuse;
		}
		m->error = model_key_lookup(new_type, new_desc, new_key_size);
		if (m->error) {
			m->error = model_new_key_error(m->error);
			goto refuse;
		}
	}

	m->kind = ACCEPT;
	o = snprintf(m->canon, sizeof(m->canon), CIPHER " :%u:%s:%s %" PRIu64 " %s %" PRIu64,
		     key_size, type, desc, iv_offset, dev_name, start);
	n = discards + (sector_size != 512) + iv_large + 3 * reenc;
	if (n && o < sizeof(m->canon))
		o += snprintf(m->canon + o, sizeof(m->canon) - o, " %zu", n);
	if (discards && o < sizeof(m->canon))
		o += snprintf(m->canon + o, sizeof(m->canon) - o, " allow_discards");
	if (sector_size != 512 && o < sizeof(m->canon))
		o += snprintf(m->canon + o, sizeof(m->canon) - o, " sector_size:%u", sector_size);
	if (iv_large && o < sizeof(m->canon))
		o += snprintf(m->canon + o, sizeof(m->canon) - o, " iv_large_sectors");
	if (reenc && o < sizeof(m->canon))
		snprintf(m->canon + o, sizeof(m->canon) - o, " reencrypt :%u:%s:%s %" PRIu64,
			 new_key_size, new_type, new_desc, boundary);
	goto out;

refuse_args:
	m->error = "seal: Not enough arguments";
refuse:
	m->kind = REFUSE;
out:
	free(copy);
}

/* Every sentence a seal table may be refused with, and dm core's own. */
static const char *const known_errors[] = {
	"zero-length target",
	"too large device",
	"seal: Not enough arguments",
	"seal: Cipher must be " CIPHER,
	"seal: Key string must not contain whitespace",
	"seal: Key must come from the kernel keyring, not the table",
	"seal: Invalid key size",
	"seal: Key size must be 32 or 64 bytes",
	"seal: Missing key description",
	"seal: Unsupported key type",
	"seal: Invalid iv_offset",
	"seal: Device lookup failed",
	"seal: Invalid device offset",
	"seal: Invalid number of optional arguments",
	"seal: Not enough optional arguments",
	"seal: Too many arguments",
	"seal: Invalid sector_size",
	"seal: Unknown optional argument",
	"seal: Duplicate optional argument",
	"seal: Device length is not a multiple of sector_size",
	"seal: iv_offset is not a multiple of sector_size",
	"seal: Device offset is not a multiple of sector_size",
	"seal: Device is too small",
	"seal: Key lookup failed",
	"seal: Key is revoked or expired",
	"seal: Key size does not match the keyring payload",
	"seal: Key refused by xts(aes)",
	"seal: Missing reencrypt key or boundary",
	"seal: Invalid reencrypt key",
	"seal: Invalid reencrypt boundary",
	"seal: Reencrypt boundary is not a multiple of sector_size",
	"seal: Reencrypt boundary is beyond the end of the target",
	"seal: Reencrypt key lookup failed",
	"seal: Reencrypt key is revoked or expired",
	"seal: Reencrypt key size does not match the keyring payload",
	"seal: Reencrypt key refused by xts(aes)",
	"seal: Cannot load the reencrypt key",
};
#define NR_KNOWN_ERRORS (sizeof(known_errors) / sizeof(known_errors[0]))

static int error_index(const char *s)
{
	size_t i;

	for (i = 0; i < NR_KNOWN_ERRORS; i++)
		if (!strcmp(s, known_errors[i]))
			return i;
	return -1;
}

/* ------------------------------------------------------------------ */
/* Mutations */

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned int rnd(unsigned int n)
{
	return n ? rng() % n : 0;
}

#define PICK(array) ((array)[rnd(sizeof(array) / sizeof((array)[0]))])

struct table {
	uint64_t len;
	int n;
	char *tok[MAX_TOKENS];
};

static void t_free(struct table *t)
{
	int i;

	for (i = 0; i < t->n; i++)
		free(t->tok[i]);
	t->n = 0;
}

static void t_insert(struct table *t, int at, const char *s)
{
	if (t->n >= MAX_TOKENS)
		return;
	memmove(&t->tok[at + 1], &t->tok[at], (t->n - at) * sizeof(char *));
	t->tok[at] = xstrdup(s);
	t->n++;
}

static void t_delete(struct table *t, int at)
{
	free(t->tok[at]);
	memmove(&t->tok[at], &t->tok[at + 1], (t->n - at - 1) * sizeof(char *));
	t->n--;
}

static void t_set(struct table *t, int at, const char *s)
{
	if (at >= t->n) {
		t_insert(t, t->n, s);
		return;
	}
	free(t->tok[at]);
	t->tok[at] = xstrdup(s);
}

static char *long_token(size_t n, char c)
{
	static char buf[8192];

	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

static const char *const ciphers[] = {
	CIPHER, CIPHER, "AES-XTS-PLAIN64", "Aes-xts-plain64", "aes-xts-plain",
	"aes-xts-plain64be", "aes-xts-essiv:sha256", "aes-cbc-essiv:sha256",
	"aes-xts-benbi", "capi:xts(aes)-plain64", "twofish-xts-plain64",
	"xts(aes)", "aes", "aes-xts-plain64:", "aes\\-xts-plain64", "-",
	"aes-xts-plain64\\", "cipher_null-ecb",
};

static const char *const numbers[] = {
	"0", "1", "2", "7", "8", "9", "15", "16", "31", "32", "33", "48", "63",
	"64", "65", "511", "512", "513", "1000", "1023", "1024", "1536", "2048",
	"4095", "4096", "4097", "8192", "65536", "4294967295", "4294967296",
	"4294967328", "4294967360", "4294967808", "9223372036854775807",
	"9223372036854775808", "18446744073709551615", "18446744073709551616",
	"18446744073709551624", "99999999999999999999", "-1", "-0", "+8", "08",
	"0x8", "8x", "1e3", "0.5", "8\\\n", "\\8", "0000000000000000000008",
};

static const char *const key_sizes[] = {
	"32", "64", "64", "32", "0", "1", "16", "48", "128", "+32", "-64", "064",
	"30+2", "4294967296", "4294967328", "4294967360", "99999999999999999999",
	"", "x", "6 4", "64\\ ", "0000000000000064", "000000000000064",
};

static const char *const key_type_names[] = {
	"logon", "logon", "user", "user", "encrypted", "trusted", "LOGON",
	"Logon", "", "asymmetric", "keyring", "logo", "logonn", "big_key",
};

static const char *const key_descs[] = {
	"seal-fuzz:k64", "seal-fuzz:k64", "seal-fuzz:k32", "seal-fuzz:u64",
	"seal-fuzz:u32", "seal-fuzz:k48", "seal-fuzz:revoked", "seal-fuzz:nokey",
	"seal-fuzz:k64:", ":", "x", "seal-fuzz", "", "seal-fuzz:k64\\ x",
};

static const char *const devices[] = {
	"=", "=", "/dev/ram0", "/dev/ram0", "/dev//ram0", "/dev/./ram0",
	"/dev/null", "/dev", "/nonexistent", "/dev/ram0/", "0:0", "9999:9999",
	"4096:0", "0:1048576", "-",
};

static const char *const options[] = {
	"allow_discards", "ALLOW_DISCARDS", "Allow_Discards", "iv_large_sectors",
	"IV_LARGE_SECTORS", "sector_size:4096", "sector_size:512",
	"sector_size:1024", "sector_size:2048", "SECTOR_SIZE:4096",
	"Sector_Size:2048", "sector_size:", "sector_size", "sector_size=4096",
	"sector_size:0", "sector_size:256", "sector_size:384", "sector_size:1000",
	"sector_size:1536", "sector_size:8192", "sector_size:-512",
	"sector_size:+4096", "sector_size:4096x", "sector_size:0x1000",
	"sector_size:04096", "sector_size:4294967808", "sector_size:4096:",
	"same_cpu_crypt", "submit_from_crypt_cpus", "no_read_workqueue",
	"integrity:28:aead", "allow_discards:1", "iv_large_sector",
	"allow_discards\\ ", "x", "reencrypt", "REENCRYPT", "reencrypt:",
};

static const char *const valid_options[] = {
	"allow_discards", "Allow_Discards", "iv_large_sectors", "IV_LARGE_SECTORS",
	"sector_size:512", "sector_size:1024", "sector_size:2048", "sector_size:4096",
	"SECTOR_SIZE:4096",
};

static const char *const opt_counts[] = {
	"0", "1", "2", "3", "4", "5", "6", "7", "-1", "+1", "1x", "01", "4294967297",
	"99999999999999999999", "three",
};

static const char *const junk[] = {
	"0", "1", "3", "4", "-1", "allow_discards", "sector_size:4096",
	"iv_large_sectors", ":64:logon:seal-fuzz:k64", "/dev/ram0", CIPHER, "\\",
	"\\ ", ":", "::", "x", "\\\n", "\xa0", "\xff\xfe", "\x01", "%s%n",
};

static const char flip_chars[] = "0123456789::--++xX_ ./\\\t\naAfFzZ,;=()\xa0\xff\x01";

static const char *dev_token(const char *d)
{
	return strcmp(d, "=") ? d : dev_name;
}

static void random_key(char *buf, size_t size)
{
	const char *prefix = rnd(10) ? ":" : PICK(((const char *const[]){ "", "::", "-", "0", "x" }));
	size_t o;

	if (rnd(2)) {		/* well-formed: a key there is, maybe with a wrong size or type */
		const struct known_key *k = &known_keys[rnd(NR_KNOWN_KEYS)];
		unsigned int sz = k->size == 32 ? 32 : 64;

		snprintf(buf, size, ":%u:%s:%s", rnd(3) ? sz : 96 - sz,
			 rnd(3) ? k->type : PICK(((const char *const[]){ "logon", "user", "encrypted" })),
			 k->desc);
		return;
	}
	if (rnd(20) == 0) {	/* a hex key, as dm-crypt would take it */
		for (o = 0; o < 128 && o + 1 < size; o++)
			buf[o] = "0123456789abcdef"[rnd(16)];
		buf[o] = '\0';
		return;
	}
	o = snprintf(buf, size, "%s%s", prefix, PICK(key_sizes));
	if (rnd(12) && o < size)
		o += snprintf(buf + o, size - o, ":");
	if (o < size)
		o += snprintf(buf + o, size - o, "%s", PICK(key_type_names));
	if (rnd(12) && o < size)
		o += snprintf(buf + o, size - o, ":");
	if (o < size)
		snprintf(buf + o, size - o, "%s",
			 rnd(40) ? PICK(key_descs) : long_token(300 + rnd(5000), 'k'));
}

static uint64_t random_len(void)
{
	switch (rnd(16)) {
	case 0: return 0;
	case 1: return 1;
	case 2: return 7;
	case 3: return 9;
	case 4: return dev_sectors;
	case 5: return dev_sectors + 1;
	case 6: return dev_sectors + 8;
	case 7: return dev_sectors - 1;
	case 8: return dev_sectors - 8;
	case 9: return 1ULL << 32;
	case 10: return (uint64_t)LLONG_MAX >> 9;
	case 11: return ((uint64_t)LLONG_MAX >> 9) + 1;
	case 12: return UINT64_MAX;
	case 13: return 1ULL << 63;
	default: return 8 * (1 + rnd(dev_sectors / 8));
	}
}

/* Valid tables the mutations start from. */
static void base_table(struct table *t)
{
	char buf[64];

	t->n = 0;
	switch (rnd(6)) {
	case 0:
		t->len = 8;
		t_insert(t, 0, CIPHER);
		t_insert(t, 1, ":64:logon:seal-fuzz:k64");
		t_insert(t, 2, "0");
		t_insert(t, 3, "/dev/ram0");
		t_insert(t, 4, "0");
		break;
	case 1:
		t->len = 64;
		t_insert(t, 0, CIPHER);
		t_insert(t, 1, ":32:logon:seal-fuzz:k32");
		t_insert(t, 2, "8");
		t_insert(t, 3, dev_name);
		t_insert(t, 4, "16");
		t_insert(t, 5, "1");
		t_insert(t, 6, "allow_discards");
		break;
	case 2:
		t->len = 256;
		t_insert(t, 0, CIPHER);
		t_insert(t, 1, ":64:user:seal-fuzz:u64");
		t_insert(t, 2, "16");
		t_insert(t, 3, "/dev/ram0");
		t_insert(t, 4, "8");
		t_insert(t, 5, "3");
		t_insert(t, 6, "allow_discards");
		t_insert(t, 7, "sector_size:4096");
		t_insert(t, 8, "iv_large_sectors");
		break;
	case 3:
		t->len = dev_sectors;
		t_insert(t, 0, CIPHER);
		t_insert(t, 1, ":32:user:seal-fuzz:u32");
		t_insert(t, 2, "0");
		t_insert(t, 3, dev_name);
		t_insert(t, 4, "0");
		t_insert(t, 5, "2");
		t_insert(t, 6, "iv_large_sectors");
		t_insert(t, 7, "sector_size:1024");
		break;
	case 4:
		t->len = 1024;
		t_insert(t, 0, CIPHER);
		t_insert(t, 1, ":64:logon:seal-fuzz:k64");
		t_insert(t, 2, "4");
		t_insert(t, 3, "/dev/ram0");
		snprintf(buf, sizeof(buf), "%" PRIu64, dev_sectors - 1024);
		t_insert(t, 4, buf);
		t_insert(t, 5, "1");
		t_insert(t, 6, "SECTOR_SIZE:2048");
		break;
	default:
		t->len = 8;
		t_insert(t, 0, CIPHER);
		t_insert(t, 1, ":64:logon:seal-fuzz:k64");
		t_insert(t, 2, "18446744073709551615");
		t_insert(t, 3, "/dev/ram0");
		t_insert(t, 4, "0");
		t_insert(t, 5, "0");
		break;
	}
}

static void mutate(struct table *t)
{
	char buf[8192];
	int i, j, n;
	size_t l;

	i = t->n ? (int)rnd(t->n) : 0;
	switch (rnd(20)) {
	case 0:		/* delete a token */
		if (t->n)
			t_delete(t, i);
		break;
	case 1:		/* duplicate a token */
		if (t->n)
			t_insert(t, rnd(t->n + 1), t->tok[i]);
		break;
	case 2:		/* swap two tokens */
		if (t->n > 1) {
			char *tmp = t->tok[i];

			j = rnd(t->n);
			t->tok[i] = t->tok[j];
			t->tok[j] = tmp;
		}
		break;
	case 3:		/* change a character */
	case 4:
		if (t->n && (l = strlen(t->tok[i]))) {
			char *c = &t->tok[i][rnd(l)], old = *c;

			do
				*c = rnd(4) ? flip_chars[rnd(sizeof(flip_chars) - 1)]
					    : (char)(1 + rnd(255));
			while (*c == old);
		}
		break;
	case 5:		/* insert or delete a character */
		if (t->n) {
			l = strlen(t->tok[i]);
			j = rnd(l + 1);
			if (rnd(2) && l > 1) {
				memmove(t->tok[i] + j, t->tok[i] + j + 1, l - j);
			} else {
				snprintf(buf, sizeof(buf), "%.*s%c%s", j, t->tok[i],
					 flip_chars[rnd(sizeof(flip_chars) - 1)], t->tok[i] + j);
				t_set(t, i, buf);
			}
		}
		break;
	case 6:		/* a boundary value for a number */
		j = PICK(((const int[]){ 2, 4, 5 }));
		t_set(t, j < t->n ? j : i, PICK(numbers));
		break;
	case 7:		/* cut the table short */
		while (t->n > i)
			t_delete(t, t->n - 1);
		break;
	case 8:		/* cut a token short */
		if (t->n && (l = strlen(t->tok[i])) > 1)
			t->tok[i][1 + rnd(l - 1)] = '\0';
		break;
	case 9:		/* a junk token */
		t_insert(t, rnd(t->n + 1),
			 rnd(30) ? PICK(junk) : long_token(100 + rnd(6000), 'J'));
		break;
	case 10:	/* new optional arguments */
		while (t->n > 5)
			t_delete(t, t->n - 1);
		n = rnd(5);
		if (rnd(4)) {
			snprintf(buf, sizeof(buf), "%d", rnd(5) ? n : (int)rnd(6));
			t_insert(t, t->n, buf);
		} else {
			t_insert(t, t->n, PICK(opt_counts));
		}
		for (j = 0; j < n; j++)
			t_insert(t, t->n, rnd(3) ? PICK(valid_options) : PICK(options));
		if (!rnd(3)) {	/* reencrypt <new key> <boundary>, counted or not */
			t_insert(t, rnd(2) ? t->n : 6, "reencrypt");
			random_key(buf, sizeof(buf));
			t_insert(t, t->n, buf);
			snprintf(buf, sizeof(buf), "%" PRIu64, rnd(4) ? 8 * (uint64_t)rnd(64) :
				 (uint64_t)rnd(1 << 20));
			t_insert(t, t->n, buf);
			if (t->n > 5 && rnd(4)) {
				snprintf(buf, sizeof(buf), "%d", n + 3);
				t_set(t, 5, buf);
			}
		}
		break;
	case 11:	/* a new optional argument count */
		t_set(t, 5, PICK(opt_counts));
		break;
	case 12:	/* one optional argument replaced or added */
		if (t->n > 6 && rnd(2))
			t_set(t, 6 + rnd(t->n - 6), PICK(options));
		else
			t_insert(t, t->n, PICK(options));
		break;
	case 13:	/* another key */
	case 14:
		random_key(buf, sizeof(buf));
		t_set(t, 1, buf);
		break;
	case 15:	/* another device */
		t_set(t, 3, dev_token(PICK(devices)));
		break;
	case 16:	/* another cipher */
		t_set(t, 0, PICK(ciphers));
		break;
	case 17:	/* another length */
		t->len = random_len();
		break;
	case 18:	/* an offset or iv_offset near the end of the device */
		snprintf(buf, sizeof(buf), "%" PRIu64,
			 dev_sectors - t->len + PICK(((const int[]){ -8, -1, 0, 1, 8 })));
		t_set(t, rnd(2) ? 4 : 2, buf);
		break;
	default:	/* a backslash before a character */
		if (t->n) {
			l = strlen(t->tok[i]);
			j = rnd(l + 1);
			snprintf(buf, sizeof(buf), "%.*s\\%s", j, t->tok[i], t->tok[i] + j);
			t_set(t, i, buf);
		}
		break;
	}
}

/* The table's tokens joined by whitespace, as a table line would carry them. */
static char *serialise(const struct table *t)
{
	static const char *const seps[] = { "  ", "\t", "\n", "\xa0", " \t ", "\r\n" };
	size_t size = 64, o = 0;
	char *s;
	int i;

	for (i = 0; i < t->n; i++)
		size += strlen(t->tok[i]) + 8;
	s = xmalloc(size);
	s[0] = '\0';
	if (!rnd(16))
		o += snprintf(s + o, size - o, "%s", PICK(seps));
	for (i = 0; i < t->n; i++)
		o += snprintf(s + o, size - o, "%s%s", i ? (rnd(16) ? " " : PICK(seps)) : "",
			      t->tok[i]);
	if (!rnd(16))
		snprintf(s + o, size - o, "%s", PICK(seps));
	return s;
}

/* ------------------------------------------------------------------ */
/* fuzz */

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

struct stats {
	double load_time, check_time;
	unsigned int reloads;
	unsigned int tables, accepted, refused, unknown, agree, disagree;
	unsigned int accepted_wrongly, broken, crashes, no_message, many_messages;
	unsigned int unknown_message, lost, reported;
	unsigned int by_error[NR_KNOWN_ERRORS];
};

static void report(struct stats *s, const char *what, uint64_t len, const char *params,
		   const char *detail)
{
	char buf[1024];

	if (s->reported++ >= MAX_REPORTS)
		return;
	printf("# %s: table \"0 %" PRIu64 " seal %s\": %s\n", what, len,
	       printable(params, buf, sizeof(buf)), detail);
}

/*
 * Every table is loaded into a new device, as with dmsetup create. Removing a
 * device that had a table waits for RCU grace periods and workqueue teardown,
 * over 100 ms under TCG; threads remove used devices while the next tables
 * load (which also has other devices' destructors run concurrently with
 * constructors).
 */
#define REMOVERS	3
#define REMOVE_QUEUE	64

/*
 * A table goes either to a new device, as with dmsetup create (FRESH), or, one
 * in eight, as a reload into a device that has a live table (LIVE), where
 * dm core checks less at load time and more at resume.
 */
enum { FRESH, LIVE };
static char fuzz_dev[2][DM_NAME_LEN];
static dev_t fuzz_devno[2];
static unsigned int fuzz_serial;

static pthread_mutex_t remove_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t remove_cond = PTHREAD_COND_INITIALIZER;
static char remove_queue[REMOVE_QUEUE][DM_NAME_LEN];
static unsigned int remove_head, remove_tail, removing, remove_failures;
static bool remove_done;
static char remove_error[256];

static void *remover(void *arg)
{
	char name[DM_NAME_LEN];
	struct dm_ioctl io;
	int r, tries;

	(void)arg;
	pthread_mutex_lock(&remove_lock);
	for (;;) {
		while (remove_head == remove_tail && !remove_done)
			pthread_cond_wait(&remove_cond, &remove_lock);
		if (remove_head == remove_tail)
			break;
		memcpy(name, remove_queue[remove_tail++ % REMOVE_QUEUE], sizeof(name));
		removing++;
		pthread_cond_broadcast(&remove_cond);
		pthread_mutex_unlock(&remove_lock);

		for (tries = 0; tries < 50; tries++) {
			memset(&io, 0, sizeof(io));
			io.version[0] = DM_VERSION_MAJOR;
			io.data_size = sizeof(io);
			io.data_start = sizeof(io);
			memcpy(io.name, name, sizeof(io.name));
			r = ioctl(dm_fd, DM_DEV_REMOVE, &io) ? -errno : 0;
			if (r != -EBUSY && r != -EINTR)
				break;
			usleep(20000);
		}

		pthread_mutex_lock(&remove_lock);
		removing--;
		if (r && !remove_failures++)
			snprintf(remove_error, sizeof(remove_error), "cannot remove %s: %s",
				 name, strerror(-r));
		pthread_cond_broadcast(&remove_cond);
	}
	pthread_mutex_unlock(&remove_lock);
	return NULL;
}

static void removers_start(pthread_t *threads)
{
	int i;

	for (i = 0; i < REMOVERS; i++)
		if (pthread_create(&threads[i], NULL, remover, NULL))
			die("cannot start a thread");
}

/* Wait until every queued device is removed; stop the threads. */
static void removers_stop(pthread_t *threads)
{
	int i;

	pthread_mutex_lock(&remove_lock);
	remove_done = true;
	pthread_cond_broadcast(&remove_cond);
	pthread_mutex_unlock(&remove_lock);
	for (i = 0; i < REMOVERS; i++)
		pthread_join(threads[i], NULL);
}

/*
 * Hand the device in slot (if any) to the removers; create a new one, for
 * LIVE with a valid table, resumed.
 */
static void fuzz_device_renew(int slot)
{
	static const char live_table[] = CIPHER " :64:logon:seal-fuzz:k64 0 /dev/ram0 0";
	int r;

	if (fuzz_dev[slot][0]) {
		pthread_mutex_lock(&remove_lock);
		while (remove_head - remove_tail >= REMOVE_QUEUE)
			pthread_cond_wait(&remove_cond, &remove_lock);
		memcpy(remove_queue[remove_head++ % REMOVE_QUEUE], fuzz_dev[slot],
		       sizeof(fuzz_dev[slot]));
		pthread_cond_broadcast(&remove_cond);
		pthread_mutex_unlock(&remove_lock);
		fuzz_dev[slot][0] = '\0';
	}
	snprintf(fuzz_dev[slot], sizeof(fuzz_dev[slot]), "%s-%u", FUZZ_DEV, fuzz_serial++);
	r = dm_create(fuzz_dev[slot], &fuzz_devno[slot]);
	if (r)
		die("cannot create %s: %s", fuzz_dev[slot], strerror(-r));
	if (slot == LIVE) {
		r = dm_load(fuzz_dev[slot], 8, live_table);
		if (!r)
			r = dm_simple(DM_DEV_SUSPEND, fuzz_dev[slot]);
		if (r)
			die("cannot make %s live: %s", fuzz_dev[slot], strerror(-r));
	}
}

static void fuzz_one(struct stats *s, int slot, uint64_t len, const char *params,
		     bool verbose)
{
	char detail[4096], printed[4096], pbuf[1024];
	struct model m;
	struct klog k;
	const char *why;
	double t;
	int r, e;

	model_table(len, params, &m);
	kmsg_read(&k);
	s->lost += k.lost;
	t = now();
	r = dm_load(fuzz_dev[slot], len, params);
	s->load_time += now() - t;
	s->reloads += slot == LIVE;
	kmsg_read(&k);
	s->tables++;
	s->lost += k.lost;
	if (verbose)
		printf("# %u: %s %s | %s\n", s->tables, r ? "refused" : "accepted",
		       r ? k.error : "", printable(params, pbuf, sizeof(pbuf)));
	if (k.bad) {
		s->crashes++;
		report(s, "kernel log", len, params, k.bad_line);
	}

	if (!r) {
		s->accepted++;
		if (k.errors) {
			s->many_messages++;
			report(s, "accepted with an error logged", len, params, k.error);
		}
		if (m.kind == REFUSE) {
			s->accepted_wrongly++;
			snprintf(detail, sizeof(detail), "accepted; must be refused with '%s'",
				 m.error);
			report(s, "accepted wrongly", len, params, detail);
		}
		t = now();
		why = check_device(fuzz_dev[slot], fuzz_devno[slot], len,
				   m.kind == ACCEPT ? m.canon : NULL, printed, sizeof(printed));
		fuzz_device_renew(slot);
		s->check_time += now() - t;
		kmsg_read(&k);
		s->lost += k.lost;
		if (k.bad) {
			s->crashes++;
			report(s, "kernel log", len, params, k.bad_line);
		}
		if (why) {
			s->broken++;
			report(s, "accepted but broken", len, params, why);
		}
		if (m.kind == ACCEPT && !why)
			s->agree++;
		else if (m.kind == ACCEPT)
			s->disagree++;
		else if (m.kind == UNKNOWN)
			s->unknown++;
		else
			s->disagree++;
		return;
	}

	s->refused++;
	e = error_index(k.error);
	if (!k.errors) {
		s->no_message++;
		snprintf(detail, sizeof(detail), "refused (%s) without an error message",
			 strerror(-r));
		report(s, "no message", len, params, detail);
	} else if (k.errors > 1) {
		s->many_messages++;
		snprintf(detail, sizeof(detail), "%d error messages, the first '%s'",
			 k.errors, k.error);
		report(s, "several messages", len, params, detail);
	}
	if (k.errors && e < 0) {
		s->unknown_message++;
		snprintf(detail, sizeof(detail), "refused with an unknown message '%s'", k.error);
		report(s, "unknown message", len, params, detail);
	}
	if (e >= 0)
		s->by_error[e]++;
	if (m.kind == UNKNOWN) {
		s->unknown++;
	} else if (m.kind == REFUSE && e >= 0 && !strcmp(m.error, k.error)) {
		s->agree++;
	} else {
		s->disagree++;
		snprintf(detail, sizeof(detail), "refused with '%s'; expected %s%s%s", k.error,
			 m.kind == ACCEPT ? "it to load as '" : "'",
			 m.kind == ACCEPT ? m.canon : m.error, "'");
		report(s, "disagreement", len, params, detail);
	}
}

static void result(bool ok, const char *fmt, ...)
{
	char name[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	ksft_test_result(ok, "%s\n", name);
}

/* --dry-run: the tables and the model's verdicts, without a kernel. */
static int dry_run(uint64_t seed, uint64_t count)
{
	unsigned int tally[NR_KNOWN_ERRORS + 2] = {}, i;
	char buf[2048];
	struct model m;

	snprintf(dev_name, sizeof(dev_name), "1:0");
	dev_sectors = 8192;
	rng_state = seed;
	for (i = 0; i < count; i++) {
		struct table t;
		char *params;
		int n;

		base_table(&t);
		n = rnd(16) ? 1 + (rnd(3) ? 0 : 1 + rnd(3)) : 0;
		while (n--)
			mutate(&t);
		params = serialise(&t);
		model_table(t.len, params, &m);
		printf("%" PRIu64 " %s => %s\n", t.len, printable(params, buf, sizeof(buf)),
		       m.kind == ACCEPT ? m.canon : m.kind == UNKNOWN ? "?" : m.error);
		tally[m.kind == ACCEPT ? NR_KNOWN_ERRORS : m.kind == UNKNOWN ?
		      NR_KNOWN_ERRORS + 1 : (unsigned int)error_index(m.error)]++;
		free(params);
		t_free(&t);
	}
	for (i = 0; i < NR_KNOWN_ERRORS; i++)
		printf("# %5u %s\n", tally[i], known_errors[i]);
	printf("# %5u accepted\n# %5u unknown\n", tally[NR_KNOWN_ERRORS],
	       tally[NR_KNOWN_ERRORS + 1]);
	return 0;
}

static int cmd_fuzz(int argc, char **argv)
{
	uint64_t seed = 0x5ea15eed, count = 2000;
	const char *dev = NULL;
	struct stats s = {};
	struct timespec t0, t1;
	pthread_t removers[REMOVERS];
	char names[4096];
	bool verbose = false, dry = false;
	unsigned int i, valid_bases = 0;
	int r, left;

	for (i = 0; i < (unsigned int)argc; i++) {
		if (!strcmp(argv[i], "--seed") && i + 1 < (unsigned int)argc)
			seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--count") && i + 1 < (unsigned int)argc)
			count = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--dev") && i + 1 < (unsigned int)argc)
			dev = argv[++i];
		else if (!strcmp(argv[i], "--key-types") && i + 1 < (unsigned int)argc)
			key_types_set(argv[++i]);
		else if (!strcmp(argv[i], "--verbose"))
			verbose = true;
		else if (!strcmp(argv[i], "--dry-run"))
			dry = true;
		else
			die("fuzz: unknown argument %s", argv[i]);
	}
	if (dry)
		return dry_run(seed, count);
	if (!dev)
		die("fuzz: --dev PATH is required");
	if (!key_types_given)
		key_types_probe();
	ksft_print_header();
	ksft_set_plan(7);
	lower_open(dev);
	if (dev_sectors < 4096)
		die("%s: want at least 2 MiB", dev);
	keys_add();
	kmsg_open();
	removers_start(removers);
	fuzz_device_renew(FRESH);
	fuzz_device_renew(LIVE);
	printf("# seed %" PRIu64 " (set SEAL_FUZZ_SEED to repeat or vary), %" PRIu64
	       " tables, lower device %s (%s, %" PRIu64 " sectors), key types %s\n",
	       seed, count, dev_path, dev_name, dev_sectors, key_types);
	fflush(stdout);

	rng_state = seed;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < count; i++) {
		struct table t;
		char *params;
		int n;

		base_table(&t);
		/* One table in 16 is left valid; the rest get 1 to 4 mutations. */
		n = rnd(16) ? 1 + (rnd(3) ? 0 : 1 + rnd(3)) : 0;
		valid_bases += !n;
		while (n--)
			mutate(&t);
		params = serialise(&t);
		fuzz_one(&s, rnd(8) ? FRESH : LIVE, t.len, params, verbose);
		free(params);
		t_free(&t);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);

	for (i = FRESH; i <= LIVE; i++) {
		r = dm_simple(DM_DEV_REMOVE, fuzz_dev[i]);
		if (r)
			printf("# cannot remove %s: %s\n", fuzz_dev[i], strerror(-r));
	}
	removers_stop(removers);
	if (remove_failures)
		printf("# %u devices could not be removed, the first: %s\n", remove_failures,
		       remove_error);
	left = dm_count(names, sizeof(names));

	printf("# %u tables in %.1f s: %u accepted, %u refused (%u unmutated; %u loaded as "
	       "a reload of a live device, the others into a new device)\n", s.tables,
	       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9, s.accepted,
	       s.refused, valid_bases, s.reloads);
	printf("# %.1f s in table loads, %.1f s making, checking and removing the %u devices\n",
	       s.load_time, s.check_time, s.accepted);
	printf("# the model predicted %u, disagreed on %u, could not tell for %u "
	       "(a device string it does not know)\n", s.agree, s.disagree, s.unknown);
	for (i = 0; i < NR_KNOWN_ERRORS; i++)
		if (s.by_error[i])
			printf("#   %5u refused: %s\n", s.by_error[i], known_errors[i]);
	if (s.lost)
		printf("# %u kernel log records were overwritten before they were read\n", s.lost);

	result(s.tables == count && count >= 1, "%u mutated tables submitted", s.tables);
	result(!s.crashes, "no table made the kernel log an oops, BUG or WARNING (%u did)",
	       s.crashes);
	result(!s.no_message && !s.many_messages && !s.unknown_message,
	       "every refused table was refused with exactly one known message "
	       "(%u none, %u several, %u unknown)", s.no_message, s.many_messages,
	       s.unknown_message);
	result(!s.broken && s.accepted > 0,
	       "every accepted table was a working device (%u accepted, %u broken)",
	       s.accepted, s.broken);
	result(!s.accepted_wrongly, "no table the documentation refuses was accepted "
	       "(%u were)", s.accepted_wrongly);
	result(!s.disagree, "the kernel's verdict and message matched the model "
	       "(%u disagreements)", s.disagree);
	result(left == 0 && !s.lost && !remove_failures,
	       "no device left behind (%d left%s%s)%s", left,
	       left > 0 ? ": " : "", left > 0 ? names : "",
	       s.lost ? "; kernel log records lost" : "");
	ksft_finished();
	return 1;
}

/* A kselftest that cannot run here: its header, "1..0 # SKIP why", exit 4. */
static void skip_all(const char *why)
{
	ksft_print_header();
	ksft_exit_skip("%s\n", why);
}

int main(int argc, char **argv)
{
	static char *kselftest_argv[] = { "table-fuzz", "fuzz", "--dev", "/dev/ram0", NULL };
	struct stat st;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		/* as a kselftest: fuzz on /dev/ram0 with the defaults */
		if (access("/sys/module/dm_seal", F_OK))
			skip_all("dm-seal is not loaded (insmod dm-seal.ko)");
		if (stat(kselftest_argv[3], &st) || !S_ISBLK(st.st_mode))
			skip_all("no RAM disk /dev/ram0 (modprobe brd rd_size=4096)");
		argc = 4;
		argv = kselftest_argv;
	}
	if (!strcmp(argv[1], "fuzz") && argc > 2 && !strcmp(argv[argc - 1], "--dry-run"))
		return cmd_fuzz(argc - 2, argv + 2);
	dm_fd = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
	if (dm_fd < 0)
		die("cannot open /dev/mapper/control: %s", strerror(errno));
	if (!strcmp(argv[1], "raw"))
		return cmd_raw(argc - 2, argv + 2);
	if (!strcmp(argv[1], "fuzz"))
		return cmd_fuzz(argc - 2, argv + 2);
	die("unknown command %s", argv[1]);
	return 2;
}
