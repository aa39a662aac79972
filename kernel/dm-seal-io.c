// SPDX-License-Identifier: GPL-2.0
/*
 * dm-seal data path: map bios and convert them one crypto sector at a time.
 *
 * seal_map() allocates the bio that goes to the lower device. For a read
 * it is a clone sharing the caller's pages, submitted at once; when it
 * completes, the data is decrypted in place in process context. For a
 * write it is a bio of bounce pages, which is submitted once the data has
 * been encrypted into it, in process context, from the caller's pages; the
 * caller's pages are never written.
 *
 * Each crypto sector is one skcipher request with a plain64 IV. The request
 * lives in the bio's per-io data and is reused for every sector of the bio,
 * so the data path allocates nothing per sector. When the cipher completes
 * asynchronously (-EINPROGRESS, or -EBUSY when backlogged), the callback
 * advances to the next sector and requeues the bio's work item, which
 * carries on in process context. Bios are independent of each other: they
 * run concurrently on an unbound workqueue and share no lock, except that
 * a write which has to wait for bounce pages waits alone.
 */
#include <linux/blkdev.h>
#include <linux/gfp.h>
#include <linux/sched.h>

#include "dm-seal.h"

/* Largest write converted as one bio: every page must come from the pool. */
#define SEAL_MAX_WRITE_SIZE	(BIO_MAX_VECS << PAGE_SHIFT)

static inline struct skcipher_request *seal_io_req(struct seal_io *io)
{
	return (void *)io + ALIGN(sizeof(*io), CRYPTO_MINALIGN);
}

/**
 * seal_per_io_data_size() - per-bio data a target needs with this tfm
 * @tfm: the target's transform
 *
 * Return: size of struct seal_io plus the skcipher request that follows it.
 */
unsigned int seal_per_io_data_size(struct crypto_skcipher *tfm)
{
	return ALIGN(sizeof(struct seal_io), CRYPTO_MINALIGN) +
	       sizeof(struct skcipher_request) + crypto_skcipher_reqsize(tfm);
}

static inline bool seal_io_is_write(struct seal_io *io)
{
	return op_is_write(bio_op(io->base));
}

static void seal_count(struct seal_target *st, enum seal_stat stat, s64 n)
{
	percpu_counter_add(&st->stats[stat], n);
}

/* Complete the original bio and account for it. Any context. */
static void seal_io_end(struct seal_io *io)
{
	struct seal_target *st = io->st;
	struct bio *bio = io->base;
	bool write = seal_io_is_write(io);

	if (unlikely(io->status)) {
		seal_count(st, write ? SEAL_STAT_WRITE_ERRORS :
				       SEAL_STAT_READ_ERRORS, 1);
		bio->bi_status = io->status;
	} else {
		seal_count(st, write ? SEAL_STAT_WRITE_SECTORS :
				       SEAL_STAT_READ_SECTORS, bio_sectors(bio));
	}
	bio_endio(bio);
}

/*
 * Point @sg at the next @len bytes of @bio from @iter. Return the number
 * of entries used, or -EIO if the bytes are cut into too many pieces.
 */
static int seal_map_sg(struct scatterlist *sg, struct bio *bio,
		       struct bvec_iter iter, unsigned int len)
{
	unsigned int n = 0;

	sg_init_table(sg, SEAL_MAX_SG);
	while (len) {
		struct bio_vec bv = bio_iter_iovec(bio, iter);
		unsigned int piece = min(bv.bv_len, len);

		if (n == SEAL_MAX_SG)
			return -EIO;
		sg_set_page(&sg[n++], bv.bv_page, piece, bv.bv_offset);
		bio_advance_iter_single(bio, &iter, piece);
		len -= piece;
	}
	sg_mark_end(&sg[n - 1]);
	return n;
}

/*
 * Start the conversion of the crypto sector at the current position.
 * Return 0 when it is done, -EINPROGRESS or -EBUSY when seal_crypt_done()
 * will be called for it, or another negative errno.
 */
static int seal_convert_sector(struct seal_io *io)
{
	struct seal_target *st = io->st;
	struct skcipher_request *req = seal_io_req(io);
	unsigned int len = st->sector_size;
	struct scatterlist *dst = io->sg_in;
	u64 iv_sector = io->iv_sector;
	int r;

	r = seal_map_sg(io->sg_in, io->base, io->iter_in, len);
	if (r < 0)
		return r;

	if (io->bounce) {
		struct bio_vec bv = bio_iter_iovec(io->bounce, io->iter_out);

		/* Bounce pages are whole pages: a sector never straddles two. */
		sg_init_table(&io->sg_out, 1);
		sg_set_page(&io->sg_out, bv.bv_page, len, bv.bv_offset);
		dst = &io->sg_out;
	}

	if (st->iv_large_sectors)
		iv_sector >>= st->sector_shift;
	io->iv[0] = cpu_to_le64(iv_sector);
	io->iv[1] = 0;

	skcipher_request_set_crypt(req, io->sg_in, dst, len, (u8 *)io->iv);
	if (seal_io_is_write(io))
		return crypto_skcipher_encrypt(req);
	return crypto_skcipher_decrypt(req);
}

