#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""An AES-XTS oracle that is not ours and not the kernel's: OpenSSL, through python3-cryptography.

  xts-oracle.py vectors TESTMGR_H
      print the IEEE 1619 vectors of the kernel's crypto/testmgr.h that are one 512-byte
      sector with distinct key halves, as "name keyhex dusn ptexthex ctexthex" lines
  xts-oracle.py check KEYFILE SECTOR_SIZE FIRST_IV IV_STEP PLAINFILE RAWFILE
      check that RAWFILE is PLAINFILE encrypted sector by sector with the plain64 tweak
      (le64 IV, zero padded), the first sector's IV being FIRST_IV and each next IV_STEP more
"""
import re
import sys

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def c_bytes(text):
    """The bytes of a run of C string literals made of \\xNN escapes."""
    return bytes(int(h, 16) for h in re.findall(r'\\x([0-9a-fA-F]{2})', text))


def vectors(path):
    src = open(path).read()
    body = src[src.index('aes_xts_tv_template[] = {'):]
    body = body[:body.index('\n};')]
    for entry in re.split(r'\n\t\}, \{', body):
        name = re.search(r'/\* (XTS-AES \d+)', entry)
        fields = {}
        for field in ('key', 'iv', 'ptext', 'ctext'):
            m = re.search(r'\.%s\s*=\s*((?:"[^"]*"\s*)+)' % field, entry)
            fields[field] = c_bytes(m.group(1)) if m else b''
        key, iv = fields['key'], fields['iv']
        if len(fields['ptext']) != 512 or key[:len(key) // 2] == key[len(key) // 2:]:
            continue
        if iv[8:] != bytes(8):
            continue
        dusn = int.from_bytes(iv[:8], 'little')
        print(name.group(1).replace(' ', '-') if name else 'unnamed', key.hex(), dusn,
              fields['ptext'].hex(), fields['ctext'].hex())


def check(keyfile, sector_size, first_iv, iv_step, plainfile, rawfile):
    key = open(keyfile, 'rb').read()
    plain = open(plainfile, 'rb').read()
    raw = open(rawfile, 'rb').read()
    if len(plain) != len(raw) or len(plain) % sector_size:
        print('sizes differ: plain %d raw %d' % (len(plain), len(raw)))
        return 1
    bad = 0
    for i in range(len(plain) // sector_size):
        tweak = (first_iv + i * iv_step).to_bytes(8, 'little') + bytes(8)
        enc = Cipher(algorithms.AES(key), modes.XTS(tweak)).encryptor()
        want = enc.update(plain[i * sector_size:(i + 1) * sector_size]) + enc.finalize()
        if want != raw[i * sector_size:(i + 1) * sector_size]:
            if bad < 3:
                print('sector %d (iv %d) differs from the oracle' % (i, first_iv + i * iv_step))
            bad += 1
    if bad:
        print('%d of %d sectors differ' % (bad, len(plain) // sector_size))
    return 1 if bad else 0


if __name__ == '__main__':
    if sys.argv[1:2] == ['vectors']:
        vectors(sys.argv[2])
    elif sys.argv[1:2] == ['check']:
        a = sys.argv[2:]
        sys.exit(check(a[0], int(a[1]), int(a[2]), int(a[3]), a[4], a[5]))
    else:
        sys.exit(__doc__)
