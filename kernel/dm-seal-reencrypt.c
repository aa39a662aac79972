// SPDX-License-Identifier: GPL-2.0
/*
 * dm-seal online re-encryption: a second key and a boundary.
 *
 * A table may carry "reencrypt <new key> <boundary>": sectors below the
 * boundary are under the new key, the others under the table's key. The
 * message "reencrypt_step <sectors>" converts the sectors at the boundary,
 * a piece of at most SEAL_REENC_PIECE at a time: read under the old key,
 * written under the new one with REQ_FUA, and only then is the boundary
 * moved past the piece.
 *
 * Locking. re->lock (a spinlock, interrupts off: bios complete in any
 * context) protects the boundary, the piece being converted
 * [boundary, step_end) and the list of bios in flight under the old key.
 * The only hook in the data path is seal_reenc_map(), which picks a bio's
 * key under the lock:
 *  - a bio that starts below the boundary is under the new key; if it
 *    reaches past the boundary it is cut there (dm core maps the rest
 *    again). The boundary only grows, and the step never touches sectors
 *    below it, so such a bio is never waited for and never waits;
 *  - a bio that starts inside the piece being converted waits until the
 *    piece is done (REQ_NOWAIT: would block), then is looked at again;
 *  - any other bio is under the old key and is put on the in-flight list
 *    until it completes (seal_reenc_io_done()).
 * The step marks its piece under the lock, so from then on no new bio is
 * admitted into it, and then waits until no bio on the in-flight list
 * overlaps it: every old-key write to the piece is on the lower device
 * before the piece is read, and every old-key read of it has its data
 * before the piece is rewritten. Bios outside the piece never wait.
 *
 * Steps, key messages and suspend are serialised by st->key_lock; a step is
 * refused while the device is suspended, and a key message is accepted only
 * then, so the keys never change under a step.
 */
#include <crypto/skcipher.h>
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/gfp.h>
#include <linux/list.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/wait.h>

#include "dm-seal.h"

/* Most converted per piece: one bio of whole pages. */
#define SEAL_REENC_PIECE	(BIO_MAX_VECS << PAGE_SHIFT)

/* Most sectors one message converts: bounds how long it holds key_lock. */
#define SEAL_REENC_MAX_STEP	((64U << 20) >> SECTOR_SHIFT)

/* Errors of the old key's parser and loader, reworded for the new key. */
static const struct {
	const char *old;
	const char *new;
} seal_reenc_key_errors[] = {
	{ "Key lookup failed", "Reencrypt key lookup failed" },
	{ "Key is revoked or expired", "Reencrypt key is revoked or expired" },
	{ "Key size does not match the keyring payload",
	  "Reencrypt key size does not match the keyring payload" },
	{ "Key refused by xts(aes)", "Reencrypt key refused by xts(aes)" },
};

static char *seal_reenc_key_error(char *error)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(seal_reenc_key_errors); i++)
		if (!strcmp(error, seal_reenc_key_errors[i].old))
			return (char *)seal_reenc_key_errors[i].new;
	return "Cannot load the reencrypt key";
}

/**
 * seal_reenc_parse() - parse the optional "reencrypt <key> <boundary>"
 * @st: the target being constructed
 * @key: the new key's reference
 * @boundary: the boundary, in 512-byte sectors
 * @error: set to a sentence on failure
 *
 * Return: 0 or a negative errno.
 */
int seal_reenc_parse(struct seal_target *st, char *key, const char *boundary,
		     char **error)
{
	struct seal_reenc *re;
	u64 b;
	int r;

	re = kzalloc(sizeof(*re), GFP_KERNEL);
	if (!re) {
		*error = "Cannot allocate reencrypt context";
		return -ENOMEM;
	}
	spin_lock_init(&re->lock);
	INIT_LIST_HEAD(&re->inflight);
	init_waitqueue_head(&re->step_wait);
	init_waitqueue_head(&re->io_wait);
	st->reenc = re;

	r = seal_key_parse(key, &re->key, error);
	if (r) {
		*error = "Invalid reencrypt key";
		return r;
	}
	if (!seal_is_decimal(boundary) || kstrtoull(boundary, 10, &b)) {
		*error = "Invalid reencrypt boundary";
		return -EINVAL;
	}
	re->boundary = b;
	re->step_end = b;
	return 0;
}

/**
 * seal_reenc_ctr() - check the boundary and load the new key
 * @ti: the target, with its length, sector size and tfm set up
 *
 * Return: 0 or a negative errno, with ti->error set.
 */
