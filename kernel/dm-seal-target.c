// SPDX-License-Identifier: GPL-2.0
/*
 * dm-seal: a device-mapper target that encrypts each sector with AES-XTS,
 * with the key taken from the kernel keyring.
 *
 * On disk it is exactly dm-crypt's aes-xts-plain64: the same table with
 * "crypt" in place of "seal" reads and writes the same bytes. Unlike
 * dm-crypt, the key can only come from the keyring and the table never
 * carries or prints key bytes.
 *
 * This file holds the target itself: construction and destruction, status,
 * messages, suspend/resume and registration. The data path is in
 * dm-seal-io.c, key handling in dm-seal-key.c.
 *
 * See Documentation/device-mapper/seal.rst.
 */
#include <linux/blkdev.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "dm-seal.h"

#define SEAL_OPT_ALLOW_DISCARDS		"allow_discards"
#define SEAL_OPT_SECTOR_SIZE		"sector_size:"
#define SEAL_OPT_IV_LARGE_SECTORS	"iv_large_sectors"
#define SEAL_OPT_REENCRYPT		"reencrypt"

/* Optional arguments; each may be given once. */
enum {
	SEAL_ARG_ALLOW_DISCARDS,
	SEAL_ARG_SECTOR_SIZE,
	SEAL_ARG_IV_LARGE_SECTORS,
	SEAL_ARG_REENCRYPT,
};

/* Words of the optional arguments: "reencrypt <key> <boundary>" has three. */
#define SEAL_MAX_OPT_WORDS	6

/* Pools: enough for one maximal write to make progress on its own. */
#define SEAL_MIN_IOS		64
#define SEAL_MIN_PAGES		BIO_MAX_VECS

static void seal_status(struct dm_target *ti, status_type_t type,
			unsigned int status_flags, char *result,
			unsigned int maxlen)
{
	struct seal_target *st = ti->private;
	unsigned int sz = 0;
	unsigned int opts;

	switch (type) {
	case STATUSTYPE_INFO:
		DMEMIT("%s %lld %lld %lld %lld",
		       test_bit(SEAL_KEY_VALID, &st->flags) &&
		       (!st->reenc || test_bit(SEAL_NEW_KEY_VALID, &st->flags)) ?
		       "valid" : "wiped",
		       percpu_counter_sum_positive(&st->stats[SEAL_STAT_READ_SECTORS]),
		       percpu_counter_sum_positive(&st->stats[SEAL_STAT_WRITE_SECTORS]),
		       percpu_counter_sum_positive(&st->stats[SEAL_STAT_READ_ERRORS]),
		       percpu_counter_sum_positive(&st->stats[SEAL_STAT_WRITE_ERRORS]));
		if (st->reenc)
			DMEMIT(" " SEAL_OPT_REENCRYPT " %llu",
			       (unsigned long long)seal_reenc_boundary(st->reenc));
		break;

	case STATUSTYPE_TABLE:
		mutex_lock(&st->key_lock);
		DMEMIT("%s :%u:%s:%s %llu %s %llu", SEAL_CIPHER, st->key.size,
		       seal_key_type_name(st->key.type), st->key.desc,
		       (unsigned long long)st->iv_offset, st->dev->name,
		       (unsigned long long)st->start);

		opts = st->allow_discards + (st->sector_size != SECTOR_SIZE) +
		       st->iv_large_sectors + (st->reenc ? 3 : 0);
		if (!opts) {
			mutex_unlock(&st->key_lock);
			break;
		}
		DMEMIT(" %u", opts);
		if (st->allow_discards)
			DMEMIT(" " SEAL_OPT_ALLOW_DISCARDS);
		if (st->sector_size != SECTOR_SIZE)
			DMEMIT(" " SEAL_OPT_SECTOR_SIZE "%u", st->sector_size);
		if (st->iv_large_sectors)
			DMEMIT(" " SEAL_OPT_IV_LARGE_SECTORS);
		if (st->reenc)
			DMEMIT(" " SEAL_OPT_REENCRYPT " :%u:%s:%s %llu",
			       st->reenc->key.size,
			       seal_key_type_name(st->reenc->key.type),
			       st->reenc->key.desc,
			       (unsigned long long)seal_reenc_boundary(st->reenc));
		mutex_unlock(&st->key_lock);
		break;

	case STATUSTYPE_IMA:
		mutex_lock(&st->key_lock);
		DMEMIT_TARGET_NAME_VERSION(ti->type);
		DMEMIT(",cipher_string=%s,key_size=%u,key_type=%s", SEAL_CIPHER,
		       st->key.size, seal_key_type_name(st->key.type));
		mutex_unlock(&st->key_lock);
		DMEMIT(",iv_offset=%llu,sector_size=%u,iv_large_sectors=%c",
		       (unsigned long long)st->iv_offset, st->sector_size,
		       st->iv_large_sectors ? 'y' : 'n');
		DMEMIT(",allow_discards=%c", st->allow_discards ? 'y' : 'n');
		DMEMIT(",reencrypt=%c;", st->reenc ? 'y' : 'n');
		break;
	}
}

