// SPDX-License-Identifier: GPL-2.0
/*
 * xts-speed: how fast the kernel's "xts(aes)" runs on one CPU.
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

static unsigned int msecs = 1000;
module_param(msecs, uint, 0444);
MODULE_PARM_DESC(msecs, "time per measurement in milliseconds (default 1000)");

static unsigned int cpu;
module_param(cpu, uint, 0444);
MODULE_PARM_DESC(cpu, "the CPU to measure on (default 0)");

static const unsigned int xts_speed_sizes[] = { 512, 4096, 65536 };

struct xts_speed {
	struct crypto_skcipher *tfm;
	u8 *src;
	u8 *dst;
	int err;
	struct completion done;
};

/* Run one direction at one size for msecs; print the result. */
static int xts_speed_one(struct xts_speed *s, unsigned int size, bool enc)
{
	struct skcipher_request *req;
	struct scatterlist sg_src, sg_dst;
	DECLARE_CRYPTO_WAIT(wait);
	u64 start, now, end, bytes = 0, sector = 0;
	__le64 iv[2];
	int err = 0;

	req = skcipher_request_alloc(s->tfm, GFP_KERNEL);
	if (!req)
		return -ENOMEM;
	skcipher_request_set_callback(req, CRYPTO_TFM_REQ_MAY_BACKLOG |
				      CRYPTO_TFM_REQ_MAY_SLEEP,
				      crypto_req_done, &wait);
	sg_init_one(&sg_src, s->src, size);
	sg_init_one(&sg_dst, enc ? s->dst : s->src, size);

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
		pr_err("size %u %s failed: %d\n", size,
		       enc ? "encrypt" : "decrypt", err);
		return err;
	}
	now -= start;
	pr_info("driver %s cpu %u size %u %s bytes %llu ns %llu mbps %llu\n",
		crypto_skcipher_driver_name(s->tfm), raw_smp_processor_id(),
		size, enc ? "encrypt" : "decrypt", bytes, now,
		div64_u64(bytes * 1000, now));
	return 0;
}

static int xts_speed_thread(void *data)
{
	struct xts_speed *s = data;
	unsigned int i;
	int err = 0;

	for (i = 0; i < ARRAY_SIZE(xts_speed_sizes) && !err; i++) {
		err = xts_speed_one(s, xts_speed_sizes[i], true);
		if (!err)
			err = xts_speed_one(s, xts_speed_sizes[i], false);
	}
	s->err = err;
	complete(&s->done);
	return 0;
}

static int __init xts_speed_init(void)
{
	struct xts_speed s = { };
	struct task_struct *task;
	u8 key[XTS_SPEED_KEY_SIZE];
	int err;

	if (cpu >= nr_cpu_ids || !cpu_online(cpu))
		return -EINVAL;
	if (!msecs)
		return -EINVAL;
	init_completion(&s.done);
	s.tfm = crypto_alloc_skcipher("xts(aes)", 0, 0);
	if (IS_ERR(s.tfm))
		return PTR_ERR(s.tfm);
	get_random_bytes(key, sizeof(key));
	err = crypto_skcipher_setkey(s.tfm, key, sizeof(key));
	memzero_explicit(key, sizeof(key));
	if (err)
		goto out_tfm;
	err = -ENOMEM;
	s.src = kmalloc(XTS_SPEED_MAX_SIZE, GFP_KERNEL);
	s.dst = kmalloc(XTS_SPEED_MAX_SIZE, GFP_KERNEL);
	if (!s.src || !s.dst)
		goto out_buf;
	get_random_bytes(s.src, XTS_SPEED_MAX_SIZE);

	task = kthread_create(xts_speed_thread, &s, "xts_speed/%u", cpu);
	if (IS_ERR(task)) {
		err = PTR_ERR(task);
		goto out_buf;
	}
	kthread_bind(task, cpu);
	wake_up_process(task);
	wait_for_completion(&s.done);
	err = s.err;
out_buf:
	kfree(s.dst);
	kfree(s.src);
out_tfm:
	crypto_free_skcipher(s.tfm);
	return err;
}

static void __exit xts_speed_exit(void)
{
}

module_init(xts_speed_init);
module_exit(xts_speed_exit);

MODULE_DESCRIPTION("Throughput of xts(aes) on one CPU, for make bench");
MODULE_LICENSE("GPL");
