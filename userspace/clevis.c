// SPDX-License-Identifier: GPL-2.0
/*
 * Child processes for clevis (see clevis.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "clevis.h"

/* a JWE of an sss binding over a dozen tang servers stays well below this */
#define CLEVIS_OUT_MAX (256 * 1024)

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void fd_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static _Noreturn void child(const struct clevis_run *run, const char *const argv[],
			    int in, int out, int err)
{
	if (dup2(in, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 || dup2(err, STDERR_FILENO) < 0)
		_exit(127);
	/* dup2 onto itself (sealctl started with 0-2 closed) keeps close-on-exec */
	for (int fd = 0; fd < 3; fd++)
		fcntl(fd, F_SETFD, 0);
	close_range(3, ~0U, 0);
	signal(SIGPIPE, SIG_DFL);
	/* its own session: no terminal to ask on, one group to kill */
	if (!run->tty)
		setsid();
	execvp(argv[0], (char *const *)argv);
	dprintf(STDERR_FILENO, "cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Keep the last non-empty line of what the child said on stderr. */
static void last_line(struct clevis_run *run, const char *buf, size_t len)
{
	size_t end = len, start;

	while (end && (buf[end - 1] == '\n' || buf[end - 1] == '\r'))
		end--;
	start = end;
	while (start && buf[start - 1] != '\n')
		start--;
	snprintf(run->err, sizeof(run->err), "%.*s", (int)(end - start), buf + start);
}

struct pump {
	struct pollfd fds[3];	/* stdin of the child, its stdout, its stderr */
	const char *in;
	size_t in_len, in_off;
	struct secret *out;
	char err[1024];
	size_t err_len;
};

/* One round of I/O; 1 when both outputs reached EOF, <0 on error. */
static int pump_once(struct pump *p, int timeout_ms)
{
	ssize_t n;
	int r = poll(p->fds, 3, timeout_ms);

	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	if (p->fds[0].fd >= 0 && p->fds[0].revents) {
		n = write(p->fds[0].fd, p->in + p->in_off, p->in_len - p->in_off);
		if (n > 0)
			p->in_off += n;
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			p->in_off = p->in_len;	/* it does not read (EPIPE): let it fail */
		if (p->in_off == p->in_len)
			fd_close(&p->fds[0].fd);
	}
	if (p->fds[1].fd >= 0 && p->fds[1].revents) {
		if (p->out->len + 1 >= p->out->size)
			return -EFBIG;
		n = read(p->fds[1].fd, p->out->data + p->out->len, p->out->size - 1 - p->out->len);
		if (n > 0)
			p->out->len += n;
		else if (n == 0 || (errno != EAGAIN && errno != EINTR))
			fd_close(&p->fds[1].fd);
	}
	if (p->fds[2].fd >= 0 && p->fds[2].revents) {
		char buf[512];

		n = read(p->fds[2].fd, buf, sizeof(buf));
		if (n > 0) {
			/* keep the tail: the last line is the reason */
			if (p->err_len + n > sizeof(p->err)) {
				size_t drop = p->err_len + n - sizeof(p->err);

				memmove(p->err, p->err + drop, p->err_len - drop);
				p->err_len -= drop;
			}
			memcpy(p->err + p->err_len, buf, n);
			p->err_len += n;
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			fd_close(&p->fds[2].fd);
		}
	}
	return p->fds[1].fd < 0 && p->fds[2].fd < 0;
}

static int run_child(struct clevis_run *run, pid_t pid, struct pump *p)
{
	long long deadline = run->timeout_s ? now_ms() + run->timeout_s * 1000LL : 0;
	int r = 0, status;

	while (r == 0) {
		int wait_ms = -1;

		if (deadline) {
			long long left = deadline - now_ms();

			if (left <= 0) {
				r = -ETIMEDOUT;
				break;
			}
			wait_ms = left > 1000 ? 1000 : (int)left;
		}
		r = pump_once(p, wait_ms);
	}
	/* its output is closed (r == 1); it still has until the deadline to exit */
	if (r > 0)
		r = 0;
	while (r == 0 && waitpid(pid, &status, WNOHANG) == 0) {
		if (deadline && now_ms() >= deadline)
			r = -ETIMEDOUT;
		else
			usleep(10000);
	}
	if (r < 0) {
		kill(run->tty ? pid : -pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		return r;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		last_line(run, p->err, p->err_len);
		if (!run->err[0])
			snprintf(run->err, sizeof(run->err), "exit status %d",
				 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		return -EIO;
	}
	return 0;
}

int clevis_exec(struct clevis_run *run, const char *const argv[], const void *in, size_t in_len,
		struct secret **out)
{
	_cleanup_secret_ struct secret *buf = secret_new(CLEVIS_OUT_MAX);
	int in_pipe[2] = { -1, -1 }, out_pipe[2] = { -1, -1 }, err_pipe[2] = { -1, -1 };
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	struct pump *p;
	pid_t pid;
	int r;

	run->err[0] = '\0';
	if (!buf)
		return -ENOMEM;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	if (pipe2(in_pipe, O_CLOEXEC) < 0 || pipe2(out_pipe, O_CLOEXEC) < 0 ||
	    pipe2(err_pipe, O_CLOEXEC) < 0) {
		r = -errno;
		goto out;
	}
	/* a child that exits without reading its input must not kill us */
	sigaction(SIGPIPE, &ign, &old);
	pid = fork();
	if (pid < 0) {
		r = -errno;
		sigaction(SIGPIPE, &old, NULL);
		goto out;
	}
	if (pid == 0)
		child(run, argv, in_pipe[0], out_pipe[1], err_pipe[1]);
	fd_close(&in_pipe[0]);
	fd_close(&out_pipe[1]);
	fd_close(&err_pipe[1]);
	fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
	p->fds[0] = (struct pollfd){ .fd = in_pipe[1], .events = POLLOUT };
	p->fds[1] = (struct pollfd){ .fd = out_pipe[0], .events = POLLIN };
	p->fds[2] = (struct pollfd){ .fd = err_pipe[0], .events = POLLIN };
	in_pipe[1] = out_pipe[0] = err_pipe[0] = -1;
	p->in = in;
	p->in_len = in_len;
	p->out = buf;
	if (!in_len)
		fd_close(&p->fds[0].fd);
	r = run_child(run, pid, p);
	sigaction(SIGPIPE, &old, NULL);
	for (int i = 0; i < 3; i++)
		fd_close(&p->fds[i].fd);
	if (r == 0) {
		buf->data[buf->len] = '\0';
		*out = TAKE_PTR(buf);
	}
out:
	for (int i = 0; i < 2; i++) {
		fd_close(&in_pipe[i]);
		fd_close(&out_pipe[i]);
		fd_close(&err_pipe[i]);
	}
	free(p);
	return r;
}
