/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dm-seal: per-sector AES-XTS encryption with keys from the kernel keyring.
 *
 * Declarations shared by the target (dm-seal-target.c), its data path
 * (dm-seal-io.c) and its key handling (dm-seal-key.c).
 */
#ifndef DM_SEAL_H
#define DM_SEAL_H

#include <crypto/skcipher.h>
#include <linux/atomic.h>
#include <linux/bio.h>
#include <linux/blk_types.h>
#include <linux/device-mapper.h>
#include <linux/llist.h>
#include <linux/mempool.h>
#include <linux/mutex.h>
#include <linux/percpu_counter.h>
#include <linux/scatterlist.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#define DM_MSG_PREFIX "seal"

#define SEAL_CIPHER		"aes-xts-plain64"

/*
 * Test and bench builds only, never the shipped module (Kbuild:
 * SEAL_TEST_CIPHER=async or null): the same data path with every request
 * completing asynchronously, or with no cipher, to measure the data path on
 * its own. To the table it is aes-xts-plain64 all the same.
 *
 * cryptd names its instance after the driver it wraps, so the request must
 * spell out the inner driver in full: "cryptd(xts(aes-generic))" is never
 * registered under that name and the allocation fails with -ENOENT.
 */
#if defined(SEAL_TEST_CIPHER_ASYNC)
#define SEAL_CRYPTO_ALG		"cryptd(xts(ecb(aes-generic)))"
#define SEAL_NULL_CIPHER	0
#elif defined(SEAL_TEST_CIPHER_NULL)
#define SEAL_CRYPTO_ALG		"ecb(cipher_null)"
#define SEAL_NULL_CIPHER	1
#else
#define SEAL_CRYPTO_ALG		"xts(aes)"
#define SEAL_NULL_CIPHER	0
#endif
#define SEAL_IV_SIZE		16
#define SEAL_MAX_KEY_SIZE	64
#define SEAL_MAX_SECTOR_SIZE	4096

/*
 * A crypto sector is normally one piece of one page; a bio whose segments
 * cut a crypto sector into more pieces than this is failed.
 */
#define SEAL_MAX_SG		(SEAL_MAX_SECTOR_SIZE >> SECTOR_SHIFT)

/*
 * Most CPUs that convert one bio together. The bio's own runner is in its
 * per-io data; the others (about 700 bytes each) are allocated for the bios
 * large enough to share.
 */
#define SEAL_MAX_RUNNERS	4

/*
 * Bounce pages a mapping keeps for reuse after its writes complete: two of
 * the largest writes. A page from the page allocator is zeroed first on
 * kernels with init_on_alloc (Debian's default), which costs as much as
 * copying it; a kept page holds only ciphertext.
 */
#define SEAL_STASH_PAGES	(2 * BIO_MAX_VECS)

/* Bits in seal_target.flags */
enum {
	SEAL_KEY_VALID,		/* the tfm holds the key from the keyring */
	SEAL_SUSPENDED,		/* between postsuspend and resume */
	SEAL_NEW_KEY_VALID,	/* the reencrypt tfm holds its key */
};

/* Counters reported by STATUSTYPE_INFO, in this order */
enum seal_stat {
	SEAL_STAT_READ_SECTORS,
	SEAL_STAT_WRITE_SECTORS,
	SEAL_STAT_READ_ERRORS,
	SEAL_STAT_WRITE_ERRORS,
	SEAL_STAT_NR,
};

enum seal_key_type {
	SEAL_KEY_LOGON,
	SEAL_KEY_USER,
	SEAL_KEY_ENCRYPTED,
	SEAL_KEY_TRUSTED,
};

/**
 * struct seal_key_ref - where a key comes from: ``:<size>:<type>:<desc>``
 * @size: key size in bytes, 32 (AES-128-XTS) or 64 (AES-256-XTS)
 * @type: keyring key type
 * @desc: key description, looked up in the keyrings of the loading process
 *
 * Never holds key bytes. Printed back by STATUSTYPE_TABLE.
 */
struct seal_key_ref {
	unsigned int size;
	enum seal_key_type type;
	char *desc;
};