static int seal_iterate_devices(struct dm_target *ti,
				iterate_devices_callout_fn fn, void *data)
{
	struct seal_target *st = ti->private;

	return fn(ti, st->dev, st->start, ti->len, data);
}

static void seal_io_hints(struct dm_target *ti, struct queue_limits *limits)
{
	struct seal_target *st = ti->private;
	unsigned int size = st->sector_size;

	limits->logical_block_size = max(limits->logical_block_size, size);
	limits->physical_block_size = max(limits->physical_block_size, size);
	limits->io_min = max(limits->io_min, size);
	/* Crypto sectors then never straddle a page of a direct I/O buffer. */
	limits->dma_alignment = limits->logical_block_size - 1;
}

static void seal_postsuspend(struct dm_target *ti)
{
	struct seal_target *st = ti->private;

	mutex_lock(&st->key_lock);
	set_bit(SEAL_SUSPENDED, &st->flags);
	mutex_unlock(&st->key_lock);
	/* No write is in flight: a suspended mapping holds no spare pages. */
	seal_stash_release(st);
}

static int seal_preresume(struct dm_target *ti)
{
	struct seal_target *st = ti->private;

	if (!test_bit(SEAL_KEY_VALID, &st->flags) ||
	    (st->reenc && !test_bit(SEAL_NEW_KEY_VALID, &st->flags))) {
		DMERR("Refusing to resume without a key, send \"key set\" first");
		return -EAGAIN;
	}
	return 0;
}

static void seal_resume(struct dm_target *ti)
{
	struct seal_target *st = ti->private;

	mutex_lock(&st->key_lock);
	clear_bit(SEAL_SUSPENDED, &st->flags);
	mutex_unlock(&st->key_lock);
}

/* One key of "key set": into @tfm, named by @cur, valid while @bit is set. */
static int seal_message_key_set(struct seal_target *st, char *arg,
				struct crypto_skcipher *tfm,
				struct seal_key_ref *cur, unsigned int bit)
{
	struct seal_key_ref ref = {};
	char *error;
	int r;

	r = seal_key_parse(arg, &ref, &error);
	if (r)
		goto bad;

	if (ref.size != cur->size) {
		error = "Key size differs from the table's";
		r = -EINVAL;
		goto bad;
	}

	r = seal_key_load(tfm, &ref, &error);
	if (r) {
		/*
		 * Only a failing setkey touches the tfm, and the crypto API
		 * then marks it as needing a key: whatever the tfm holds now,
		 * it is not a key to serve I/O with.
		 */
		if (crypto_skcipher_get_flags(tfm) & CRYPTO_TFM_NEED_KEY) {
			clear_bit(bit, &st->flags);
			seal_key_wipe(tfm, cur->size);
		}
		goto bad;
	}

