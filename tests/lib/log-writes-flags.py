#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""log-writes-flags.py LOGDEV: count the entries of a dm-log-writes log by kind, per mark.

Reads the log format of drivers/md/dm-log-writes.c: a super block at byte 0 (magic, version,
nr_entries, sectorsize), then per entry one sector holding (sector, nr_sectors, flags,
data_len) — followed, for a mark, by its name — and nr_sectors sectors of data. Prints one
line per stretch between marks: "<mark> flush N fua N data N" (the first stretch is "-").
"""
import struct
import sys

MAGIC = 0x6a736677736872
FLUSH, FUA, MARK = 1, 2, 8


def report(name, counts):
    print(name, ' '.join('%s %d' % kv for kv in counts.items()))


with open(sys.argv[1], 'rb') as log:
    magic, version, nr_entries, sectorsize = struct.unpack('<QQQI', log.read(28))
    if magic != MAGIC:
        sys.exit('%s: not a dm-log-writes log' % sys.argv[1])
    mark, counts = '-', {'flush': 0, 'fua': 0, 'data': 0}
    pos = sectorsize
    for _ in range(nr_entries):
        log.seek(pos)
        sector, nr_sectors, flags, data_len = struct.unpack('<QQQQ', log.read(32))
        pos += sectorsize
        if flags & MARK:
            report(mark, counts)
            mark = log.read(data_len).rstrip(b'\0').decode()
            counts = {'flush': 0, 'fua': 0, 'data': 0}
            continue
        counts['flush'] += bool(flags & FLUSH)
        counts['fua'] += bool(flags & FUA)
        counts['data'] += nr_sectors > 0
        pos += nr_sectors * sectorsize
    report(mark, counts)