/**
 * struct seal_reenc - a second key and a boundary (dm-seal-reencrypt.c)
 * @tfm: xts(aes) transform with the new key, for sectors below @boundary
 * @key: the keyring key @tfm was last loaded from; protected by key_lock
 * @lock: protects @boundary, @step_end and @inflight; taken with
 *	interrupts off
 * @boundary: first target sector still under the old key
 * @step_end: end of the piece being converted, [@boundary, @step_end);
 *	equal to @boundary when no piece is
 * @inflight: bios under the old key not yet completed, by seal_io.reenc_node
 * @step_wait: a step waits here for the bios in its piece to complete
 * @io_wait: bios into the piece being converted wait here for it
 */
struct seal_reenc {
	struct crypto_skcipher *tfm;
	struct seal_key_ref key;
	spinlock_t lock;		/* @boundary, @step_end, @inflight */
	sector_t boundary;
	sector_t step_end;
	struct list_head inflight;
	wait_queue_head_t step_wait;
	wait_queue_head_t io_wait;
};

/**
 * struct seal_target - one seal mapping
 * @dev: the lower device, which holds the ciphertext
 * @start: start of the mapping on @dev in 512-byte sectors (<offset>)
 * @iv_offset: added to the target-relative sector to form the IV sector
 * @sector_size: crypto sector size in bytes, 512 to 4096
 * @sector_shift: log2(@sector_size) - SECTOR_SHIFT
 * @iv_large_sectors: the IV counts @sector_size units, not 512-byte sectors
 * @allow_discards: discards are passed down to @dev
 * @tfm: xts(aes) transform; after the table is loaded, the only place in
 *	the target that holds the key
 * @key: the keyring key @tfm was last loaded from; protected by @key_lock
 * @flags: %SEAL_KEY_VALID, %SEAL_SUSPENDED, %SEAL_NEW_KEY_VALID
 * @reenc: the new key and the boundary of a table with "reencrypt"; NULL
 *	otherwise
 * @key_lock: serialises key messages, suspend/resume and status
 * @crypt_wq: per-CPU workqueue for the helpers that convert parts of large
 *	bios on other CPUs, for reads that complete in hard interrupt
 *	context, and for carrying on after asynchronous cipher completions
 * @max_runners: most CPUs that convert one bio together
 * @runner_size: bytes of a runner, its skcipher request included
 * @bs: bios for read clones and for write bounce bios
 * @page_pool: bounce pages for writes
 * @bounce_lock: lets one write at a time wait for pages from @page_pool, so
 *	that partial allocations cannot deadlock the pool
 * @stash: bounce pages kept for reuse, at most %SEAL_STASH_PAGES, linked
 *	through page->lru; protected by @stash_lock
 * @stash_nr: pages on @stash
 * @stash_waiter: a write is about to wait in mempool_alloc(), so completed
 *	writes give their pages to @page_pool, which wakes it, not to @stash
 * @stash_lock: protects @stash, @stash_nr and @stash_waiter
 * @stats: counters reported by STATUSTYPE_INFO, indexed by enum seal_stat
 */
struct seal_target {
	struct dm_dev *dev;
	sector_t start;
	u64 iv_offset;
	unsigned int sector_size;
	unsigned int sector_shift;
	bool iv_large_sectors;
	bool allow_discards;

	struct crypto_skcipher *tfm;
	struct seal_key_ref key;
	unsigned long flags;
	struct seal_reenc *reenc;
	struct mutex key_lock;		/* key messages vs. suspend, status */

	struct workqueue_struct *crypt_wq;
	unsigned int max_runners;
	unsigned int runner_size;
	struct bio_set bs;
	mempool_t page_pool;
	struct mutex bounce_lock;	/* one write waits for pages */
	struct list_head stash;
	unsigned int stash_nr;
	bool stash_waiter;
	spinlock_t stash_lock;		/* @stash, @stash_nr, @stash_waiter */

	struct percpu_counter stats[SEAL_STAT_NR];
};

/**
 * struct seal_runner - one CPU's part in converting a bio
 * @io: the bio being converted
 * @work: starts a helper on another CPU; for the bio's own runner, starts
 *	the conversion of a read that completed in hard interrupt context
 * @async_work: carries on after an asynchronous cipher completion; apart
 *	from @work so that cancelling a helper that has not started never
 *	cancels one that has
 * @iter_in: position in the bio handed to seal_map() of the next crypto
 *	sector to convert
 * @iter_out: position in the bounce bio of the next crypto sector (writes)
 * @pos: byte offset in the bio of the next crypto sector to convert
 * @end: end of the batch this runner has claimed
 * @may_sleep: the runner is in process context and may reschedule
 * @iv: plain64 IV of the crypto sector being converted
 * @sg_in: source of the crypto sector being converted
 * @sg_out: destination of the crypto sector being converted (writes)
 *
 * The runner's skcipher request follows in memory, see seal_runner_req().
 */