	seal_key_ref_free(cur);
	*cur = ref;
	set_bit(bit, &st->flags);
	return 0;
bad:
	seal_key_ref_free(&ref);
	DMWARN("key set: %s", error);
	return r;
}

/* key set :<size>:<type>:<description> [<new key>] */
static int seal_message_key_set_all(struct seal_target *st, unsigned int argc,
				    char **argv)
{
	int r;

	if (argc == 4 && !st->reenc) {
		DMWARN("key set: the table has no reencrypt key");
		return -EINVAL;
	}
	r = seal_message_key_set(st, argv[2], st->tfm, &st->key,
				 SEAL_KEY_VALID);
	if (!r && argc == 4)
		r = seal_message_key_set(st, argv[3], st->reenc->tfm,
					 &st->reenc->key, SEAL_NEW_KEY_VALID);
	return r;
}

/* key wipe: both keys of a table with "reencrypt" */
static int seal_message_key_wipe(struct seal_target *st)
{
	int r;

	clear_bit(SEAL_KEY_VALID, &st->flags);
	r = seal_key_wipe(st->tfm, st->key.size);
	if (st->reenc) {
		clear_bit(SEAL_NEW_KEY_VALID, &st->flags);
		r = seal_key_wipe(st->reenc->tfm, st->reenc->key.size) ?: r;
	}
	if (r)
		DMERR("key wipe: cannot set a random key: %d", r);
	return r;
}

/* reencrypt_step <sectors>: only while the device is not suspended */
static int seal_message_reencrypt_step(struct dm_target *ti, char *arg,
				       char *result, unsigned int maxlen)
{
	struct seal_target *st = ti->private;
	int r;

	mutex_lock(&st->key_lock);
	if (test_bit(SEAL_SUSPENDED, &st->flags)) {
		DMWARN("reencrypt_step is not accepted while the device is suspended");
		r = -EINVAL;
	} else {
		r = seal_reenc_step(ti, arg, result, maxlen);
	}
	mutex_unlock(&st->key_lock);
	/* 1: dm core passes @result, the new boundary, back to userspace. */
	return r ?: 1;
}

/*
 * Messages:
 *	key set :<size>:<type>:<description> [<new key>]
 *	key wipe
 * Both only while the device is suspended.
 *	reencrypt_step <sectors>
 * Only while it is not.
 */
static int seal_message(struct dm_target *ti, unsigned int argc, char **argv,
			char *result, unsigned int maxlen)
{
	struct seal_target *st = ti->private;
	unsigned int noio;
	bool set, wipe;
	int r;

	if (argc == 2 && !strcasecmp(argv[0], "reencrypt_step"))
		return seal_message_reencrypt_step(ti, argv[1], result, maxlen);

	set = (argc == 3 || argc == 4) && !strcasecmp(argv[0], "key") &&
	      !strcasecmp(argv[1], "set");
	wipe = argc == 2 && !strcasecmp(argv[0], "key") &&
	       !strcasecmp(argv[1], "wipe");
	if (!set && !wipe) {
		DMWARN("Unrecognised message");
		return -EINVAL;
	}

	mutex_lock(&st->key_lock);
	if (!test_bit(SEAL_SUSPENDED, &st->flags)) {
		DMWARN("Key messages are only accepted while the device is suspended");
		mutex_unlock(&st->key_lock);
		return -EINVAL;
	}
	/*
	 * The mapping is suspended: reclaim that wrote to it would wait for
	 * the resume, which comes after this message, so nothing here may
	 * start I/O to free memory (the key lookup allocates).
	 */
	noio = memalloc_noio_save();
	if (set)
		r = seal_message_key_set_all(st, argc, argv);
	else
		r = seal_message_key_wipe(st);
	memalloc_noio_restore(noio);
	mutex_unlock(&st->key_lock);
	return r;
}

