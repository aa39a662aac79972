// SPDX-License-Identifier: GPL-2.0
/*
 * dm-seal data path: map bios and convert them one crypto sector at a time.
 *
 * seal_map() allocates the bio that goes to the lower device. For a read
 * it is a clone sharing the caller's pages, submitted at once; when it
 * completes, the data is decrypted in place: right there, or in this
 * CPU's softirq if that was hard interrupt context, or on the workqueue
 * if the read is large. For a write it is a bio of bounce pages, into
 * which seal_map() encrypts the caller's data before submitting it; the
 * caller's pages are never written.
 *
 * A bio is converted by runners (struct seal_runner) that claim batches of
 * SEAL_BATCH bytes in turn until none is left. The CPU that has the bio is
 * always one; a large bio also gets helpers, work items queued on other
 * CPUs. A helper that has not started by the time everything is claimed is
 * cancelled, so a busy CPU never holds a bio up. The last runner to finish
 * finishes the bio.
 *
 * Each crypto sector is one skcipher request with a plain64 IV. Each runner
 * has its request in the bio's per-io data and reuses it for each of its
 * sectors, so the data path allocates nothing per sector. When the cipher
 * completes asynchronously (-EINPROGRESS, or -EBUSY when backlogged), the
 * callback advances to the next sector and queues a work item for the
 * runner, which carries on in process context. Bios are independent of
 * each other; they share only the mapping's stash of bounce pages (a
 * spinlock taken once per write to take pages and once to give them back),
 * and a write which has to wait for bounce pages waits alone.
 *
 * A REQ_NOWAIT bio (io_uring's first attempt) never waits here: when it
 * would, it is completed with BLK_STS_AGAIN and retried by its submitter.
 */
#include <linux/blkdev.h>
#include <linux/gfp.h>
#include <linux/interrupt.h>
#include <linux/llist.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "dm-seal.h"

/* Largest write converted as one bio: every page must come from the pool. */
#define SEAL_MAX_WRITE_SIZE	(BIO_MAX_VECS << PAGE_SHIFT)

/*
 * What a runner claims at a time: small enough for runners to share a bio
 * evenly, large enough that claiming costs nothing next to converting.
 */
#define SEAL_BATCH		(32 << 10)

/* Each helper of a bio must have at least this much to do. */
#define SEAL_HELPER_MIN		(64 << 10)

/*
 * Largest read decrypted in the context its lower bio completed in, which
 * may not reschedule (softirq, or a submitter deep in submit_bio()); a
 * larger one goes to the workqueue, which does. About 50 us of AES-NI.
 */
#define SEAL_READ_INLINE_MAX	(128 << 10)

/* Runner 0 is in the per-io data, right after @io; helpers are not. */
static inline struct seal_runner *seal_io_runner(struct seal_io *io,
						 unsigned int i)
{
	if (!i)
		return (void *)io + ALIGN(sizeof(*io), CRYPTO_MINALIGN);
	return io->helpers + (i - 1) * io->st->runner_size;
}

static inline struct skcipher_request *seal_runner_req(struct seal_runner *r)
{
	return (void *)r + ALIGN(sizeof(*r), CRYPTO_MINALIGN);
}

/**
 * seal_per_io_data_size() - per-bio data a target needs
 * @st: the target, with its tfm allocated
 *
 * Sets st->runner_size and st->max_runners. Every bio carries its own
 * runner; the helpers of the few bios that get them are allocated then.
 *
 * Return: size of struct seal_io plus one runner and its skcipher request.
 */
unsigned int seal_per_io_data_size(struct seal_target *st)
{
	unsigned int reqsize = crypto_skcipher_reqsize(st->tfm);

	/* A table with "reencrypt" has a second tfm for the same algorithm. */
	if (st->reenc)
		reqsize = max(reqsize, crypto_skcipher_reqsize(st->reenc->tfm));
	st->runner_size = ALIGN(sizeof(struct seal_runner), CRYPTO_MINALIGN) +
			  ALIGN(sizeof(struct skcipher_request) + reqsize,
				CRYPTO_MINALIGN);
	st->max_runners = clamp_t(unsigned int, num_possible_cpus(), 1,
				  SEAL_MAX_RUNNERS);
	return ALIGN(sizeof(struct seal_io), CRYPTO_MINALIGN) + st->runner_size;
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
		/* "Would block" is not an error: the submitter tries again. */
		if (io->status != BLK_STS_AGAIN)
			seal_count(st, write ? SEAL_STAT_WRITE_ERRORS :
					       SEAL_STAT_READ_ERRORS, 1);
		bio->bi_status = io->status;
	} else {
		seal_count(st, write ? SEAL_STAT_WRITE_SECTORS :
				       SEAL_STAT_READ_SECTORS, bio_sectors(bio));
	}
	if (unlikely(io->reenc_tracked))
		seal_reenc_io_done(io);
	bio_endio(bio);
}

