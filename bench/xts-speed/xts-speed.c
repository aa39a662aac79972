// SPDX-License-Identifier: GPL-2.0
/*
 * xts-speed: how fast the kernel's "xts(aes)" runs on one CPU, and on all.
 *
 * A measuring instrument for `make bench`, never a part of dm-seal. On load it
 * allocates the "xts(aes)" skcipher that dm-crypt and seal get, sets a random
 * AES-256-XTS key, and, in a kernel thread bound to one CPU, encrypts and
 * decrypts buffers of each size for a fixed time, one request per buffer with
 * a new tweak each time (as a dm target does per sector). It prints one line
 * per measurement and stays loaded doing nothing until removed:
 *
 *   xts_speed: driver <name> cpu <n> size <bytes> <encrypt|decrypt>
 *              bytes <n> ns <n> mbps <MB/s>
 *
 * With all=1 the same runs on every online CPU at once, one bound thread per
 * CPU, each with its own buffers and request, started together; then one
 * line per measurement gives the sum over the CPUs:
 *
 *   xts_speed: driver <name> cpus <n> size <bytes> <encrypt|decrypt>
 *              bytes <sum> ns <longest> mbps <sum of each CPU's MB/s>
 *
 * That is what splitting one bio across CPUs can reach on this machine at
 * best: under an emulator the CPUs may not scale.
 *
 * Encryption is out of place (like a write), decryption in place (like a read).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <crypto/skcipher.h>
#include <linux/completion.h>
#include <linux/crypto.h>
#include <linux/err.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#define XTS_SPEED_KEY_SIZE	64	/* AES-256-XTS */
#define XTS_SPEED_MAX_SIZE	65536
/* Between two cells, so that a late thread never eats into the next one. */
#define XTS_SPEED_GAP_MS	20

static unsigned int msecs = 1000;
module_param(msecs, uint, 0444);
MODULE_PARM_DESC(msecs, "time per measurement in milliseconds (default 1000)");

static unsigned int cpu;
module_param(cpu, uint, 0444);
MODULE_PARM_DESC(cpu, "the CPU to measure on (default 0)");

static bool all;
module_param(all, bool, 0444);
MODULE_PARM_DESC(all, "measure on every online CPU at once (default: one CPU)");

static const unsigned int xts_speed_sizes[] = { 512, 4096, 65536 };

/* A cell is one size in one direction: encrypt, then decrypt, per size. */
#define XTS_SPEED_CELLS		(2 * ARRAY_SIZE(xts_speed_sizes))

static inline unsigned int xts_speed_cell_size(unsigned int cell)
{
	return xts_speed_sizes[cell / 2];
}

static inline bool xts_speed_cell_enc(unsigned int cell)
{
	return !(cell % 2);
}

struct xts_speed {
	struct crypto_skcipher *tfm;
	u64 base_ns;			/* when the first cell starts */
	atomic_t running;
	struct completion done;
};

struct xts_speed_thread {
	struct xts_speed *s;
	struct task_struct *task;
	unsigned int cpu;
	u8 *src;
	u8 *dst;
	u64 bytes[XTS_SPEED_CELLS];
	u64 ns[XTS_SPEED_CELLS];
	int err;
};

/*
 * Every thread runs cell i from base_ns + i * (msecs + gap) for msecs, so
 * the CPUs measure the same cell at the same time without waiting for each
 * other.
 */
static u64 xts_speed_cell_start(struct xts_speed *s, unsigned int cell)
{
	return s->base_ns +
	       (u64)cell * (msecs + XTS_SPEED_GAP_MS) * NSEC_PER_MSEC;
}

static void xts_speed_sleep_until(u64 when)
{
	u64 now = ktime_get_ns();

	if (now < when) {
		ktime_t delta = ns_to_ktime(when - now);

		set_current_state(TASK_UNINTERRUPTIBLE);
		schedule_hrtimeout(&delta, HRTIMER_MODE_REL);
	}
}

/* Run one cell for msecs from its start time. */
static int xts_speed_cell(struct xts_speed_thread *t, unsigned int cell)
{
	unsigned int size = xts_speed_cell_size(cell);
	bool enc = xts_speed_cell_enc(cell);
	struct skcipher_request *req;
	struct scatterlist sg_src, sg_dst;
	DECLARE_CRYPTO_WAIT(wait);
	u64 start, now, end, bytes = 0, sector = 0;
	__le64 iv[2];
	int err = 0;

	req = skcipher_request_alloc(t->s->tfm, GFP_KERNEL);
	if (!req)
		return -ENOMEM;
	skcipher_request_set_callback(req, CRYPTO_TFM_REQ_MAY_BACKLOG |
				      CRYPTO_TFM_REQ_MAY_SLEEP,
				      crypto_req_done, &wait);
	sg_init_one(&sg_src, t->src, size);
	sg_init_one(&sg_dst, enc ? t->dst : t->src, size);

	xts_speed_sleep_until(xts_speed_cell_start(t->s, cell));
	start = ktime_get_ns();
	end = start + (u64)msecs * NSEC_PER_MSEC;
	do {
		iv[0] = cpu_to_le64(sector++);
		iv[1] = 0;
		skcipher_request_set_crypt(req, &sg_src, &sg_dst, size, iv);
		if (enc)
			err = crypto_wait_req(crypto_skcipher_encrypt(req), &wait);
		else
			err = crypto_wait_req(crypto_skcipher_decrypt(req), &wait);
		if (err)
			break;
		bytes += size;
		cond_resched();
		now = ktime_get_ns();
	} while (now < end);
	skcipher_request_free(req);
	if (err) {
		pr_err("cpu %u size %u %s failed: %d\n", t->cpu, size,
		       enc ? "encrypt" : "decrypt", err);
		return err;
	}
	t->bytes[cell] = bytes;
	t->ns[cell] = now - start;
	return 0;
}