static void seal_dtr(struct dm_target *ti)
{
	struct seal_target *st = ti->private;
	int i;

	if (!st)
		return;

	if (st->crypt_wq)
		destroy_workqueue(st->crypt_wq);
	bioset_exit(&st->bs);
	seal_stash_release(st);
	mempool_exit(&st->page_pool);
	for (i = 0; i < SEAL_STAT_NR; i++)
		percpu_counter_destroy(&st->stats[i]);

	/* Frees the expanded key with kfree_sensitive(). */
	if (st->tfm)
		crypto_free_skcipher(st->tfm);
	seal_key_ref_free(&st->key);
	seal_reenc_dtr(st);

	if (st->dev)
		dm_put_device(ti, st->dev);

	mutex_destroy(&st->bounce_lock);
	mutex_destroy(&st->key_lock);
	/* No key bytes here: the tfm, freed above, held the only copy. */
	kfree(st);
	ti->private = NULL;
}

static int seal_parse_u64(const char *arg, u64 *val)
{
	if (!seal_is_decimal(arg))
		return -EINVAL;
	return kstrtoull(arg, 10, val);
}

static int seal_parse_sector_size(struct seal_target *st, const char *arg)
{
	unsigned int size;

	if (!seal_is_decimal(arg) || kstrtouint(arg, 10, &size) ||
	    size < SECTOR_SIZE || size > SEAL_MAX_SECTOR_SIZE ||
	    !is_power_of_2(size))
		return -EINVAL;

	st->sector_size = size;
	st->sector_shift = __ffs(size) - SECTOR_SHIFT;
	return 0;
}

/* Which optional argument @arg is; @value points after a "name:" prefix. */
static int seal_opt_arg(const char *arg, const char **value)
{
	size_t prefix = strlen(SEAL_OPT_SECTOR_SIZE);

	if (!strcasecmp(arg, SEAL_OPT_ALLOW_DISCARDS))
		return SEAL_ARG_ALLOW_DISCARDS;
	if (!strcasecmp(arg, SEAL_OPT_IV_LARGE_SECTORS))
		return SEAL_ARG_IV_LARGE_SECTORS;
	if (!strcasecmp(arg, SEAL_OPT_REENCRYPT))
		return SEAL_ARG_REENCRYPT;
	if (!strncasecmp(arg, SEAL_OPT_SECTOR_SIZE, prefix)) {
		*value = arg + prefix;
		return SEAL_ARG_SECTOR_SIZE;
	}
	return -EINVAL;
}

/* [<#opt> <opt>...] */
static int seal_parse_opt_args(struct dm_target *ti, struct seal_target *st,
			       struct dm_arg_set *as)
{
	const char *value = NULL;
	unsigned int count, seen = 0;
	char *key;
	int opt, r;

	if (!as->argc)
		return 0;

	/*
	 * Not dm_read_arg_group(): its sscanf() takes a sign, spaces and a
	 * count that wraps, and it names a short group only by the count's
	 * error; a user deserves to hear that options are missing.
	 */
	if (!seal_is_decimal(as->argv[0]) || kstrtouint(as->argv[0], 10, &count) ||
	    count > SEAL_MAX_OPT_WORDS) {
		ti->error = "Invalid number of optional arguments";
		return -EINVAL;
	}
	dm_consume_args(as, 1);
	if (count > as->argc) {
		ti->error = "Not enough optional arguments";
		return -EINVAL;
	}
	if (count < as->argc) {
		ti->error = "Too many arguments";
		return -EINVAL;
	}