/*
 * Point @sg at the next @len bytes of @bio from @iter. Return 0, or -EIO if
 * the bytes are cut into too many pieces.
 */
static int seal_map_sg(struct scatterlist *sg, struct bio *bio,
		       struct bvec_iter iter, unsigned int len)
{
	struct bio_vec bv = bio_iter_iovec(bio, iter);
	unsigned int n = 0;

	/* The common case: the crypto sector is one piece of one page. */
	if (likely(bv.bv_len >= len)) {
		sg_init_table(sg, 1);
		sg_set_page(sg, bv.bv_page, len, bv.bv_offset);
		return 0;
	}

	sg_init_table(sg, SEAL_MAX_SG);
	while (len) {
		unsigned int piece;

		bv = bio_iter_iovec(bio, iter);
		piece = min(bv.bv_len, len);
		if (n == SEAL_MAX_SG)
			return -EIO;
		sg_set_page(&sg[n++], bv.bv_page, piece, bv.bv_offset);
		bio_advance_iter_single(bio, &iter, piece);
		len -= piece;
	}
	sg_mark_end(&sg[n - 1]);
	return 0;
}

/*
 * Start the conversion of the runner's crypto sector at its current
 * position. Return 0 when it is done, -EINPROGRESS or -EBUSY when
 * seal_crypt_done() will be called for it, or another negative errno.
 */
static int seal_convert_sector(struct seal_runner *r)
{
	struct seal_io *io = r->io;
	struct seal_target *st = io->st;
	struct skcipher_request *req = seal_runner_req(r);
	unsigned int len = st->sector_size;
	struct scatterlist *dst = r->sg_in;
	u64 iv_sector;
	int err;

	err = seal_map_sg(r->sg_in, io->base, r->iter_in, len);
	if (err)
		return err;

	if (io->bounce) {
		struct bio_vec bv = bio_iter_iovec(io->bounce, r->iter_out);

		/* Bounce pages are whole pages: a sector never straddles two. */
		sg_init_table(&r->sg_out, 1);
		sg_set_page(&r->sg_out, bv.bv_page, len, bv.bv_offset);
		dst = &r->sg_out;
	}

	iv_sector = io->sector + st->iv_offset + (r->pos >> SECTOR_SHIFT);
	if (st->iv_large_sectors)
		iv_sector >>= st->sector_shift;
	r->iv[0] = cpu_to_le64(iv_sector);
	r->iv[1] = 0;

	skcipher_request_set_crypt(req, r->sg_in, dst, len, (u8 *)r->iv);
	if (io->bounce)
		return crypto_skcipher_encrypt(req);
	return crypto_skcipher_decrypt(req);
}

/* Move the runner's position forward by @bytes. */
static void seal_advance(struct seal_runner *r, unsigned int bytes)
{
	struct seal_io *io = r->io;

	bio_advance_iter(io->base, &r->iter_in, bytes);
	if (io->bounce)
		bio_advance_iter(io->bounce, &r->iter_out, bytes);
	r->pos += bytes;
}

static void seal_crypt_error(struct seal_runner *r, int err)
{
	struct seal_io *io = r->io;

	DMERR_LIMIT("%s a bio at sector %llu failed: %d",
		    seal_io_is_write(io) ? "Encrypting" : "Decrypting",
		    (unsigned long long)io->sector, err);
	/* Runners may fail together; they all store the same value. */
	WRITE_ONCE(io->status, BLK_STS_IOERR);
}

/**
 * seal_stash_init() - set up a mapping's stash of bounce pages, empty
 * @st: the target, before anything that seal_stash_release() may follow
 */
