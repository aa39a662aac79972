#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""pty-run.py ANSWERS_FILE CMD...: run CMD on a new pseudo-terminal (its
controlling tty), answer each prompt (output ending in ": ") with the next
line of ANSWERS_FILE once CMD has been quiet for 0.2 s (so a message that
merely contains ": " is not taken for a prompt), echo everything CMD
printed, exit with CMD's status. Gives up after 30 s.

With PTY_RUN_INSPECT=1, at the first prompt it also prints CMD's locked
memory (VmLck) and core-size limit, read from /proc while CMD waits."""
import os
import pty
import select
import sys
import time

answers = open(sys.argv[1], "rb").read().split(b"\n")
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])

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
            os.write(fd, answers.pop(0) + b"\n")
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
sys.exit(os.waitstatus_to_exitcode(status))
