#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Recording proxy between tpm2-tss's swtpm TCTI and swtpm.

    tpm-proxy.py LISTEN_PORT SWTPM_PORT CAPTURE_FILE READY_FILE [drop-pcr-event]

Listens on 127.0.0.1:LISTEN_PORT (TPM commands) and LISTEN_PORT+1 (swtpm
control channel), forwards each connection to SWTPM_PORT / SWTPM_PORT+1 and
appends every byte, in both directions, to CAPTURE_FILE. Writes READY_FILE
once listening. Runs until killed. Loopback only.

drop-pcr-event plays an active interposer: every TPM2_PCR_Event command is
swallowed (the TPM never sees it) and answered with a forged success, as a
password session's response would look.
"""
import socket
import struct
import sys
import threading

TPM2_CC_PCR_EVENT = 0x13C
# TPM_ST_SESSIONS, size, TPM_RC_SUCCESS, parameterSize 4, TPML_DIGEST_VALUES with no
# digest, then the password session's response: empty nonce, continueSession, empty hmac
FORGED_PCR_EVENT = struct.pack(">HII", 0x8002, 23, 0) + struct.pack(">II", 4, 0) + \
    bytes.fromhex("0000010000")

HOST = "127.0.0.1"
lock = threading.Lock()


def close_both(a, b):
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def pump(src, dst, capture):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            with lock:
                capture.write(data)
                capture.flush()
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


def pump_commands_dropping(client, upstream, capture):
    """client -> TPM, one command at a time; PCR_Event gets the forged answer."""
    try:
        while True:
            header = recv_exact(client, 10)
            _, size, cc = struct.unpack(">HII", header)
            command = header + recv_exact(client, size - 10)
            with lock:
                capture.write(command)
                capture.flush()
            if cc == TPM2_CC_PCR_EVENT:
                client.sendall(FORGED_PCR_EVENT)
            else:
                upstream.sendall(command)
    except OSError:
        pass
    finally:
        close_both(client, upstream)


def serve(listener, upstream_port, capture, drop):
    while True:
        client, _ = listener.accept()
        upstream = socket.create_connection((HOST, upstream_port))
        to_tpm = pump_commands_dropping if drop else pump
        threading.Thread(target=to_tpm, args=(client, upstream, capture), daemon=True).start()
        threading.Thread(target=pump, args=(upstream, client, capture), daemon=True).start()


def main():
    listen, upstream, capture_path, ready = sys.argv[1:5]
    mode = sys.argv[5] if len(sys.argv) > 5 else ""
    listen, upstream = int(listen), int(upstream)
    capture = open(capture_path, "ab")
    threads = []
    for offset in (0, 1):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((HOST, listen + offset))
        s.listen(8)
        drop = mode == "drop-pcr-event" and offset == 0
        t = threading.Thread(target=serve, args=(s, upstream + offset, capture, drop),
                             daemon=True)
        t.start()
        threads.append(t)
    open(ready, "w").close()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