void seal_stash_init(struct seal_target *st)
{
	INIT_LIST_HEAD(&st->stash);
	st->stash_nr = 0;
	st->stash_waiter = false;
	spin_lock_init(&st->stash_lock);
}

/**
 * seal_stash_release() - give the stashed bounce pages back
 * @st: the target, with no write in flight
 */
void seal_stash_release(struct seal_target *st)
{
	struct page *page, *next;
	unsigned long flags;
	LIST_HEAD(pages);

	spin_lock_irqsave(&st->stash_lock, flags);
	list_splice_init(&st->stash, &pages);
	st->stash_nr = 0;
	spin_unlock_irqrestore(&st->stash_lock, flags);

	list_for_each_entry_safe(page, next, &pages, lru) {
		list_del(&page->lru);
		mempool_free(page, &st->page_pool);
	}
}

/*
 * Move up to @nr stashed pages to @pages. A write that may wait for the rest
 * (@waiter) is marked in the same critical section: a page freed before
 * that is taken here, one freed after it goes to the pool and wakes it.
 * Every CPU takes this lock, with interrupts off: it is held only to move
 * whole lists; the pages are counted out with it released.
 */
static void seal_stash_take(struct seal_target *st, struct list_head *pages,
			    unsigned int nr, bool waiter)
{
	struct list_head *last;
	unsigned long flags;
	unsigned int n, i;
	LIST_HEAD(all);

	spin_lock_irqsave(&st->stash_lock, flags);
	list_splice_init(&st->stash, &all);
	n = st->stash_nr;
	st->stash_nr = 0;
	if (waiter)
		st->stash_waiter = true;
	spin_unlock_irqrestore(&st->stash_lock, flags);

	if (n <= nr) {
		list_splice(&all, pages);
		return;
	}
	/* More than this write needs: the rest goes back. */
	for (i = 0, last = &all; i < nr; i++)
		last = last->next;
	list_cut_position(pages, &all, last);
	spin_lock_irqsave(&st->stash_lock, flags);
	list_splice(&all, &st->stash);
	st->stash_nr += n - nr;
	spin_unlock_irqrestore(&st->stash_lock, flags);
}

static void seal_stash_waiter_done(struct seal_target *st)
{
	unsigned long flags;

	spin_lock_irqsave(&st->stash_lock, flags);
	st->stash_waiter = false;
	spin_unlock_irqrestore(&st->stash_lock, flags);
}

/*
 * Give a bounce bio's pages back: to the stash if they all fit and no write
 * waits for pages, to the pool otherwise. Each bvec of a bounce bio is one
 * whole page, see seal_try_alloc_bounce().
 */
static void seal_free_bounce(struct seal_target *st, struct bio *bounce)
{
	struct bio_vec *bv = bounce->bi_io_vec;
	unsigned short i, n = bounce->bi_vcnt;
	struct page *page, *next;
	unsigned long flags;
	LIST_HEAD(pages);

	for (i = 0; i < n; i++)
		list_add(&bv[i].bv_page->lru, &pages);
	bio_put(bounce);

	/* Writes may complete in hard interrupt context. */
	spin_lock_irqsave(&st->stash_lock, flags);
	if (!st->stash_waiter && st->stash_nr + n <= SEAL_STASH_PAGES) {
		list_splice(&pages, &st->stash);
		st->stash_nr += n;
		n = 0;
	}
	spin_unlock_irqrestore(&st->stash_lock, flags);
	if (!n)
		return;
	list_for_each_entry_safe(page, next, &pages, lru) {
		list_del(&page->lru);
		mempool_free(page, &st->page_pool);
	}
}

static void seal_write_endio(struct bio *bounce)
{
	struct seal_io *io = bounce->bi_private;

	io->status = bounce->bi_status;
	seal_free_bounce(io->st, bounce);
	seal_io_end(io);
}

/*
 * A bounce page for a write. Only the write that waits under bounce_lock
 * (@gfp allows blocking) draws on the pool's reserve: it is refilled by
 * completing writes for that one, and a write that takes what it finds
 * without waiting could otherwise take it each time, for as long as it
 * keeps writing. The page goes back with mempool_free() all the same.
 */
static struct page *seal_alloc_page(struct seal_target *st, gfp_t gfp)
{
	if (!gfpflags_allow_blocking(gfp))
		return alloc_page(gfp);
	return mempool_alloc(&st->page_pool, gfp);
}

