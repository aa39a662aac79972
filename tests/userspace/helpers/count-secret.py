#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""count-secret.py FILE HEXSECRET: occurrences of the secret in FILE, as raw
bytes, lowercase hex, uppercase hex and base64 (the keyslot passphrase form),
and of any 8 consecutive bytes of it in hex (a log's hex dump splits a secret
over lines). Prints "raw=N hex=N HEX=N base64=N hex8=N total=N bytes=N"; when
FILE is an ELF core, each hit's virtual address follows as "at=0x..."."""
import base64
import struct
import sys

data = open(sys.argv[1], "rb").read()
secret = bytes.fromhex(sys.argv[2])
forms = {
    "raw": secret,
    "hex": secret.hex().encode(),
    "HEX": secret.hex().upper().encode(),
    "base64": base64.b64encode(secret),
}


def segments():
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return []
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    segs = []
    for i in range(phnum):
        p_type, _, p_offset, p_vaddr, _, p_filesz = struct.unpack_from(
            "<IIQQQQ", data, phoff + i * phentsize)
        if p_type == 1:
            segs.append((p_offset, p_vaddr, p_filesz))
    return segs


counts = {}
where = []
lower = data.lower()
windows = {secret[i:i + 8].hex().encode() for i in range(len(secret) - 7)}
segs = segments()
for name, form in forms.items():
    n, pos = 0, data.find(form)
    while pos >= 0:
        n += 1
        for off, vaddr, size in segs:
            if off <= pos < off + size:
                where.append(f"at={name}@0x{vaddr + pos - off:x}")
        pos = data.find(form, pos + 1)
    counts[name] = n
counts["hex8"] = sum(lower.count(w) for w in windows) if len(secret) >= 8 else 0
print(" ".join(f"{k}={v}" for k, v in counts.items()), f"total={sum(counts.values())}",
      f"bytes={len(data)}", *where)