int seal_reenc_ctr(struct dm_target *ti)
{
	struct seal_target *st = ti->private;
	struct seal_reenc *re = st->reenc;
	char *error;
	int r;

	if (re->boundary & ((st->sector_size >> SECTOR_SHIFT) - 1)) {
		ti->error = "Reencrypt boundary is not a multiple of sector_size";
		return -EINVAL;
	}
	if (re->boundary > ti->len) {
		ti->error = "Reencrypt boundary is beyond the end of the target";
		return -EINVAL;
	}

	r = seal_tfm_alloc(&re->tfm, &ti->error);
	if (r)
		return r;
	r = seal_key_load(re->tfm, &re->key, &error);
	if (r) {
		ti->error = seal_reenc_key_error(error);
		return r;
	}
	set_bit(SEAL_NEW_KEY_VALID, &st->flags);
	return 0;
}

void seal_reenc_dtr(struct seal_target *st)
{
	struct seal_reenc *re = st->reenc;

	if (!re)
		return;
	/* Frees the expanded key with kfree_sensitive(). */
	if (re->tfm)
		crypto_free_skcipher(re->tfm);
	seal_key_ref_free(&re->key);
	kfree(re);
	st->reenc = NULL;
}

/* Does a bio in flight under the old key overlap [@start, @end)? Locked. */
static bool seal_reenc_overlaps(struct seal_reenc *re, sector_t start,
				sector_t end)
{
	struct seal_io *io;

	list_for_each_entry(io, &re->inflight, reenc_node)
		if (io->sector < end &&
		    io->sector + (io->size >> SECTOR_SHIFT) > start)
			return true;
	return false;
}

/* Is @sector inside the piece being converted? */
static bool seal_reenc_in_piece(struct seal_reenc *re, sector_t sector)
{
	unsigned long flags;
	bool in;

	spin_lock_irqsave(&re->lock, flags);
	in = sector >= re->boundary && sector < re->step_end;
	spin_unlock_irqrestore(&re->lock, flags);
	return in;
}

/**
 * seal_reenc_map() - pick the key of a bio, from seal_map()
 * @st: the target, which has a reencrypt context
 * @io: the bio's state, with sector and size set; io->size may be cut
 *
 * Sets io->tfm. May wait for a step, unless the bio is REQ_NOWAIT.
 *
 * Return: 0, -EAGAIN if a REQ_NOWAIT bio would wait, or -EIO if the key
 * the bio needs is wiped.
 */
int seal_reenc_map(struct seal_target *st, struct seal_io *io)
{
	struct seal_reenc *re = st->reenc;
	sector_t start = io->sector;
	unsigned long flags;

	for (;;) {
		spin_lock_irqsave(&re->lock, flags);
		if (start < re->boundary) {
			sector_t below = re->boundary - start;

			spin_unlock_irqrestore(&re->lock, flags);
			if (!test_bit(SEAL_NEW_KEY_VALID, &st->flags))
				return -EIO;
			if ((u64)io->size > (u64)below << SECTOR_SHIFT)
				io->size = below << SECTOR_SHIFT;
			io->tfm = re->tfm;
			return 0;
		}
		if (start >= re->step_end) {
			list_add_tail(&io->reenc_node, &re->inflight);
			io->reenc_tracked = true;
			spin_unlock_irqrestore(&re->lock, flags);
			io->tfm = st->tfm;
			return 0;
		}
		spin_unlock_irqrestore(&re->lock, flags);

		/* Inside the piece being converted. */
		if (io->base->bi_opf & REQ_NOWAIT)
			return -EAGAIN;
		wait_event(re->io_wait, !seal_reenc_in_piece(re, start));
	}
}

/**
 * seal_reenc_io_done() - a bio under the old key is finished
 * @io: the bio's state
 *
 * Any context.
 */
void seal_reenc_io_done(struct seal_io *io)
{
	struct seal_reenc *re = io->st->reenc;
	sector_t end = io->sector + (io->size >> SECTOR_SHIFT);
	unsigned long flags;
	bool wake;

	spin_lock_irqsave(&re->lock, flags);
	list_del(&io->reenc_node);
	io->reenc_tracked = false;
	wake = io->sector < re->step_end && end > re->boundary;
	spin_unlock_irqrestore(&re->lock, flags);
	if (wake)
		wake_up(&re->step_wait);
}

static bool seal_reenc_drained(struct seal_reenc *re, sector_t start,
			       sector_t end)
{
	unsigned long flags;
	bool busy;

	spin_lock_irqsave(&re->lock, flags);
	busy = seal_reenc_overlaps(re, start, end);
	spin_unlock_irqrestore(&re->lock, flags);
	return !busy;
}

/* What one step needs: a buffer of whole pages and a request per key. */
struct seal_reenc_buf {
	struct page *pages[BIO_MAX_VECS];
	unsigned int nr_pages;
	struct skcipher_request *old_req;
	struct skcipher_request *new_req;
};

