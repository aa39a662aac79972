#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""direct-write-check.py DEV OFFSET SIZE PLAIN: write SIZE random bytes to DEV at OFFSET
with O_DIRECT from a page-aligned buffer, then check that the buffer still holds what it
held before the write: an encrypting target must encrypt into pages of its own, never in
the caller's. The plaintext is saved to PLAIN for the caller's read-back checks.

Exit 0: written, buffer unchanged; 1: the buffer changed (the first differing offset is
printed); 2: the write failed or was short."""
import mmap
import os
import sys


def main():
    dev, offset, size, plain = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    buf = mmap.mmap(-1, size)
    buf[:] = os.urandom(size)
    before = bytes(buf)
    with open(plain, "wb") as f:
        f.write(before)
    fd = os.open(dev, os.O_WRONLY | os.O_DIRECT)
    try:
        done = os.pwrite(fd, buf, offset)
    except OSError as e:
        print(f"write of {size} bytes at {offset}: {e.strerror}", file=sys.stderr)
        return 2
    finally:
        os.close(fd)
    if done != size:
        print(f"short write: {done} of {size} bytes", file=sys.stderr)
        return 2
    after = bytes(buf)
    if after != before:
        first = next(i for i in range(size) if after[i] != before[i])
        changed = sum(a != b for a, b in zip(after, before))
        print(f"the caller's buffer changed: {changed} of {size} bytes, first at {first}",
              file=sys.stderr)
        return 1
    return 0


sys.exit(main())