struct seal_runner {
	struct seal_io *io;
	struct work_struct work;
	struct work_struct async_work;
	struct bvec_iter iter_in;
	struct bvec_iter iter_out;
	unsigned int pos;
	unsigned int end;
	bool may_sleep;
	__le64 iv[SEAL_IV_SIZE / sizeof(__le64)];
	struct scatterlist sg_in[SEAL_MAX_SG];
	struct scatterlist sg_out;
};

/**
 * struct seal_io - per-bio state, kept in the bio's per-io data
 * @st: the target
 * @base: the bio handed to seal_map()
 * @tfm: the transform with the key of the sectors of @base
 * @bounce: for writes, the bio that carries the ciphertext to the lower
 *	device in bounce pages; NULL for reads, which decrypt in place
 * @sector: target-relative sector of @base
 * @size: bytes to convert
 * @next: byte offset of the next batch of crypto sectors no runner has
 *	claimed yet
 * @pending: runners not yet finished; the last one finishes the bio
 * @nr_runners: runners taking part, the bio's own and its helpers
 * @helpers: the runners after the bio's own, each followed by its skcipher
 *	request, see seal_io_runner(); NULL when there are none
 * @softirq_node: on a CPU's list of reads to decrypt in softirq
 * @status: the first error, or BLK_STS_OK
 * @reenc_node: on seal_reenc.inflight while @reenc_tracked
 * @reenc_tracked: a bio under the old key of a table with "reencrypt"
 *
 * The bio's own runner, followed by its skcipher request, follows in
 * memory, see seal_io_runner().
 */
struct seal_io {
	struct seal_target *st;
	struct bio *base;
	struct crypto_skcipher *tfm;
	struct bio *bounce;
	sector_t sector;
	unsigned int size;
	atomic_long_t next;
	atomic_t pending;
	unsigned int nr_runners;
	void *helpers;
	struct llist_node softirq_node;
	blk_status_t status;
	struct list_head reenc_node;
	bool reenc_tracked;
};

/*
 * Numbers in tables and messages are decimal digits and nothing else:
 * kstrto*() would also take a sign or a trailing newline (dm core lets a
 * backslash escape one into an argument). kstrto*() then refuses overflow.
 */
static inline bool seal_is_decimal(const char *s)
{
	return *s && !s[strspn(s, "0123456789")];
}

/* Set @key into @tfm; the null cipher of a test build takes no key. */
static inline int seal_setkey(struct crypto_skcipher *tfm, const u8 *key,
			      unsigned int len)
{
	if (SEAL_NULL_CIPHER)
		len = 0;
	return crypto_skcipher_setkey(tfm, key, len);
}

/* dm-seal-io.c */
void seal_io_init(void);
void seal_io_exit(void);
unsigned int seal_per_io_data_size(struct seal_target *st);
int seal_map(struct dm_target *ti, struct bio *bio);
void seal_stash_init(struct seal_target *st);
void seal_stash_release(struct seal_target *st);

/* dm-seal-key.c */
int seal_key_parse(char *arg, struct seal_key_ref *ref, char **error);
void seal_key_ref_free(struct seal_key_ref *ref);
const char *seal_key_type_name(enum seal_key_type type);
int seal_key_load(struct crypto_skcipher *tfm, const struct seal_key_ref *ref,
		  char **error);
int seal_key_wipe(struct crypto_skcipher *tfm, unsigned int size);
int seal_tfm_alloc(struct crypto_skcipher **tfm, char **error);

/* dm-seal-reencrypt.c */
int seal_reenc_parse(struct seal_target *st, char *key, const char *boundary,
		     char **error);
int seal_reenc_ctr(struct dm_target *ti);
void seal_reenc_dtr(struct seal_target *st);
int seal_reenc_map(struct seal_target *st, struct seal_io *io);
void seal_reenc_io_done(struct seal_io *io);
int seal_reenc_step(struct dm_target *ti, const char *arg, char *result,
		    unsigned int maxlen);
sector_t seal_reenc_boundary(struct seal_reenc *re);

#endif /* DM_SEAL_H */