static void seal_reenc_buf_free(struct seal_reenc_buf *buf)
{
	unsigned int i;

	skcipher_request_free(buf->old_req);
	skcipher_request_free(buf->new_req);
	for (i = 0; i < buf->nr_pages; i++) {
		/* Plaintext passed through these pages. */
		memzero_page(buf->pages[i], 0, PAGE_SIZE);
		__free_page(buf->pages[i]);
	}
	kfree(buf);
}

static struct seal_reenc_buf *seal_reenc_buf_alloc(struct seal_target *st,
						   unsigned int bytes)
{
	struct seal_reenc_buf *buf;

	buf = kzalloc(sizeof(*buf), GFP_KERNEL);
	if (!buf)
		return NULL;
	buf->old_req = skcipher_request_alloc(st->tfm, GFP_KERNEL);
	buf->new_req = skcipher_request_alloc(st->reenc->tfm, GFP_KERNEL);
	if (!buf->old_req || !buf->new_req)
		goto bad;
	for (; buf->nr_pages < DIV_ROUND_UP(bytes, PAGE_SIZE); buf->nr_pages++) {
		buf->pages[buf->nr_pages] = alloc_page(GFP_KERNEL);
		if (!buf->pages[buf->nr_pages])
			goto bad;
	}
	return buf;
bad:
	seal_reenc_buf_free(buf);
	return NULL;
}

/* Read or write @sectors at target sector @sector from or to @buf. */
static int seal_reenc_rw(struct seal_target *st, struct seal_reenc_buf *buf,
			 blk_opf_t opf, sector_t sector, unsigned int sectors)
{
	unsigned int bytes = sectors << SECTOR_SHIFT, len, i;
	struct bio *bio;
	int r;

	bio = bio_alloc(st->dev->bdev, DIV_ROUND_UP(bytes, PAGE_SIZE), opf,
			GFP_KERNEL);
	bio->bi_iter.bi_sector = st->start + sector;
	for (i = 0; bytes; i++, bytes -= len) {
		len = min_t(unsigned int, bytes, PAGE_SIZE);
		__bio_add_page(bio, buf->pages[i], len, 0);
	}
	r = submit_bio_wait(bio);
	bio_put(bio);
	return r;
}

/* Decrypt with @dec and encrypt with @enc, in place, sector by sector. */
static int seal_reenc_convert(struct seal_target *st,
			      struct skcipher_request *dec,
			      struct skcipher_request *enc,
			      struct seal_reenc_buf *buf, sector_t sector,
			      unsigned int sectors)
{
	unsigned int size = st->sector_size, off;
	struct skcipher_request *reqs[2] = { dec, enc };
	struct scatterlist sg;
	DECLARE_CRYPTO_WAIT(wait);
	__le64 iv[SEAL_IV_SIZE / sizeof(__le64)];
	u64 iv_sector;
	int r = 0, k;

	for (off = 0; off < sectors << SECTOR_SHIFT; off += size) {
		iv_sector = sector + st->iv_offset + (off >> SECTOR_SHIFT);
		if (st->iv_large_sectors)
			iv_sector >>= st->sector_shift;
		sg_init_table(&sg, 1);
		sg_set_page(&sg, buf->pages[off >> PAGE_SHIFT], size,
			    off & ~PAGE_MASK);
		for (k = 0; k < 2; k++) {
			iv[0] = cpu_to_le64(iv_sector);
			iv[1] = 0;
			skcipher_request_set_callback(reqs[k],
						      CRYPTO_TFM_REQ_MAY_BACKLOG |
						      CRYPTO_TFM_REQ_MAY_SLEEP,
						      crypto_req_done, &wait);
			skcipher_request_set_crypt(reqs[k], &sg, &sg, size,
						   (u8 *)iv);
			r = k ? crypto_skcipher_encrypt(reqs[k]) :
				crypto_skcipher_decrypt(reqs[k]);
			r = crypto_wait_req(r, &wait);
			if (r)
				return r;
		}
		cond_resched();
	}
	return 0;
}

/*
 * Convert the piece [@sector, @sector + @sectors), which no bio touches.
 * On a failed write, the piece's old ciphertext is written back.
 */
