#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# A key service for the test-only clevis pin "testkms" (clevis-encrypt-testkms,
# clevis-decrypt-testkms), on a UNIX socket: the stand-in for any KMS.
#   NEW      -> "ID JWK"   a new 256-bit AES-GCM key, kept in memory
#   GET ID   -> "JWK"      that key again, or "ERR"
# Usage: testkms-server.py SOCKET   (runs until killed)
import base64
import json
import os
import socketserver
import sys

keys = {}


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        words = self.rfile.readline().decode().split()
        if words == ["NEW"]:
            kid = base64.urlsafe_b64encode(os.urandom(9)).decode()
            k = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
            keys[kid] = json.dumps({"alg": "A256GCM", "k": k, "kty": "oct"}, separators=(",", ":"))
            self.wfile.write(f"{kid} {keys[kid]}\n".encode())
        elif len(words) == 2 and words[0] == "GET" and words[1] in keys:
            self.wfile.write(f"{keys[words[1]]}\n".encode())
        else:
            self.wfile.write(b"ERR\n")


if os.path.exists(sys.argv[1]):
    os.unlink(sys.argv[1])
socketserver.UnixStreamServer(sys.argv[1], Handler).serve_forever()
