#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""pty-run.py ANSWERS_FILE CMD...: run CMD on a new pseudo-terminal (its
controlling tty), answer each prompt (output ending in ": ") with the next
line of ANSWERS_FILE once CMD has been quiet for 0.2 s (so a message that
merely contains ": " is not taken for a prompt), echo everything CMD
printed, exit with CMD's status. Gives up after 30 s.

With PTY_RUN_INSPECT=1, at the first prompt it also prints CMD's locked
memory (VmLck) and core-size limit, read from /proc while CMD waits.

An answer line that is just ^C types Ctrl-C (the terminal's interrupt
character, no newline). With PTY_RUN_STTY=1, once CMD has exited, it prints
`stty -a` of the same terminal as lines starting "stty: ". A CMD killed by a
signal exits 128 + the signal's number, as in a shell."""
import os
import select
import subprocess
import sys
import time

answers = open(sys.argv[1], "rb").read().split(b"\n")
fd, slave = os.openpty()
tty_name = os.ttyname(slave)
pid = os.fork()
if pid == 0:
    os.close(fd)
    os.login_tty(slave)
    os.execvp(sys.argv[2], sys.argv[2:])
os.close(slave)

out = b""
pending = b""
inspected = False
deadline = time.time() + 30
while time.time() < deadline:
    ready, _, _ = select.select([fd], [], [], 0.2)
    if not ready:
        if pending.rstrip(b" ").endswith(b":") and answers:
            if os.environ.get("PTY_RUN_INSPECT") == "1" and not inspected:
                inspected = True
                for line in open(f"/proc/{pid}/status"):
                    if line.startswith("VmLck:"):
                        print("inspect", line.strip())
                for line in open(f"/proc/{pid}/limits"):
                    if line.startswith("Max core file size"):
                        print("inspect", " ".join(line.split()))
            answer = answers.pop(0)
            os.write(fd, b"\x03" if answer == b"^C" else answer + b"\n")
            pending = b""
        continue
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    out += data
    pending += data
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
if os.environ.get("PTY_RUN_STTY") == "1":
    # the master is still open, so the terminal CMD left behind can be opened again
    if out and not out.endswith(b"\n"):
        print()
    with open(tty_name, "rb") as tty:
        settings = subprocess.run(["stty", "-a"], stdin=tty, capture_output=True, text=True)
    for line in settings.stdout.splitlines():
        print("stty:", line)
code = os.waitstatus_to_exitcode(status)
sys.exit(128 - code if code < 0 else code)