static void seal_advance(struct seal_io *io)
{
	unsigned int len = io->st->sector_size;

	bio_advance_iter(io->base, &io->iter_in, len);
	if (io->bounce)
		bio_advance_iter(io->bounce, &io->iter_out, len);
	io->iv_sector += len >> SECTOR_SHIFT;
}

static void seal_crypt_error(struct seal_io *io, int err)
{
	DMERR_LIMIT("%s a bio at sector %llu failed: %d",
		    seal_io_is_write(io) ? "Encrypting" : "Decrypting",
		    (unsigned long long)io->sector, err);
	io->status = BLK_STS_IOERR;
}

static void seal_free_bounce(struct seal_target *st, struct bio *bounce)
{
	struct bvec_iter_all iter_all;
	struct bio_vec *bv;

	bio_for_each_segment_all(bv, bounce, iter_all)
		mempool_free(bv->bv_page, &st->page_pool);
	bio_put(bounce);
}

static void seal_write_endio(struct bio *bounce)
{
	struct seal_io *io = bounce->bi_private;

	io->status = bounce->bi_status;
	seal_free_bounce(io->st, bounce);
	seal_io_end(io);
}

/*
 * Allocate the bio that takes the ciphertext of a write to the lower
 * device, with bounce pages from the pool. Return NULL if @gfp does not
 * allow waiting and the pool is short.
 */
static struct bio *seal_try_alloc_bounce(struct seal_io *io, gfp_t gfp)
{
	struct seal_target *st = io->st;
	struct bio *base = io->base;
	unsigned int size = base->bi_iter.bi_size;
	unsigned int left, len;
	struct bio *bounce;
	struct page *page;

	bounce = bio_alloc_bioset(st->dev->bdev, DIV_ROUND_UP(size, PAGE_SIZE),
				  base->bi_opf, GFP_NOIO, &st->bs);

	for (left = size; left; left -= len) {
		len = min_t(unsigned int, left, PAGE_SIZE);
		page = mempool_alloc(&st->page_pool, gfp);
		if (!page) {
			seal_free_bounce(st, bounce);
			return NULL;
		}
		__bio_add_page(bounce, page, len, 0);
	}

	bounce->bi_iter.bi_sector = st->start + io->sector;
	bounce->bi_ioprio = base->bi_ioprio;
	bounce->bi_private = io;
	bounce->bi_end_io = seal_write_endio;
	bio_clone_blkg_association(bounce, base);
	return bounce;
}

/*
 * Called from seal_map(), never from the workqueue (see seal_io_work()).
 * The first attempt does not wait. If the pool is short, what was taken
 * goes back and the write waits for pages under bounce_lock: one waiter at
 * a time, so writes that each hold part of the pool cannot starve each
 * other.
 */
static struct bio *seal_alloc_bounce(struct seal_io *io)
{
	struct seal_target *st = io->st;
	struct bio *bounce;

	bounce = seal_try_alloc_bounce(io, GFP_NOWAIT | __GFP_NOWARN |
					   __GFP_HIGHMEM);
	if (likely(bounce))
		return bounce;

	mutex_lock(&st->bounce_lock);
	bounce = seal_try_alloc_bounce(io, GFP_NOIO | __GFP_HIGHMEM);
	mutex_unlock(&st->bounce_lock);
	return bounce;
}

/* All sectors converted, or failed: finish the bio. Process context. */
static void seal_convert_done(struct seal_io *io)
{
	if (seal_io_is_write(io) && !io->status) {
		dm_submit_bio_remap(io->base, io->bounce);
		return;
	}
	if (io->bounce)
		seal_free_bounce(io->st, io->bounce);
	seal_io_end(io);
}

/*
 * Convert crypto sectors from the current position until the bio is done
 * or the cipher goes asynchronous. Process context.
 */
static void seal_convert(struct seal_io *io)
{
	int r;

	while (!io->status && io->iter_in.bi_size) {
		r = seal_convert_sector(io);
		if (r == -EINPROGRESS || r == -EBUSY)
			return;
		if (unlikely(r)) {
			seal_crypt_error(io, r);
			break;
		}
		seal_advance(io);
		cond_resched();
	}
	seal_convert_done(io);
}

/*
 * Completion of an asynchronous request. Runs in whatever context the
 * cipher completes in, so it only records the result and hands the bio
 * back to process context.
 */
