#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Recording proxy between tpm2-tss's swtpm TCTI and swtpm.

    tpm-proxy.py LISTEN_PORT SWTPM_PORT CAPTURE_FILE READY_FILE [MODE]

Listens on 127.0.0.1:LISTEN_PORT (TPM commands) and LISTEN_PORT+1 (swtpm
control channel), forwards each connection to SWTPM_PORT / SWTPM_PORT+1 and
appends every byte, in both directions, to CAPTURE_FILE. Writes READY_FILE
once listening. Runs until killed. Loopback only.

Each TPM2_StartAuthSession on the command channel is also written as a line
to CAPTURE_FILE.sessions:
    StartAuthSession tpmKey=0xHANDLE bind=0xHANDLE salt=BYTES type=TYPE
tpmKey 0x40000007 (TPM_RH_NULL) with salt=0 is an unsalted session, whose
session key an observer of the bus can compute from the nonces it saw.

MODE plays an active interposer on the command channel:

drop-pcr-event  every TPM2_PCR_Event is swallowed (the TPM never sees it) and
                answered with a forged success whose session area has the
                shape the command's sessions call for: empty for a password
                session, a fresh nonce and an HMAC for any other. The
                interposer has no session key, so that HMAC is made up.
forge-pcr-read  drop-pcr-event, and every TPM2_PCR_Read answer that holds the
                sha256 bank's PCR 15 is rewritten to show PCR 15 as if the
                swallowed events had been extended into it.
tamper-pcr-read PCR_Event reaches the TPM, but every such PCR_Read answer shows
                PCR 15 extended once more (by "interposer").
hold-unseal     nothing is forged; the TPM's answer to each TPM2_Unseal is held
                for 3 s, and READY_FILE.unseal is created when it arrives, so a
                test can signal the client while its unseal is in flight.
"""
import hashlib
import os
import socket
import struct
import sys
import threading
import time

TPM2_CC_PCR_EVENT = 0x13C
TPM2_CC_PCR_READ = 0x17E
TPM2_CC_UNSEAL = 0x15E
TPM2_CC_START_AUTH_SESSION = 0x176
SESSION_TYPES = {0: "hmac", 1: "policy", 3: "trial"}
UNSEAL_HOLD_SECONDS = 3
TPM2_ST_SESSIONS = 0x8002
TPM2_RS_PW = 0x40000009
TPM2_ALG_SHA256 = 0x000B
FORGED_PCR = 15

HOST = "127.0.0.1"
lock = threading.Lock()


def close_both(a, b):
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def record(capture, data):
    with lock:
        capture.write(data)
        capture.flush()


def pump(src, dst, capture):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            record(capture, data)
            dst.sendall(data)
    except OSError:
        pass
    finally:
        close_both(src, dst)


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise OSError("closed")
        data += chunk
    return data


def recv_message(sock):
    header = recv_exact(sock, 10)
    size = struct.unpack(">I", header[2:6])[0]
    return header + recv_exact(sock, size - 10)


def command_sessions(command, handles):
    """(handle, attributes) of each session in a command's authorization area."""
    off = 10 + 4 * handles
    end = off + 4 + struct.unpack(">I", command[off:off + 4])[0]
    off += 4
    sessions = []
    while off < end:
        handle = struct.unpack(">I", command[off:off + 4])[0]
        off += 4
        off += 2 + struct.unpack(">H", command[off:off + 2])[0]     # nonceCaller
        attributes = command[off]
        off += 1
        off += 2 + struct.unpack(">H", command[off:off + 2])[0]     # hmac
        sessions.append((handle, attributes))
    return sessions, end


def forged_pcr_event(command):
    """A success for PCR_Event (one handle), its sessions answered in kind."""
    sessions, end = command_sessions(command, 1)
    params = struct.pack(">I", 0)          # TPML_DIGEST_VALUES without a digest
    auths = b""
    for handle, attributes in sessions:
        if handle == TPM2_RS_PW:
            auths += struct.pack(">HBH", 0, attributes, 0)
        else:
            auths += struct.pack(">H", 32) + os.urandom(32) + bytes([attributes]) + \
                struct.pack(">H", 32) + os.urandom(32)
    body = struct.pack(">I", len(params)) + params + auths
    event = command[end + 2:end + 2 + struct.unpack(">H", command[end:end + 2])[0]]
    return struct.pack(">HII", TPM2_ST_SESSIONS, 10 + len(body), 0) + body, event