/*
 * Allocate the bio that takes the ciphertext of the first io->size bytes
 * of a write to the lower device, with bounce pages from the pool. Return
 * NULL if @gfp does not allow waiting and the pool is short.
 */
static struct bio *seal_try_alloc_bounce(struct seal_io *io, gfp_t gfp)
{
	struct seal_target *st = io->st;
	struct bio *base = io->base;
	unsigned int size = io->size;
	unsigned int nr_pages = DIV_ROUND_UP(size, PAGE_SIZE);
	unsigned int left, len;
	struct bio *bounce;
	struct page *page;
	LIST_HEAD(stashed);

	bounce = bio_alloc_bioset(st->dev->bdev, nr_pages, base->bi_opf,
				  base->bi_opf & REQ_NOWAIT ?
				  GFP_NOWAIT | __GFP_NOWARN : GFP_NOIO, &st->bs);
	if (!bounce)
		return NULL;
	/* dm polls the bio it gave seal_map(), never this one. */
	bio_clear_polled(bounce);

	seal_stash_take(st, &stashed, nr_pages, gfpflags_allow_blocking(gfp));
	for (left = size; left; left -= len) {
		len = min_t(unsigned int, left, PAGE_SIZE);
		page = list_first_entry_or_null(&stashed, struct page, lru);
		if (page)
			list_del(&page->lru);
		else
			page = seal_alloc_page(st, gfp);
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
	/*
	 * bio_alloc_bioset() charged the bounce bio to this task's cgroup,
	 * which for writeback is the flusher's, not the writer's. Current
	 * kernels' dm_submit_bio_remap() copies the original bio's cgroup
	 * itself; stable kernels before 2025 (6.1.1xx) do not.
	 */
	bio_clone_blkg_association(bounce, base);
	return bounce;
}

/*
 * Called from seal_map(), never from the workqueue (see seal_runner_work()).
 * The first attempt does not wait and takes only stashed pages and free
 * memory; for a REQ_NOWAIT bio it is the only one. Otherwise what was
 * taken goes back and the write waits for pages under bounce_lock: one
 * waiter at a time, which alone takes the pool's reserve (a maximal write)
 * and every page other writes give back meanwhile, so it always completes.
 */
static struct bio *seal_alloc_bounce(struct seal_io *io)
{
	struct seal_target *st = io->st;
	struct bio *bounce;

	bounce = seal_try_alloc_bounce(io, GFP_NOWAIT | __GFP_NOWARN |
					   __GFP_HIGHMEM);
	if (likely(bounce) || (io->base->bi_opf & REQ_NOWAIT))
		return bounce;

