#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Host side of the guest memory test (tests/kernel/sealctl-memory.sh), run as a
tests/vm/run host hook (--host-hook), or by that hook itself.

  memdump-search.py dump-and-search LABEL PATTERNFILE
      Dump the guest's RAM through QMP ($SEAL_VM_QMP: qmp_capabilities, then a synchronous
      dump-guest-memory, paging false, ELF, to a temporary file on the host, deleted
      afterwards) and count every pattern in it. PATTERNFILE (a host path) has lines
      "NAME HEX"; a line "marker" in $SEAL_VM_HOOK_DIR/marker.hex (written by the guest)
      is added; with a pattern "pin" and $SEAL_MEM_DISK (the guest's disk image), so is
      "pin-auth-N" for every seal-tpm2 token N with a PIN on that disk: the TPM auth value
      sealctl derives from the PIN (pin_auth() in userspace/tpm2.c), read as the header is
      at the time of the dump. Each pattern is searched raw, as lower- and upper-case hex
      and as base64.
      Prints "dump LABEL BYTES", then "NAME FORM COUNT" for every pattern and form.

  memdump-search.py two-boot KVER
      Run the memory test in two fresh guests sharing a TPM state directory and a disk
      image: the first (sealctl-memory.sh setup) formats and enrolls and hands the
      secrets out through --out; the second (sealctl-memory.sh search), which never sees
      them, unlocks and has its memory dumped and searched by this script (as its host
      hook). The enrollment thus cannot leave copies in the memory that is searched.
      SEAL_STRESS (make stress) reaches the second guest. Prints its KTAP; exits with
      its status.
"""
import base64
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]
MASK = 0x5A  # the passphrase and the PIN cross into the searched guest only XOR-ed with this


def qmp(sock_path, command, arguments=None):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    f = s.makefile("rwb")

    def call(cmd, args):
        msg = {"execute": cmd}
        if args:
            msg["arguments"] = args
        f.write(json.dumps(msg).encode() + b"\n")
        f.flush()
        while True:
            line = f.readline()
            if not line:
                raise RuntimeError(f"QMP closed during {cmd}")
            reply = json.loads(line)
            if "return" in reply:
                return reply["return"]
            if "error" in reply:
                raise RuntimeError(f"QMP {cmd}: {reply['error']}")
            # events (DUMP_COMPLETED, ...) are skipped

    json.loads(f.readline())  # greeting
    call("qmp_capabilities", None)
    try:
        return call(command, arguments)
    finally:
        s.close()


def forms(data):
    return {
        "raw": data,
        "hex": data.hex().encode(),
        "HEX": data.hex().upper().encode(),
        "base64": base64.b64encode(data),
    }


def pin_auths(disk, pin):
    """("pin-auth-N", auth value) for each seal-tpm2 token with a PIN on disk."""
    dump = subprocess.run(["cryptsetup", "luksDump", "--dump-json-metadata", disk],
                          stdout=subprocess.PIPE, check=True).stdout
    out = []
    for tid, tok in json.loads(dump)["tokens"].items():
        if tok.get("type") == "seal-tpm2" and tok.get("tpm2-pin"):
            salt = base64.b64decode(tok["tpm2-pin-salt"])
            out.append((f"pin-auth-{tid}", hashlib.pbkdf2_hmac("sha256", pin, salt, 10000, 32)))
    return out


def dump_and_search(label, patternfile):
    patterns = []
    for line in open(patternfile):
        if line.strip():
            name, hexdata = line.split()
            patterns.append((name, bytes.fromhex(hexdata)))
    disk = os.environ.get("SEAL_MEM_DISK")
    for name, data in list(patterns):
        if name == "pin" and disk:
            patterns += pin_auths(disk, data)
    marker = Path(os.environ.get("SEAL_VM_HOOK_DIR", "/nonexistent")) / "marker.hex"
    if marker.exists():
        patterns.append(("marker", bytes.fromhex(marker.read_text().strip())))
    tmp = tempfile.mkdtemp(prefix="seal-memdump.")
    path = os.path.join(tmp, "dump.elf")
    try:
        qmp(os.environ["SEAL_VM_QMP"], "dump-guest-memory",
            {"paging": False, "protocol": "file:" + path, "detach": False})
        status = qmp(os.environ["SEAL_VM_QMP"], "query-dump")
        if status.get("status") != "completed":
            raise RuntimeError(f"dump not completed: {status}")
        with open(path, "rb") as f:
            haystack = f.read()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("dump", label, len(haystack))
    for name, data in patterns:
        for form, needle in forms(data).items():
            print(name, form, haystack.count(needle))
    return 0


def ktap_fail(name, text):
    print("KTAP version 1\n1..1")
    for line in text.splitlines():
        print("#", line)
    print("not ok 1", name)
    return 1


def two_boot(kver):
    run = [str(TOP / "tests/vm/run"), "--kernel", kver]
    script = str(TOP / "tests/kernel/sealctl-memory.sh")
    tmp = Path(tempfile.mkdtemp(prefix="seal-mem2boot."))
    # make stress: five dumps instead of two, beside a CPU hog; the runner doubles the
    # outer guest's limit too
    stretch = 2 if os.environ.get("SEAL_STRESS") else 1
    try:
        disk = tmp / "disk.img"
        with open(disk, "wb") as f:
            f.truncate(64 << 20)
        common = ["--tpm-state", str(tmp / "tpm"), "--disk", str(disk)]
        setup = subprocess.run(run + common + ["--out", str(tmp / "out"), "--timeout", str(400 * stretch),
                                              "--", script, "setup"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        secrets = {}
        sfile = tmp / "out/secrets"
        if sfile.exists():
            for line in sfile.read_text().splitlines():
                fields = line.split()
                if len(fields) == 2:  # a secret the setup guest could not learn is missing
                    secrets[fields[0]] = bytes.fromhex(fields[1])
        want = ("tpm-secret", "dek", "passphrase", "pin")
        if setup.returncode != 0 or any(n not in secrets for n in want):
            return ktap_fail("setup guest: format, enroll, hand out the secrets",
                             f"exit {setup.returncode}\n{setup.stdout}")
        dek = secrets["dek"]
        with open(tmp / "patterns", "w") as f:
            f.write(f"tpm-secret {secrets['tpm-secret'].hex()}\n")
            f.write(f"dek {dek.hex()}\n")
            f.write(f"dek-xts1 {dek[:len(dek) // 2].hex()}\n")
            f.write(f"dek-xts2 {dek[len(dek) // 2:].hex()}\n")
            f.write(f"passphrase {secrets['passphrase'].hex()}\n")
            f.write(f"pin {secrets['pin'].hex()}\n")
        masked = {name: bytes(b ^ MASK for b in secrets[name]).hex() for name in ("passphrase", "pin")}
        search = subprocess.run(run + common + [
            "--mem", "512", "--timeout", str(800 * stretch), "--host-hook", str(Path(__file__).resolve()),
            "--env", f"SEAL_MEM_PATTERNS={tmp / 'patterns'}",
            "--env", f"SEAL_MEM_PASS_MASKED={masked['passphrase']}",
            "--env", f"SEAL_MEM_PIN_MASKED={masked['pin']}",
            "--env", f"SEAL_STRESS={os.environ.get('SEAL_STRESS', '')}",
            "--", script, "search"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=dict(os.environ, SEAL_MEM_DISK=str(disk)))
        sys.stdout.write(search.stdout)
        for line in search.stderr.splitlines():
            print("#", line)
        return search.returncode
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv):
    if len(argv) == 4 and argv[1] == "dump-and-search":
        return dump_and_search(argv[2], argv[3])
    if len(argv) == 3 and argv[1] == "two-boot":
        return two_boot(argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
