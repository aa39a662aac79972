#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Drive a guest's serial console (a QEMU chardev socket) like an administrator would.

usage: console.py SOCKET TRANSCRIPT STEP...

Every byte the guest prints goes to TRANSCRIPT as it arrives (at the end the file is
rewritten without terminal escape sequences, for reading). The steps run in order:

  expect=REGEX   wait until REGEX appears after the mark (output since the last send)
  reject=REGEX   from here on, REGEX must never appear (after the mark of this step)
  allow=REGEX    end an earlier reject=REGEX (the same text)
  send=TEXT      type TEXT and Enter; the mark moves to the end of the output so far
  sendfile=PATH  type the contents of PATH (a secret: neither in argv nor in the
                 transcript) and Enter
  key=ctrl-d     type Control-D (no Enter); the mark moves likewise
  eof            wait until the guest closes the console (QEMU exited)
  qmp=CMD JSON   run the QMP command CMD with the arguments JSON on QEMU's monitor
                 ($E2E_QMP, the socket e2e_boot gives QEMU), e.g. a device_add
  timeout=S      time limit for each following step (default 120 s)

Matching sees the output without carriage returns and terminal escape sequences. Exit 0
when every step passed, 1 (with one line on stderr saying which step failed, and the last
lines of the console) otherwise.
"""
import importlib.util
import json
import os
import re
import select
import socket
import sys
import time

T0 = time.monotonic()
# CSI sequences (colours, cursor moves), OSC strings, character set selections and the
# two-byte ones (e.g. ESC M, the reverse line feed of systemd's status spinner); CRs
ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)?"
                  r"|\x1b[()][A-Z0-9]|\x1b[0-9=>@-Z\\^_a-z]|\r")


class Console:
    def __init__(self, path, transcript):
        self.sock = self._connect(path)
        self.log = open(transcript, "ab", buffering=0)
        # E2E_TIMESTAMPS=1: the raw bytes again, each read prefixed with its arrival time, in
        # TRANSCRIPT.times, so that the transcript the checks read stays as the guest wrote it
        self.times = (open(transcript + ".times", "ab", buffering=0)
                      if os.environ.get("E2E_TIMESTAMPS") else None)
        self.raw = ""
        self.text = ""
        self.mark = 0
        self.closed = False
        self.rejects = []

    @staticmethod
    def _connect(path):
        deadline = time.monotonic() + 30
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(path)
                return s
            except OSError:
                s.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _check_rejects(self):
        for regex, start in self.rejects:
            m = regex.search(self.text, start)
            if m:
                raise Failure("the console showed %r, which must not appear" % m.group(0))

    def pump(self, until):
        """Read what arrives until the monotonic deadline `until` (or the console closes)."""
        if self.closed:
            return False
        left = max(0.0, until - time.monotonic())
        ready, _, _ = select.select([self.sock], [], [], left)
        if not ready:
            return True
        data = self.sock.recv(65536)
        if not data:
            self.closed = True
            return False
        if self.times:
            self.times.write(b"<%.2f>" % (time.monotonic() - T0) + data)
        self.log.write(data)
        self.raw += data.decode("latin-1")
        # strip escapes over the whole raw text: a sequence may span two reads
        self.text = ANSI.sub("", self.raw)
        self._check_rejects()
        return True

    def expect(self, pattern, timeout):
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            if regex.search(self.text, self.mark):
                return
            if time.monotonic() >= deadline:
                raise Failure("timed out after %ds waiting for /%s/" % (timeout, pattern))
            if not self.pump(deadline):
                raise Failure("the console closed while waiting for /%s/" % pattern)

    def send(self, data, what):
        # let the prompt settle (the reader may still be switching off echo)
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline and self.pump(deadline):
            pass
        self.mark = len(self.text)
        self.sock.sendall(data)
        note = "\n[console.py typed %s]\n" % what
        self.log.write(note.encode())
        self.raw += note
        self.text = ANSI.sub("", self.raw)
        self.mark = len(self.text)

    def finish(self):
        """Leave a transcript fit for reading: without escape sequences and CRs."""
        self.log.close()
        if self.times:
            self.times.close()
        with open(self.log.name, "w", encoding="latin-1") as f:
            f.write(self.text)

    def eof(self, timeout):
        deadline = time.monotonic() + timeout
        while self.pump(deadline):
            if time.monotonic() >= deadline:
                raise Failure("timed out after %ds waiting for the guest to power off" % timeout)


class Failure(Exception):
    pass


def qmp(command):
    """QMP's COMMAND [JSON arguments] on $E2E_QMP, with tests/lib/memdump-search.py's client."""
    spec = importlib.util.spec_from_file_location(
        "memdump_search", os.path.join(os.path.dirname(__file__), "../../lib/memdump-search.py"))
    client = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(client)
    name, _, args = command.partition(" ")
    try:
        client.qmp(os.environ["E2E_QMP"], name, json.loads(args) if args else None)
    except (KeyError, OSError, RuntimeError, ValueError) as e:
        raise Failure("QMP %s failed: %s" % (name, e))


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    con = Console(argv[1], argv[2])
    timeout = 120.0
    try:
        for step in argv[3:]:
            key, _, value = step.partition("=")
            if key == "expect":
                con.expect(value, timeout)
            elif key == "reject":
                regex = re.compile(value)
                con.rejects.append((regex, con.mark))
                con._check_rejects()
            elif key == "allow":
                con.rejects = [r for r in con.rejects if r[0].pattern != value]
            elif key == "sendfile":
                with open(value, "rb") as f:
                    secret = f.read().rstrip(b"\n")
                con.send(secret + b"\r", "%d characters from a file and Enter" % len(secret))
            elif key == "send":
                con.send(value.encode() + b"\r", "%d characters and Enter" % len(value))
            elif key == "key" and value == "ctrl-d":
                con.send(b"\x04", "Control-D")
            elif key == "eof":
                con.eof(timeout)
            elif key == "qmp":
                qmp(value)
                note = "\n[console.py: QMP %s]\n" % value.partition(" ")[0]
                con.log.write(note.encode())
                con.raw += note
                con.text = ANSI.sub("", con.raw)
            elif key == "timeout":
                timeout = float(value)
            else:
                print("console.py: unknown step %r" % step, file=sys.stderr)
                return 2
    except Failure as e:
        tail = con.text[-1500:].splitlines()[-12:]
        print("console: %s; last lines:" % e, file=sys.stderr)
        for line in tail:
            print("console: | %s" % line, file=sys.stderr)
        return 1
    finally:
        con.finish()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