	mutex_lock(&st->bounce_lock);
	bounce = seal_try_alloc_bounce(io, GFP_NOIO | __GFP_HIGHMEM);
	seal_stash_waiter_done(st);
	mutex_unlock(&st->bounce_lock);
	return bounce;
}

/*
 * All runners done: the bio is converted, or failed: finish the bio. Process context for
 * writes; for reads, any context but hard interrupt.
 */
static void seal_convert_done(struct seal_io *io)
{
	/* A helper may be running this: a work item may free itself. */
	kfree(io->helpers);
	if (seal_io_is_write(io) && !io->status) {
		dm_submit_bio_remap(io->base, io->bounce);
		return;
	}
	if (io->bounce)
		seal_free_bounce(io->st, io->bounce);
	seal_io_end(io);
}

/*
 * Claim the next batch of the bio for @r and move @r there. Return false
 * when nothing is left.
 */
static bool seal_claim(struct seal_runner *r)
{
	struct seal_io *io = r->io;
	unsigned long pos;

	pos = atomic_long_fetch_add(SEAL_BATCH, &io->next);
	if (pos >= io->size)
		return false;
	seal_advance(r, pos - r->pos);
	r->end = min_t(unsigned long, pos + SEAL_BATCH, io->size);
	return true;
}

/*
 * The bio's own runner has nothing left to claim: helpers that have not
 * started yet will find nothing either, so take them off their queues
 * instead of waiting for them.
 */
static void seal_cancel_helpers(struct seal_io *io)
{
	unsigned int i;

	for (i = 1; i < io->nr_runners; i++)
		if (cancel_work(&seal_io_runner(io, i)->work))
			atomic_dec(&io->pending);
}

/*
 * Convert crypto sectors, batch after batch, until the bio has none left
 * or the cipher goes asynchronous. The last runner to finish finishes the
 * bio.
 */
static void seal_runner_run(struct seal_runner *r)
{
	struct seal_io *io = r->io;
	int err;

	for (;;) {
		while (r->pos < r->end && !READ_ONCE(io->status)) {
			err = seal_convert_sector(r);
			if (err == -EINPROGRESS || err == -EBUSY)
				return;
			if (unlikely(err)) {
				seal_crypt_error(r, err);
				break;
			}
			seal_advance(r, io->st->sector_size);
			if (r->may_sleep)
				cond_resched();
		}
		if (READ_ONCE(io->status) || !seal_claim(r))
			break;
	}

	/* The bio's own runner holds a count until the helpers are dealt with. */
	if (r == seal_io_runner(io, 0))
		seal_cancel_helpers(io);
	if (atomic_dec_and_test(&io->pending))
		seal_convert_done(io);
}

/*
 * Completion of an asynchronous request. Runs in whatever context the
 * cipher completes in, so it only records the result and hands the runner
 * to process context.
 */
static void seal_crypt_done(crypto_completion_data_t *data, int err)
{
	struct seal_runner *r = crypto_get_completion_data(data);

	/* A backlogged request was started; its completion follows. */
	if (err == -EINPROGRESS)
		return;

	if (unlikely(err))
		seal_crypt_error(r, err);
	else
		seal_advance(r, r->io->st->sector_size);
	r->may_sleep = true;
	queue_work(r->io->st->crypt_wq, &r->async_work);
}

/*
 * A helper, on another CPU than the one that has its bio. Nothing here
 * waits for memory, so a bio that holds bounce pages always gets to finish
 * and give them back.
 */
static void seal_runner_work(struct work_struct *work)
{
	seal_runner_run(container_of(work, struct seal_runner, work));
}

/* Any runner, after an asynchronous completion. Same rules. */
static void seal_runner_async_work(struct work_struct *work)
{
	seal_runner_run(container_of(work, struct seal_runner, async_work));
}

/* How many runners, the bio's own included, convert a bio of @size bytes. */
static unsigned int seal_nr_runners(struct seal_target *st, unsigned int size)
{
	unsigned int n = min(st->max_runners, size / SEAL_HELPER_MIN);

	return clamp(n, 1U, num_online_cpus());
}

/* The next online CPU after @cpu, wrapping around. */
static unsigned int seal_next_cpu(unsigned int cpu)
{
	cpu = cpumask_next(cpu, cpu_online_mask);
	if (cpu >= nr_cpu_ids)
		cpu = cpumask_first(cpu_online_mask);
	return cpu;
}

/*
 * Convert the bio: queue helpers on other CPUs if it is large, then run
 * the bio's own runner here. @may_sleep says whether this context may
 * reschedule.
 */
static void seal_convert(struct seal_io *io, bool may_sleep)
{
	struct seal_target *st = io->st;
	struct seal_runner *r;
	unsigned int i, cpu;

	io->nr_runners = seal_nr_runners(st, io->size);
	io->helpers = NULL;
	if (io->nr_runners > 1) {
		/* No memory to spare: then this CPU converts it all. */
		io->helpers = kmalloc_array(io->nr_runners - 1, st->runner_size,
					    GFP_NOWAIT | __GFP_NOWARN);
		if (!io->helpers)
			io->nr_runners = 1;
	}
	atomic_long_set(&io->next, 0);
	atomic_set(&io->pending, io->nr_runners);

	for (i = 0; i < io->nr_runners; i++) {
		r = seal_io_runner(io, i);
		r->io = io;
		r->iter_in = io->base->bi_iter;
		if (io->bounce)
			r->iter_out = io->bounce->bi_iter;
		r->pos = 0;
		r->end = 0;
		r->may_sleep = i || may_sleep;
		/* The bio's own runner may be running from its work item. */
		if (i)
			INIT_WORK(&r->work, seal_runner_work);
		INIT_WORK(&r->async_work, seal_runner_async_work);
		skcipher_request_set_tfm(seal_runner_req(r), io->tfm);
		skcipher_request_set_callback(seal_runner_req(r),
					      CRYPTO_TFM_REQ_MAY_BACKLOG,
					      seal_crypt_done, r);
	}

	/* A hint: if this task moves, the helpers only spread differently. */
	cpu = raw_smp_processor_id();
	for (i = 1; i < io->nr_runners; i++) {
		cpu = seal_next_cpu(cpu);
		queue_work_on(cpu, st->crypt_wq, &seal_io_runner(io, i)->work);
	}
	seal_runner_run(seal_io_runner(io, 0));
}

/*
 * Small reads that completed in hard interrupt context (NVMe, multi-queue
 * virtio) are decrypted in this CPU's softirq, which runs as the interrupt
 * returns: no wake-up, no context switch, and a poller spinning on this
 * CPU for the read (io_uring --hipri) is not kept waiting for a kworker.
 * Per CPU, one list and one tasklet for all mappings; a tasklet run takes
 * a bounded batch and leaves the rest to the next.
 */
struct seal_softirq {
	struct llist_head reads;
	struct tasklet_struct tasklet;
};

static DEFINE_PER_CPU(struct seal_softirq, seal_softirq);

/* Reads decrypted per tasklet run: at most 4 MiB, about 2 ms of AES-NI. */
#define SEAL_SOFTIRQ_BATCH	32

static void seal_softirq_add(struct seal_io *io)
{
	struct seal_softirq *sq = this_cpu_ptr(&seal_softirq);

	if (llist_add(&io->softirq_node, &sq->reads))
		tasklet_schedule(&sq->tasklet);
}

static void seal_softirq_run(struct tasklet_struct *t)
{
	struct seal_softirq *sq = from_tasklet(sq, t, tasklet);
	struct llist_node *node, *next;
	struct seal_io *io;
	unsigned int n = 0;

	node = llist_reverse_order(llist_del_all(&sq->reads));
	for (; node; node = next) {
		next = node->next;
		io = llist_entry(node, struct seal_io, softirq_node);
		if (++n > SEAL_SOFTIRQ_BATCH) {
			/* The rest waits for the next run: softirq stays short. */
			if (llist_add(&io->softirq_node, &sq->reads))
				tasklet_schedule(&sq->tasklet);
			continue;
		}
		seal_convert(io, false);
	}
}

/**
 * seal_io_init() - set up the per-CPU softirq lists, at module load
 */
void seal_io_init(void)
{
	unsigned int cpu;

	for_each_possible_cpu(cpu) {
		struct seal_softirq *sq = per_cpu_ptr(&seal_softirq, cpu);

		init_llist_head(&sq->reads);
		tasklet_setup(&sq->tasklet, seal_softirq_run);
	}
}

/**
 * seal_io_exit() - stop the per-CPU tasklets, at module unload
 *
 * Every mapping is gone by then, so no read is left on a list.
 */
void seal_io_exit(void)
{
	unsigned int cpu;

	for_each_possible_cpu(cpu)
		tasklet_kill(&per_cpu_ptr(&seal_softirq, cpu)->tasklet);
}

/* A read too large to decrypt where it completed. */
static void seal_read_work(struct work_struct *work)
{
	struct seal_runner *r = container_of(work, struct seal_runner, work);

	seal_convert(r->io, true);
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
	/*
	 * Decrypt right here, unless the read is too large to convert without
	 * rescheduling (the workqueue then: the first runner's work item is
	 * free until seal_convert() sets it up) or this is hard interrupt
	 * context (this CPU's softirq then).
	 */
	if (io->size > SEAL_READ_INLINE_MAX) {
		struct seal_runner *r = seal_io_runner(io, 0);

		r->io = io;
		INIT_WORK(&r->work, seal_read_work);
		queue_work(io->st->crypt_wq, &r->work);
		return;
	}
	if (in_hardirq() || irqs_disabled()) {
		seal_softirq_add(io);
		return;
	}
	seal_convert(io, false);
}

/* Return false if a REQ_NOWAIT bio would have to wait for a clone. */
static bool seal_submit_read(struct seal_io *io)
{
	struct seal_target *st = io->st;
	struct bio *clone;

	clone = bio_alloc_clone(st->dev->bdev, io->base,
				io->base->bi_opf & REQ_NOWAIT ?
				GFP_NOWAIT | __GFP_NOWARN : GFP_NOIO, &st->bs);
	if (!clone)
		return false;
	/*
	 * dm polls the bio it gave seal_map(), never this one: left polled,
	 * the lower device would complete it only when its timeout hit.
	 */
	bio_clear_polled(clone);
	clone->bi_iter.bi_sector = st->start + io->sector;
	clone->bi_private = io;
	clone->bi_end_io = seal_read_endio;
	dm_submit_bio_remap(io->base, clone);
	return true;
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

/*
 * The most a REQ_NOWAIT bio of @st may carry at @sector: what the lower
 * device takes as one request. blk-mq ends a REQ_NOWAIT bio that it would
 * have to split with BLK_STS_AGAIN, after a write has been encrypted; the
 * submitter then tries the whole bio again. A bounce bio has a segment per
 * page; a read clone has the caller's, one more when the buffer does not
 * start a page. A bio-based lower device splits nothing. Return 0 when
 * not even a crypto sector fits.
 */
static unsigned int seal_nowait_max_size(struct seal_target *st,
					 sector_t sector, bool write)
{
	struct request_queue *q = bdev_get_queue(st->dev->bdev);
	unsigned int chunk = q->limits.chunk_sectors;
	unsigned int segs = queue_max_segments(q);
	u64 max, offset;

	if (!queue_is_mq(q))
		return UINT_MAX;
	if (queue_max_segment_size(q) < PAGE_SIZE)
		return 0;

	max = (u64)queue_max_sectors(q) << SECTOR_SHIFT;
	max = min_t(u64, max, (u64)(write ? segs : segs - 1) << PAGE_SHIFT);
	if (chunk) {
		offset = st->start + sector;
		max = min_t(u64, max,
			    (u64)(chunk - do_div(offset, chunk)) << SECTOR_SHIFT);
	}
	return round_down(max, st->sector_size);
}

int seal_map(struct dm_target *ti, struct bio *bio)
{
	struct seal_target *st = ti->private;
	struct seal_io *io;
	sector_t sector;
	bool write;

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

	io = dm_per_bio_data(bio, ti->per_io_data_size);
	io->st = st;
	io->base = bio;
	io->tfm = st->tfm;
	io->bounce = NULL;
	io->sector = sector;
	io->size = bio->bi_iter.bi_size;
	io->status = BLK_STS_OK;
	io->reenc_tracked = false;
	write = op_is_write(bio_op(bio));
	if (write)
		io->size = min_t(unsigned int, io->size, SEAL_MAX_WRITE_SIZE);

	/*
	 * DM_TARGET_NOWAIT: a REQ_NOWAIT bio goes down with the flag, so it
	 * can only be taken if the lower device honours it too, and only as
	 * much of it as the lower device takes without splitting.
	 */
	if (unlikely(bio->bi_opf & REQ_NOWAIT)) {
		if (!bdev_nowait(st->dev->bdev))
			goto would_block;
		io->size = min(io->size,
			       seal_nowait_max_size(st, sector, write));
		if (!io->size)
			goto would_block;
	}

	/* A table with "reencrypt": the key, and the size under it. */
	if (unlikely(st->reenc)) {
		int r = seal_reenc_map(st, io);

		if (r == -EAGAIN)
			goto would_block;
		if (unlikely(r))
			return seal_kill(st, bio);
	}

	if (write) {
		/*
		 * map runs in the submitter's process context. The rest of
		 * the bio is accepted for later only once this part has its
		 * pages: otherwise dm core would convert the rest, and then
		 * the submitter all of it again.
		 */
		io->bounce = seal_alloc_bounce(io);
		if (unlikely(!io->bounce))
			goto would_block;
		if (io->size < bio->bi_iter.bi_size)
			dm_accept_partial_bio(bio, io->size >> SECTOR_SHIFT);
		seal_convert(io, true);
		return DM_MAPIO_SUBMITTED;
	}

	if (io->size < bio->bi_iter.bi_size)
		dm_accept_partial_bio(bio, io->size >> SECTOR_SHIFT);
	if (unlikely(!seal_submit_read(io)))
		goto would_block;
	return DM_MAPIO_SUBMITTED;

would_block:
	if (io->reenc_tracked)
		seal_reenc_io_done(io);
	/* The submitter tries again where it may wait (io_uring: io-wq). */
	bio_wouldblock_error(bio);
	return DM_MAPIO_SUBMITTED;
}
