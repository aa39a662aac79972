#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Recording proxy between tpm2-tss's swtpm TCTI and swtpm.

    tpm-proxy.py LISTEN_PORT SWTPM_PORT CAPTURE_FILE READY_FILE

Listens on 127.0.0.1:LISTEN_PORT (TPM commands) and LISTEN_PORT+1 (swtpm
control channel), forwards each connection to SWTPM_PORT / SWTPM_PORT+1 and
appends every byte, in both directions, to CAPTURE_FILE. Writes READY_FILE
once listening. Runs until killed. Loopback only.
"""
import socket
import sys
import threading

HOST = "127.0.0.1"
lock = threading.Lock()


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
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(listener, upstream_port, capture):
    while True:
        client, _ = listener.accept()
        upstream = socket.create_connection((HOST, upstream_port))
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=pump, args=(a, b, capture), daemon=True).start()


def main():
    listen, upstream, capture_path, ready = sys.argv[1:5]
    listen, upstream = int(listen), int(upstream)
    capture = open(capture_path, "ab")
    threads = []
    for offset in (0, 1):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((HOST, listen + offset))
        s.listen(8)
        t = threading.Thread(target=serve, args=(s, upstream + offset, capture), daemon=True)
        t.start()
        threads.append(t)
    open(ready, "w").close()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