def rewrite_pcr_read(response, shown):
    """PCR_Read's answer with the sha256 bank's PCR 15 replaced by @shown."""
    tag, _, rc = struct.unpack(">HII", response[:10])
    if rc != 0:
        return response
    off = 10 + (4 if tag == TPM2_ST_SESSIONS else 0) + 4     # parameterSize, updateCounter
    count = struct.unpack(">I", response[off:off + 4])[0]
    off += 4
    index, at = 0, None
    for _ in range(count):
        alg, n = struct.unpack(">HB", response[off:off + 3])
        select = response[off + 3:off + 3 + n]
        off += 3 + n
        for pcr in range(8 * n):
            if select[pcr // 8] & (1 << (pcr % 8)):
                if alg == TPM2_ALG_SHA256 and pcr == FORGED_PCR:
                    at = index
                index += 1
    if at is None:
        return response
    off += 4                                                  # TPML_DIGEST count
    for _ in range(at):
        off += 2 + struct.unpack(">H", response[off:off + 2])[0]
    if struct.unpack(">H", response[off:off + 2])[0] != 32:
        return response
    real = response[off + 2:off + 34]
    for event in shown:
        real = hashlib.sha256(real + hashlib.sha256(event).digest()).digest()
    return response[:off + 2] + real + response[off + 34:]


def start_auth_session(command):
    """A StartAuthSession command's handles, encryptedSalt size and session type."""
    tag = struct.unpack(">H", command[:2])[0]
    tpm_key, bind = struct.unpack(">II", command[10:18])
    off = 18
    if tag == TPM2_ST_SESSIONS:
        off += 4 + struct.unpack(">I", command[off:off + 4])[0]
    off += 2 + struct.unpack(">H", command[off:off + 2])[0]     # nonceCaller
    salt = struct.unpack(">H", command[off:off + 2])[0]         # encryptedSalt
    off += 2 + salt
    kind = SESSION_TYPES.get(command[off], hex(command[off]))
    return "StartAuthSession tpmKey=0x%08x bind=0x%08x salt=%d type=%s\n" % (
        tpm_key, bind, salt, kind)


def pump_commands(client, upstream, capture, mode, swallowed, ready):
    """One command, one answer; PCR_Event and PCR_Read forged as MODE says."""
    try:
        while True:
            command = recv_message(client)
            record(capture, command)
            cc = struct.unpack(">I", command[6:10])[0]
            if cc == TPM2_CC_START_AUTH_SESSION:
                with lock, open(capture.name + ".sessions", "a") as log:
                    log.write(start_auth_session(command))
            if mode == "hold-unseal":
                upstream.sendall(command)
                response = recv_message(upstream)
                if cc == TPM2_CC_UNSEAL:
                    open(ready + ".unseal", "w").close()
                    time.sleep(UNSEAL_HOLD_SECONDS)
            elif cc == TPM2_CC_PCR_EVENT and mode in ("drop-pcr-event", "forge-pcr-read"):
                handle = struct.unpack(">I", command[10:14])[0]
                response, event = forged_pcr_event(command)
                if handle == FORGED_PCR:
                    swallowed.append(event)
            else:
                upstream.sendall(command)
                response = recv_message(upstream)
                if cc == TPM2_CC_PCR_READ and mode == "forge-pcr-read":
                    response = rewrite_pcr_read(response, swallowed)
                elif cc == TPM2_CC_PCR_READ and mode == "tamper-pcr-read":
                    response = rewrite_pcr_read(response, [b"interposer"])
            record(capture, response)
            client.sendall(response)
    except OSError:
        pass
    finally:
        close_both(client, upstream)


def serve(listener, upstream_port, capture, mode, ready):
    swallowed = []      # PCR 15's swallowed events, over every connection: one TPM
    while True:
        client, _ = listener.accept()
        upstream = socket.create_connection((HOST, upstream_port))
        if mode is not None:
            threading.Thread(target=pump_commands,
                             args=(client, upstream, capture, mode, swallowed, ready),
                             daemon=True).start()
            continue
        threading.Thread(target=pump, args=(client, upstream, capture), daemon=True).start()
        threading.Thread(target=pump, args=(upstream, client, capture), daemon=True).start()


def main():
    listen, upstream, capture_path, ready = sys.argv[1:5]
    mode = sys.argv[5] if len(sys.argv) > 5 else ""
    if mode not in ("", "drop-pcr-event", "forge-pcr-read", "tamper-pcr-read", "hold-unseal"):
        sys.exit(f"tpm-proxy.py: unknown mode {mode}")
    listen, upstream = int(listen), int(upstream)
    capture = open(capture_path, "ab")
    threads = []
    for offset in (0, 1):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((HOST, listen + offset))
        s.listen(8)
        t = threading.Thread(target=serve,
                             args=(s, upstream + offset, capture, mode if offset == 0 else None,
                                   ready),
                             daemon=True)
        t.start()
        threads.append(t)
    open(ready, "w").close()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
