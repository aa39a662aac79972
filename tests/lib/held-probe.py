#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Look at a command from outside while it holds a secret.

held-probe.py [--as WHO] [--control PID] fifo FILE SECRET CMD...
    make FILE a FIFO and run CMD, which is to read it as its key file; once CMD
    has opened it (so it is past its start-up and waits for the key), look at it
    (below), then write SECRET's contents into the FIFO and close it.
held-probe.py [--as WHO] [--control PID] [--search FILE] pipe CMD...
    run CMD with stdout and stderr on a pipe that is already full; once CMD is
    blocked writing to it (its wchan is [anon_]pipe_write), look at it, then drain it.
Either way: CMD's own output follows, then the exit code is CMD's.
With --search FILE, also counts the copies of FILE's text (a hex key), as text and as the
bytes it spells, in CMD's readable memory, read as this process (root with CAP_SYS_PTRACE):
    held: copies N

"Look at it" prints, as this process (root):
    held: VmLck N VmSize N unlocked N [MAPPING...]
(its locked and total memory in kB from /proc/PID/status, and how many of its
mappings smaps shows without the "lo" flag, the kernel's [vdso] and [vvar] aside), then
probes it as WHO (below); with --control, PID first (a dumpable process of the
same kind as CMD: the probes must succeed there), its lines starting "control".

held-probe.py [--as WHO] probe PID
    from a child process running as WHO, try what a debugger does, one line each:
    probe ptrace OK|ERRNO   (PTRACE_SEIZE; the tracer's exit detaches again)
    probe mem OK|ERRNO      (open /proc/PID/mem, read 16 bytes of a mapping)
WHO: root (as this process, the default), no-ptrace (root without
CAP_SYS_PTRACE: dropped from the effective, permitted and inheritable sets, as
`setpriv --inh-caps=-sys_ptrace --bounding-set=-sys_ptrace` leaves a command),
nobody (uid and gid 65534, no groups, no capabilities).
"""
import ctypes
import errno
import fcntl
import os
import sys
import time

PTRACE_SEIZE = 0x4206
CAP_SYS_PTRACE = 19
libc = ctypes.CDLL(None, use_errno=True)


def err_name(e):
    return errno.errorcode.get(e, str(e))


class CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def become(who):
    if who == "nobody":
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)
    elif who == "no-ptrace":
        hdr, data = CapHeader(0x20080522, 0), (CapData * 2)()
        if libc.capget(ctypes.byref(hdr), data) < 0:
            raise OSError(ctypes.get_errno(), "capget")
        for field in ("effective", "permitted", "inheritable"):
            setattr(data[0], field, getattr(data[0], field) & ~(1 << CAP_SYS_PTRACE))
        if libc.capset(ctypes.byref(hdr), data) < 0:
            raise OSError(ctypes.get_errno(), "capset")
    elif who != "root":
        sys.exit(f"held-probe.py: --as {who}: root, no-ptrace or nobody")


def try_debug(pid, label):
    if libc.ptrace(PTRACE_SEIZE, pid, None, None) == 0:
        print(label, "ptrace OK")
    else:
        print(label, "ptrace", err_name(ctypes.get_errno()))
    try:
        fd = os.open(f"/proc/{pid}/mem", os.O_RDONLY)
        with open(f"/proc/{pid}/maps") as maps:
            addr = int(maps.readline().split("-")[0], 16)
        os.pread(fd, 16, addr)
        print(label, "mem OK")
    except OSError as e:
        print(label, "mem", err_name(e.errno))


def probe(pid, who, control=None):
    sys.stdout.flush()
    child = os.fork()
    if child:
        os.waitpid(child, 0)
        return
    try:
        become(who)
        libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]
        if control:
            try_debug(control, "control")
        try_debug(pid, "probe")
    finally:
        sys.stdout.flush()
        os._exit(0)


def unlocked_mappings(pid):
    """The mappings of PID that smaps shows without the "lo" (mlock'ed) flag, by name (the
    kernel's own [vdso], [vvar] and [vsyscall] aside); sealctl-memory.sh uses it too."""
    unlocked, name = [], None
    for line in open(f"/proc/{pid}/smaps"):
        f = line.split()
        if "-" in f[0] and not f[0].endswith(":"):
            name = f[5] if len(f) > 5 else "[anon " + f[0] + "]"
        elif f[0] == "VmFlags:" and "lo" not in f[1:] and \
                name not in ("[vdso]", "[vvar]", "[vsyscall]"):
            unlocked.append(name)
    return unlocked


def copies(pid, text):
    """How many times text, or the bytes its hex spells, is in PID's readable memory."""
    needles, n = (text, bytes.fromhex(text.decode())), 0
    fd = os.open(f"/proc/{pid}/mem", os.O_RDONLY)
    try:
        for line in open(f"/proc/{pid}/maps"):
            f = line.split()
            if f[1][0] != "r" or (len(f) > 5 and f[5] in ("[vvar]", "[vsyscall]")):
                continue
            start, end = (int(x, 16) for x in f[0].split("-"))
            try:
                data = os.pread(fd, end - start, start)
            except OSError:
                continue
            n += sum(data.count(x) for x in needles)
    finally:
        os.close(fd)
    return n


def look(pid, who, control, search=None):
    status = dict(l.split(":", 1) for l in open(f"/proc/{pid}/status"))
    kb = lambda k: int(status[k].split()[0])
    unlocked = unlocked_mappings(pid)
    print(f"held: VmLck {kb('VmLck')} VmSize {kb('VmSize')} unlocked {len(unlocked)}",
          " ".join(unlocked[:8]))
    if search:
        print(f"held: copies {copies(pid, open(search, 'rb').read().strip())}")
    probe(pid, who, control)


class Child:
    """CMD started with its stdout and stderr on fd OUT (or ours), without subprocess:
    importing it costs seconds in a guest under TCG."""

    def __init__(self, cmd, out=None):
        self.status = None
        self.pid = os.fork()
        if self.pid == 0:
            try:
                if out is not None:
                    os.dup2(out, 1)
                    os.dup2(out, 2)
                os.execvp(cmd[0], cmd)
            finally:
                os._exit(127)

    def poll(self):
        if self.status is None:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(st)
        return self.status

    def wait(self):
        if self.status is None:
            self.status = os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])
        return self.status


def wait_until(cond, child, what):
    deadline = time.time() + 30
    while not cond():
        if child.poll() is not None or time.time() > deadline:
            print(f"held: never {what} (exit {child.poll()})")
            return False
        time.sleep(0.05)
    return True


def hold_fifo(who, control, path, secret, cmd):
    os.mkfifo(path, 0o644)
    child = Child(cmd)
    fd = -1

    def opened():
        nonlocal fd
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as e:
            if e.errno != errno.ENXIO:  # no reader yet
                raise
        return fd >= 0

    if wait_until(opened, child, "opened " + path):
        look(child.pid, who, control)
        fcntl.fcntl(fd, fcntl.F_SETFL, 0)
        os.write(fd, open(secret, "rb").read())
        os.close(fd)
    return child.wait()


def hold_pipe(who, control, cmd, search=None):
    r, w = os.pipe()
    fcntl.fcntl(w, fcntl.F_SETFL, os.O_NONBLOCK)
    for chunk in (4096, 1):
        try:
            while True:
                os.write(w, b"\0" * chunk)
        except BlockingIOError:
            pass
    fcntl.fcntl(w, fcntl.F_SETFL, 0)
    child = Child(cmd, w)
    os.close(w)

    def blocked():
        try:
            return open(f"/proc/{child.pid}/wchan").read() in ("pipe_write", "anon_pipe_write")
        except OSError:
            return False

    if wait_until(blocked, child, "blocked writing its output"):
        look(child.pid, who, control, search)
    out = b""
    while data := os.read(r, 65536):
        out += data
    sys.stdout.write(out.lstrip(b"\0").decode(errors="replace"))
    return child.wait()


if __name__ == "__main__":
    args, who, control, search = sys.argv[1:], "root", None, None
    while args[:1] in (["--as"], ["--control"], ["--search"]) and len(args) > 1:
        if args[0] == "--as":
            who = args[1]
        elif args[0] == "--search":
            search = args[1]
        else:
            control = int(args[1])
        args = args[2:]
    mode = args[0] if args else ""
    if mode == "probe" and len(args) == 2:
        probe(int(args[1]), who)
    elif mode == "fifo" and len(args) > 3:
        sys.exit(hold_fifo(who, control, args[1], args[2], args[3:]))
    elif mode == "pipe" and len(args) > 1:
        sys.exit(hold_pipe(who, control, args[1:], search))
    else:
        sys.exit(__doc__)
