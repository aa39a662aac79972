// SPDX-License-Identifier: GPL-2.0
/*
 * Reading secrets from files, the terminal and password agents (askpass.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>

#include "askpass.h"

extern char **environ;

static int read_all(int fd, struct secret *s)
{
	while (s->len < s->size) {
		ssize_t n = read(fd, s->data + s->len, s->size - s->len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		s->len += n;
	}
	/* one more byte means the file is too large for a passphrase */
	uint8_t probe;
	ssize_t n = read(fd, &probe, 1);

	secret_wipe(&probe, 1);
	return n > 0 ? -EFBIG : 0;
}

int askpass_file(const char *path, struct secret **ret)
{
	_cleanup_secret_ struct secret *s = secret_new(SEAL_KEYFILE_MAX);
	_cleanup_close_ int fd = -1;
	int r;

	if (!s)
		return -ENOMEM;
	if (strcmp(path, "-")) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
	}
	r = read_all(fd >= 0 ? fd : STDIN_FILENO, s);
	if (r < 0)
		return r;
	if (!s->len)
		return -ENODATA;
	*ret = TAKE_PTR(s);
	return 0;
}

int askpass_private_check(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (st.st_uid != 0)
		return -EPERM;
	if (st.st_mode & (S_IRWXG | S_IRWXO))
		return -EACCES;
	return 0;
}

int askpass_private_file(const char *path, struct secret **ret)
{
	_cleanup_secret_ struct secret *s = secret_new(SEAL_KEYFILE_MAX);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	int r;

	if (fd < 0)
		return -errno;
	if (!s)
		return -ENOMEM;
	r = askpass_private_check(fd);
	if (r < 0)
		return r;
	r = read_all(fd, s);
	if (r < 0)
		return r;
	if (!s->len)
		return -ENODATA;
	*ret = TAKE_PTR(s);
	return 0;
}

int askpass_pin_file(const char *path, struct secret **ret)
{
	_cleanup_secret_ struct secret *s = NULL;
	int r;

	r = askpass_file(path, &s);
	if (r < 0)
		return r;
	/* a PIN is a line, as typed at the prompt: its newline is not part of it */
	if (s->len && s->data[s->len - 1] == '\n')
		s->data[--s->len] = 0;
	if (s->len && s->data[s->len - 1] == '\r')
		s->data[--s->len] = 0;
	if (!s->len)
		return -ENODATA;
	*ret = TAKE_PTR(s);
	return 0;
}

/* Read one line byte by byte; stops at newline, leaves no copy behind. */
static int read_line(int fd, struct secret *s)
{
	for (;;) {
		uint8_t c;
		ssize_t n = read(fd, &c, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0 || c == '\n' || c == '\r')
			break;
		if (s->len == s->size) {
			secret_wipe(&c, 1);
			return -EFBIG;
		}
		s->data[s->len++] = c;
		secret_wipe(&c, 1);
	}
	return 0;
}

/*
 * A signal that ends the process at the prompt (Ctrl-C, kill, a hangup: SIGINT,
 * SIGQUIT, SIGTERM, SIGHUP) must not leave the terminal without echo, nor the
 * half-typed line in memory: the handler puts the terminal back, wipes the line
 * and lets the signal kill the process as it would have (SA_RESETHAND, re-raised).
 */
static const int prompt_signals[] = { SIGINT, SIGQUIT, SIGTERM, SIGHUP };

static struct {
	int tty;
	struct termios saved;
	struct secret *line;
} interrupted;

static void prompt_interrupted(int sig)
{
	int saved_errno = errno;

	(void)tcsetattr(interrupted.tty, TCSANOW, &interrupted.saved);
	(void)!write(interrupted.tty, "\n", 1);
	secret_wipe(interrupted.line->data, interrupted.line->size);
	/* blocked while the handler runs: delivered, with the default action, on return */
	raise(sig);
	errno = saved_errno;
}

static void prompt_signals_catch(struct sigaction *old)
{
	struct sigaction sa = {
		.sa_handler = prompt_interrupted,
		.sa_flags = SA_RESETHAND,
	};

	sigfillset(&sa.sa_mask);
	for (size_t i = 0; i < ARRAY_SIZE(prompt_signals); i++)
		sigaction(prompt_signals[i], &sa, &old[i]);
}