	for (; count; count--) {
		opt = seal_opt_arg(dm_shift_arg(as), &value);
		if (opt < 0) {
			ti->error = "Unknown optional argument";
			return -EINVAL;
		}
		if (seen & BIT(opt)) {
			ti->error = "Duplicate optional argument";
			return -EINVAL;
		}
		seen |= BIT(opt);

		switch (opt) {
		case SEAL_ARG_ALLOW_DISCARDS:
			st->allow_discards = true;
			break;
		case SEAL_ARG_SECTOR_SIZE:
			if (seal_parse_sector_size(st, value)) {
				ti->error = "Invalid sector_size";
				return -EINVAL;
			}
			break;
		case SEAL_ARG_IV_LARGE_SECTORS:
			st->iv_large_sectors = true;
			break;
		case SEAL_ARG_REENCRYPT:
			if (count < 3) {
				ti->error = "Missing reencrypt key or boundary";
				return -EINVAL;
			}
			count -= 2;
			/* Not dm_shift_arg(): a hex key is overwritten. */
			key = as->argv[0];
			dm_consume_args(as, 1);
			r = seal_reenc_parse(st, key, dm_shift_arg(as),
					     &ti->error);
			if (r)
				return r;
			break;
		}
	}
	return 0;
}

/*
 * Construct a seal mapping:
 *
 *	<cipher> <key> <iv_offset> <dev> <offset> [<#opt> <opt>...]
 *
 *	<cipher>	aes-xts-plain64
 *	<key>		:<size>:<type>:<description>, a kernel keyring key;
 *			size 32 or 64, type logon, user, encrypted or trusted
 *	<iv_offset>	added to the sector number to form the IV
 *	<dev>		lower device, holds the ciphertext
 *	<offset>	start of the mapping on <dev>, in 512-byte sectors
 *	<opt>		allow_discards, sector_size:<bytes>, iv_large_sectors,
 *			reencrypt <new key> <boundary> (three words)
 */