static int seal_reenc_piece(struct seal_target *st, struct seal_reenc_buf *buf,
			    sector_t sector, unsigned int sectors)
{
	int r, r2;

	r = seal_reenc_rw(st, buf, REQ_OP_READ, sector, sectors);
	if (r) {
		DMERR("reencrypt_step: reading sectors %llu+%u failed: %d",
		      (unsigned long long)sector, sectors, r);
		return r;
	}
	r = seal_reenc_convert(st, buf->old_req, buf->new_req, buf, sector,
			       sectors);
	if (r) {
		DMERR("reencrypt_step: converting sectors %llu+%u failed: %d",
		      (unsigned long long)sector, sectors, r);
		return r;
	}
	r = seal_reenc_rw(st, buf, REQ_OP_WRITE | REQ_FUA | REQ_SYNC, sector,
			  sectors);
	if (!r)
		return 0;

	r2 = seal_reenc_convert(st, buf->new_req, buf->old_req, buf, sector,
				sectors);
	if (!r2)
		r2 = seal_reenc_rw(st, buf, REQ_OP_WRITE | REQ_FUA | REQ_SYNC,
				   sector, sectors);
	if (r2)
		DMERR("reencrypt_step: writing %llu+%u failed (%d), restoring too (%d)",
		      (unsigned long long)sector, sectors, r, r2);
	else
		DMERR("reencrypt_step: writing %llu+%u failed (%d), old data restored",
		      (unsigned long long)sector, sectors, r);
	return r;
}

/* Mark [boundary, @end) as the piece being converted, or end it. */
static void seal_reenc_set_piece(struct seal_reenc *re, sector_t boundary,
				 sector_t end)
{
	unsigned long flags;

	spin_lock_irqsave(&re->lock, flags);
	re->boundary = boundary;
	re->step_end = end;
	spin_unlock_irqrestore(&re->lock, flags);
}

/**
 * seal_reenc_step() - the message "reencrypt_step <sectors>"
 * @ti: the target
 * @arg: how many sectors to convert, from the boundary on
 * @result: the message's answer: the boundary afterwards
 * @maxlen: size of @result
 *
 * Called with st->key_lock held, the device not suspended.
 *
 * Return: 0 or a negative errno; on an error the boundary is past the
 * pieces converted before it, and @result is not passed back.
 */
int seal_reenc_step(struct dm_target *ti, const char *arg, char *result,
		    unsigned int maxlen)
{
	struct seal_target *st = ti->private;
	struct seal_reenc *re = st->reenc;
	unsigned int per = st->sector_size >> SECTOR_SHIFT;
	unsigned int sectors, piece, noio;
	struct seal_reenc_buf *buf;
	sector_t b, left;
	int r = 0;

	if (!re) {
		DMWARN("reencrypt_step: the table has no reencrypt key");
		return -EINVAL;
	}
	if (!seal_is_decimal(arg) || kstrtouint(arg, 10, &sectors) ||
	    !sectors || sectors > SEAL_REENC_MAX_STEP || sectors % per) {
		DMWARN("reencrypt_step: <sectors> must be 1 to %u, whole crypto sectors",
		       SEAL_REENC_MAX_STEP);
		return -EINVAL;
	}
	if (!test_bit(SEAL_KEY_VALID, &st->flags) ||
	    !test_bit(SEAL_NEW_KEY_VALID, &st->flags)) {
		DMWARN("reencrypt_step: a key is wiped");
		return -EINVAL;
	}

	/* Bios into the piece wait for it: reclaim must not write here. */
	noio = memalloc_noio_save();
	b = re->boundary;	/* only steps move it, under key_lock */
	left = min_t(sector_t, sectors, ti->len - b);
	buf = left ? seal_reenc_buf_alloc(st, min_t(u64, SEAL_REENC_PIECE,
						    left << SECTOR_SHIFT)) : NULL;
	if (left && !buf) {
		DMERR("reencrypt_step: cannot allocate a buffer");
		r = -ENOMEM;
		left = 0;
	}
	for (; left; left -= piece, b += piece) {
		piece = min_t(sector_t, left, SEAL_REENC_PIECE >> SECTOR_SHIFT);
		seal_reenc_set_piece(re, b, b + piece);
		wait_event(re->step_wait,
			   seal_reenc_drained(re, b, b + piece));
		r = seal_reenc_piece(st, buf, b, piece);
		seal_reenc_set_piece(re, r ? b : b + piece, r ? b : b + piece);
		wake_up_all(&re->io_wait);
		if (r)
			break;
	}
	if (buf)
		seal_reenc_buf_free(buf);
	memalloc_noio_restore(noio);
	scnprintf(result, maxlen, "%llu", (unsigned long long)re->boundary);
	return r;
}

/* The boundary, for status. */
sector_t seal_reenc_boundary(struct seal_reenc *re)
{
	unsigned long flags;
	sector_t b;

	spin_lock_irqsave(&re->lock, flags);
	b = re->boundary;
	spin_unlock_irqrestore(&re->lock, flags);
	return b;
}