static void prompt_signals_restore(const struct sigaction *old)
{
	for (size_t i = 0; i < ARRAY_SIZE(prompt_signals); i++)
		sigaction(prompt_signals[i], &old[i], NULL);
}

static int prompt_tty(int tty, const char *prompt, struct secret *s)
{
	struct sigaction old_actions[ARRAY_SIZE(prompt_signals)];
	struct termios old, quiet;
	int r;

	if (tcgetattr(tty, &old) < 0)
		return -ENOTTY;
	quiet = old;
	quiet.c_lflag &= ~(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	interrupted.tty = tty;
	interrupted.saved = old;
	interrupted.line = s;
	prompt_signals_catch(old_actions);
	if (tcsetattr(tty, TCSAFLUSH, &quiet) < 0) {
		r = -errno;
		prompt_signals_restore(old_actions);
		return r;
	}
	(void)!write(tty, prompt, strlen(prompt));
	r = read_line(tty, s);
	(void)tcsetattr(tty, TCSAFLUSH, &old);
	prompt_signals_restore(old_actions);
	(void)!write(tty, "\n", 1);
	return r;
}

static bool systemd_running(void)
{
	struct stat st;

	return stat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode);
}

/* systemd-ask-password prints the answer on stdout: read it through a pipe. */
static int prompt_agent(const char *prompt, const char *id, struct secret *s)
{
	posix_spawn_file_actions_t fa;
	_cleanup_free_ char *id_arg = NULL;
	int pipefd[2], status, r;
	pid_t pid;

	if (asprintf(&id_arg, "--id=sealctl:%s", id) < 0)
		return -ENOMEM;
	char *argv[] = { "systemd-ask-password", "--no-tty", id_arg, (char *)prompt, NULL };

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
	r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (r) {
		close(pipefd[0]);
		return -ENOTTY;
	}
	r = read_line(pipefd[0], s);
	close(pipefd[0]);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		return r < 0 ? r : -ECANCELED;
	return r;
}

int askpass_prompt(const char *prompt, const char *id, struct secret **ret)
{
	_cleanup_secret_ struct secret *s = secret_new(SEAL_PASSPHRASE_MAX);
	_cleanup_close_ int tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	int r;

	if (!s)
		return -ENOMEM;
	if (tty >= 0 && isatty(tty))
		r = prompt_tty(tty, prompt, s);
	else if (systemd_running())
		r = prompt_agent(prompt, id, s);
	else
		r = -ENOTTY;
	if (r < 0)
		return r;
	*ret = TAKE_PTR(s);
	return 0;
}

int askpass_new(const char *file, const char *prompt, const char *id, struct secret **ret)
{
	_cleanup_secret_ struct secret *a = NULL, *b = NULL;
	_cleanup_free_ char *again = NULL;
	int r;

	if (file)
		return askpass_file(file, ret);
	r = askpass_prompt(prompt, id, &a);
	if (r < 0)
		return r;
	if (!a->len)
		return -ENODATA;
	if (asprintf(&again, "Verify: %s", prompt) < 0)
		return -ENOMEM;
	r = askpass_prompt(again, id, &b);
	if (r < 0)
		return r;
	if (a->len != b->len || memcmp(a->data, b->data, a->len))
		return -EBADMSG;
	*ret = TAKE_PTR(a);
	return 0;
}

int recovery_key_generate(struct secret **ret)
{
	static const char hex[] = "0123456789abcdef";
	_cleanup_secret_ struct secret *raw = secret_new(32), *key = secret_new(8 * 9);

	if (!raw || !key)
		return -ENOMEM;
	if (getrandom(raw->data, 32, 0) != 32)
		return -errno ?: -EIO;
	for (size_t i = 0; i < 32; i++) {
		if (i && i % 4 == 0)
			key->data[key->len++] = '-';
		key->data[key->len++] = hex[raw->data[i] >> 4];
		key->data[key->len++] = hex[raw->data[i] & 15];
	}
	*ret = TAKE_PTR(key);
	return 0;
}
