#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""count-secret.py CAPTURE HEXSECRET: occurrences of the secret in the capture,
as raw bytes, lowercase hex, uppercase hex and base64 (the keyslot passphrase
form). Prints "raw=N hex=N HEX=N base64=N total=N"."""
import base64
import sys

data = open(sys.argv[1], "rb").read()
secret = bytes.fromhex(sys.argv[2])
forms = {
    "raw": secret,
    "hex": secret.hex().encode(),
    "HEX": secret.hex().upper().encode(),
    "base64": base64.b64encode(secret),
}
counts = {name: data.count(form) for name, form in forms.items()}
print(" ".join(f"{k}={v}" for k, v in counts.items()), f"total={sum(counts.values())}",
      f"bytes={len(data)}")