static int xts_speed_thread_fn(void *data)
{
	struct xts_speed_thread *t = data;
	unsigned int cell;
	int err = 0;

	for (cell = 0; cell < XTS_SPEED_CELLS && !err; cell++)
		err = xts_speed_cell(t, cell);
	t->err = err;
	if (atomic_dec_and_test(&t->s->running))
		complete(&t->s->done);
	return 0;
}

static u64 xts_speed_mbps(u64 bytes, u64 ns)
{
	return ns ? div64_u64(bytes * 1000, ns) : 0;
}

static void xts_speed_report(struct xts_speed *s, struct xts_speed_thread *t,
			     unsigned int nr)
{
	const char *driver = crypto_skcipher_driver_name(s->tfm);
	unsigned int cell, i;

	for (cell = 0; cell < XTS_SPEED_CELLS; cell++) {
		u64 bytes = 0, ns = 0, mbps = 0;

		for (i = 0; i < nr; i++) {
			bytes += t[i].bytes[cell];
			ns = max(ns, t[i].ns[cell]);
			mbps += xts_speed_mbps(t[i].bytes[cell], t[i].ns[cell]);
		}
		pr_info("driver %s %s %u size %u %s bytes %llu ns %llu mbps %llu\n",
			driver, all ? "cpus" : "cpu", all ? nr : t[0].cpu,
			xts_speed_cell_size(cell),
			xts_speed_cell_enc(cell) ? "encrypt" : "decrypt",
			bytes, ns, mbps);
	}
}

static int xts_speed_start(struct xts_speed *s, struct xts_speed_thread *t,
			   unsigned int nr)
{
	unsigned int i, started;
	int err = 0;

	atomic_set(&s->running, nr);
	for (started = 0; started < nr; started++) {
		struct task_struct *task;

		task = kthread_create(xts_speed_thread_fn, &t[started],
				      "xts_speed/%u", t[started].cpu);
		if (IS_ERR(task)) {
			err = PTR_ERR(task);
			break;
		}
		kthread_bind(task, t[started].cpu);
		t[started].task = task;
	}
	if (err) {
		/* Never woken: stopping them keeps their function from running. */
		for (i = 0; i < started; i++)
			kthread_stop(t[i].task);
		return err;
	}
	/* Time enough for every thread to be scheduled before the first cell. */
	s->base_ns = ktime_get_ns() + 50 * NSEC_PER_MSEC;
	for (i = 0; i < nr; i++)
		wake_up_process(t[i].task);
	wait_for_completion(&s->done);
	for (i = 0; i < nr; i++)
		if (t[i].err)
			return t[i].err;
	xts_speed_report(s, t, nr);
	return 0;
}

static int __init xts_speed_init(void)
{
	struct xts_speed s = { };
	struct xts_speed_thread *t;
	unsigned int nr = 0, i, c;
	u8 key[XTS_SPEED_KEY_SIZE];
	int err;

	if (!all && (cpu >= nr_cpu_ids || !cpu_online(cpu)))
		return -EINVAL;
	if (!msecs)
		return -EINVAL;
	t = kcalloc(all ? num_online_cpus() : 1, sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	if (all) {
		for_each_online_cpu(c)
			t[nr++].cpu = c;
	} else {
		t[nr++].cpu = cpu;
	}

	init_completion(&s.done);
	s.tfm = crypto_alloc_skcipher("xts(aes)", 0, 0);
	if (IS_ERR(s.tfm)) {
		err = PTR_ERR(s.tfm);
		goto out_threads;
	}
	get_random_bytes(key, sizeof(key));
	err = crypto_skcipher_setkey(s.tfm, key, sizeof(key));
	memzero_explicit(key, sizeof(key));
	if (err)
		goto out_buf;
	for (i = 0; i < nr; i++) {
		t[i].s = &s;
		t[i].src = kmalloc(XTS_SPEED_MAX_SIZE, GFP_KERNEL);
		t[i].dst = kmalloc(XTS_SPEED_MAX_SIZE, GFP_KERNEL);
		if (!t[i].src || !t[i].dst) {
			err = -ENOMEM;
			goto out_buf;
		}
		get_random_bytes(t[i].src, XTS_SPEED_MAX_SIZE);
	}
	err = xts_speed_start(&s, t, nr);
out_buf:
	for (i = 0; i < nr; i++) {
		kfree(t[i].dst);
		kfree(t[i].src);
	}
	crypto_free_skcipher(s.tfm);
out_threads:
	kfree(t);
	return err;
}

static void __exit xts_speed_exit(void)
{
}

module_init(xts_speed_init);
module_exit(xts_speed_exit);

MODULE_DESCRIPTION("Throughput of xts(aes) on one CPU and on all, for make bench");
MODULE_LICENSE("GPL");