static int seal_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	const char *devname = dm_table_device_name(ti->table);
	struct dm_arg_set opt_args;
	struct seal_target *st;
	sector_t dev_sectors;
	u64 num;
	int r, i;

	if (argc < 5) {
		ti->error = "Not enough arguments";
		return -EINVAL;
	}

	st = kzalloc(sizeof(*st), GFP_KERNEL);
	if (!st) {
		ti->error = "Cannot allocate seal context";
		return -ENOMEM;
	}
	ti->private = st;
	mutex_init(&st->key_lock);
	mutex_init(&st->bounce_lock);
	seal_stash_init(st);
	st->sector_size = SECTOR_SIZE;

	/* <cipher> */
	if (strcmp(argv[0], SEAL_CIPHER)) {
		ti->error = "Cipher must be " SEAL_CIPHER;
		r = -EINVAL;
		goto bad;
	}

	/* <key> */
	r = seal_key_parse(argv[1], &st->key, &ti->error);
	if (r)
		goto bad;

	/* <iv_offset> */
	if (seal_parse_u64(argv[2], &num)) {
		ti->error = "Invalid iv_offset";
		r = -EINVAL;
		goto bad;
	}
	st->iv_offset = num;

	/* <dev> */
	r = dm_get_device(ti, argv[3], dm_table_get_mode(ti->table), &st->dev);
	if (r) {
		ti->error = "Device lookup failed";
		goto bad;
	}

	/* <offset> */
	if (seal_parse_u64(argv[4], &num)) {
		ti->error = "Invalid device offset";
		r = -EINVAL;
		goto bad;
	}
	st->start = num;

	/* [<#opt> <opt>...] */
	opt_args.argc = argc - 5;
	opt_args.argv = argv + 5;
	r = seal_parse_opt_args(ti, st, &opt_args);
	if (r)
		goto bad;

	r = -EINVAL;
	if (ti->len & ((st->sector_size >> SECTOR_SHIFT) - 1)) {
		ti->error = "Device length is not a multiple of sector_size";
		goto bad;
	}
	if (st->iv_offset & ((st->sector_size >> SECTOR_SHIFT) - 1)) {
		ti->error = "iv_offset is not a multiple of sector_size";
		goto bad;
	}
	/*
	 * dm-crypt leaves this to dm core, which refuses the table when it
	 * sees the logical block size raised by io_hints, or, on a reload,
	 * only at resume.
	 */
	if (st->start & ((st->sector_size >> SECTOR_SHIFT) - 1)) {
		ti->error = "Device offset is not a multiple of sector_size";
		goto bad;
	}
	dev_sectors = bdev_nr_sectors(st->dev->bdev);
	if (st->start > dev_sectors || ti->len > dev_sectors - st->start) {
		ti->error = "Device is too small";
		goto bad;
	}

	r = seal_tfm_alloc(&st->tfm, &ti->error);
	if (r)
		goto bad;
	DMDEBUG("%s: using %s", devname,
		crypto_skcipher_driver_name(st->tfm));

	r = seal_key_load(st->tfm, &st->key, &ti->error);
	if (r)
		goto bad;
	set_bit(SEAL_KEY_VALID, &st->flags);

	if (st->reenc) {
		r = seal_reenc_ctr(ti);
		if (r)
			goto bad;
	}

	for (i = 0; i < SEAL_STAT_NR; i++) {
		r = percpu_counter_init(&st->stats[i], 0, GFP_KERNEL);
		if (r) {
			ti->error = "Cannot allocate counters";
			goto bad;
		}
	}

	r = mempool_init_page_pool(&st->page_pool, SEAL_MIN_PAGES, 0);
	if (r) {
		ti->error = "Cannot allocate page mempool";
		goto bad;
	}

	r = bioset_init(&st->bs, SEAL_MIN_IOS, 0,
			BIOSET_NEED_BVECS | BIOSET_NEED_RESCUER);
	if (r) {
		ti->error = "Cannot allocate bioset";
		goto bad;
	}

	/*
	 * Per-CPU, so that the chunks of a large bio run on the CPUs they
	 * are queued on; high priority, as a bio waits for its last chunk.
	 */
	st->crypt_wq = alloc_workqueue("kseald/%s",
				       WQ_MEM_RECLAIM | WQ_HIGHPRI |
				       WQ_CPU_INTENSIVE, 0, devname);
	if (!st->crypt_wq) {
		ti->error = "Cannot allocate workqueue";
		r = -ENOMEM;
		goto bad;
	}

	ti->per_io_data_size = seal_per_io_data_size(st);
	ti->num_flush_bios = 1;
	ti->num_discard_bios = st->allow_discards;
	ti->limit_swap_bios = true;
	/*
	 * seal_map() returns DM_MAPIO_SUBMITTED and sends its own bio down
	 * with dm_submit_bio_remap(), which starts dm's I/O accounting. Without
	 * this flag dm core would start it too, when map returns: for a write
	 * whose last helper submits the bounce bio on another CPU meanwhile,
	 * both at once, and dm guards that only for duplicated bios (the
	 * in-flight count would stay up). A bio that never goes down (would
	 * block, failed encryption) is then not accounted at all.
	 */
	ti->accounts_remapped_io = true;
	return 0;

bad:
	seal_dtr(ti);
	return r;
}

static struct target_type seal_target = {
	.name		= "seal",
	.version	= {1, 0, 0},
	.module		= THIS_MODULE,
	.features	= DM_TARGET_NOWAIT,
	.ctr		= seal_ctr,
	.dtr		= seal_dtr,
	.map		= seal_map,
	.status		= seal_status,
	.postsuspend	= seal_postsuspend,
	.preresume	= seal_preresume,
	.resume		= seal_resume,
	.message	= seal_message,
	.iterate_devices = seal_iterate_devices,
	.io_hints	= seal_io_hints,
};

static int __init dm_seal_init(void)
{
	int r;

	seal_io_init();
	r = dm_register_target(&seal_target);
	if (r)
		seal_io_exit();
	return r;
}
module_init(dm_seal_init);

static void __exit dm_seal_exit(void)
{
	dm_unregister_target(&seal_target);
	seal_io_exit();
}
module_exit(dm_seal_exit);

MODULE_DESCRIPTION(DM_NAME " target for AES-XTS encryption with keyring keys");
MODULE_AUTHOR("The dm-seal authors");
MODULE_LICENSE("GPL");