static void seal_crypt_done(crypto_completion_data_t *data, int err)
{
	struct seal_io *io = crypto_get_completion_data(data);

	/* A backlogged request was started; its completion follows. */
	if (err == -EINPROGRESS)
		return;

	if (unlikely(err))
		seal_crypt_error(io, err);
	else
		seal_advance(io);
	queue_work(io->st->crypt_wq, &io->work);
}

/*
 * Process-context half of every bio: reads come here once the ciphertext
 * is in the caller's pages, writes straight from seal_map(); both come back
 * after each asynchronous completion. Nothing here waits for memory, so a
 * bio that holds bounce pages always gets to finish and give them back.
 */
static void seal_io_work(struct work_struct *work)
{
	seal_convert(container_of(work, struct seal_io, work));
}

static void seal_read_endio(struct bio *clone)
{
	struct seal_io *io = clone->bi_private;

	io->status = clone->bi_status;
	bio_put(clone);

	if (unlikely(io->status)) {
		seal_io_end(io);
		return;
	}
	/* Completion may be in interrupt context: decrypt in a worker. */
	queue_work(io->st->crypt_wq, &io->work);
}

static void seal_submit_read(struct seal_io *io)
{
	struct seal_target *st = io->st;
	struct bio *clone;

	clone = bio_alloc_clone(st->dev->bdev, io->base, GFP_NOIO, &st->bs);
	clone->bi_iter.bi_sector = st->start + io->sector;
	clone->bi_private = io;
	clone->bi_end_io = seal_read_endio;
	dm_submit_bio_remap(io->base, clone);
}

static int seal_remap(struct dm_target *ti, struct bio *bio)
{
	struct seal_target *st = ti->private;

	bio_set_dev(bio, st->dev->bdev);
	if (bio_sectors(bio))
		bio->bi_iter.bi_sector = st->start +
			dm_target_offset(ti, bio->bi_iter.bi_sector);
	return DM_MAPIO_REMAPPED;
}

/* Fail a bio the target cannot convert; it counts as an I/O error. */
static int seal_kill(struct seal_target *st, struct bio *bio)
{
	seal_count(st, op_is_write(bio_op(bio)) ? SEAL_STAT_WRITE_ERRORS :
						   SEAL_STAT_READ_ERRORS, 1);
	return DM_MAPIO_KILL;
}

static bool seal_bio_aligned(struct seal_target *st, sector_t sector,
			     struct bio *bio)
{
	unsigned int mask = (st->sector_size >> SECTOR_SHIFT) - 1;

	return !(sector & mask) &&
	       !(bio->bi_iter.bi_size & (st->sector_size - 1));
}

int seal_map(struct dm_target *ti, struct bio *bio)
{
	struct seal_target *st = ti->private;
	struct seal_io *io;
	sector_t sector;

	switch (bio_op(bio)) {
	case REQ_OP_READ:
	case REQ_OP_WRITE:
		/* Empty flush: DM core sends a flush's data separately. */
		if (!bio_sectors(bio))
			return seal_remap(ti, bio);
		break;
	case REQ_OP_DISCARD:
		/* Only sent with allow_discards. */
		return seal_remap(ti, bio);
	default:
		return seal_kill(st, bio);
	}

	sector = dm_target_offset(ti, bio->bi_iter.bi_sector);
	if (unlikely(!seal_bio_aligned(st, sector, bio)))
		return seal_kill(st, bio);

	/*
	 * Resume is refused without a valid key, so this only closes the
	 * window between preresume and resume for a concurrent "key wipe".
	 */
	if (unlikely(!test_bit(SEAL_KEY_VALID, &st->flags)))
		return seal_kill(st, bio);

	if (op_is_write(bio_op(bio)) &&
	    bio->bi_iter.bi_size > SEAL_MAX_WRITE_SIZE)
		dm_accept_partial_bio(bio, SEAL_MAX_WRITE_SIZE >> SECTOR_SHIFT);

	io = dm_per_bio_data(bio, ti->per_io_data_size);
	io->st = st;
	io->base = bio;
	io->bounce = NULL;
	io->sector = sector;
	io->iter_in = bio->bi_iter;
	io->iv_sector = sector + st->iv_offset;
	io->status = BLK_STS_OK;
	INIT_WORK(&io->work, seal_io_work);

	skcipher_request_set_tfm(seal_io_req(io), st->tfm);
	skcipher_request_set_callback(seal_io_req(io),
				      CRYPTO_TFM_REQ_MAY_BACKLOG,
				      seal_crypt_done, io);

	if (op_is_write(bio_op(bio))) {
		io->bounce = seal_alloc_bounce(io);
		io->iter_out = io->bounce->bi_iter;
		queue_work(st->crypt_wq, &io->work);
	} else {
		seal_submit_read(io);
	}
	return DM_MAPIO_SUBMITTED;
}
