#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Documentation/performance.md from the reports of one `make bench` run over several disks.

assemble-doc.py DIR DEVICE...: DIR/DEVICE/performance.md is bench/report.py's page for that
disk, DIR/DEVICE/null/performance.md its overhead rows (no cipher). Prints the first
device's whole page, then, for every device, its targets and ratio tables, then the
overhead rows, each under a heading of its own. Image links are made relative to
Documentation/ (bench/run copies the first device's plots to Documentation/images/).
"""
import os
import re
import sys

KEEP = ("## Targets", "## Ratios")


def sections(text, keep):
    """The level-2 sections of text whose heading starts with one of keep, one level down."""
    out, on = [], False
    for line in text.splitlines():
        if line.startswith("## "):
            on = line.startswith(keep)
        if on:
            out.append("#" + line if line.startswith("#") else line)
    return "\n".join(out)


def main():
    top, devices = sys.argv[1], sys.argv[2:]
    if not devices:
        print("usage: assemble-doc.py DIR DEVICE...", file=sys.stderr)
        return 2
    pages = {}
    for d in devices:
        for kind, path in (("", os.path.join(top, d, "performance.md")),
                           ("null", os.path.join(top, d, "null", "performance.md"))):
            if os.path.exists(path):
                with open(path) as f:
                    pages[(d, kind)] = f.read()
    first = pages.get((devices[0], ""))
    if first is None:
        print(f"assemble-doc: no report for {devices[0]}", file=sys.stderr)
        return 1
    first = re.sub(r"\]\((?:\./)?([^/)]+\.png)\)", r"](images/\1)", first)
    out = [first.rstrip(), "", "# Every disk model", "",
           "The same matrix, run in one guest per disk model (the page above is the "
           f"first, {devices[0]}). Ratios are within one guest run only.", ""]
    for d in devices:
        page = pages.get((d, ""))
        out.append(f"## {d}\n")
        if page is None:
            out.append("No report: the guest run for this disk failed.\n")
            continue
        disk = re.search(r"^\| disk \| (.*) \|$", page, re.M)
        if disk:
            out.append(f"Disk: {disk.group(1)}.\n")
        out.append(sections(page, KEEP))
        out.append("")
    out.append("# Overhead rows: no cipher\n")
    out.append("dm-crypt with `cipher_null-ecb` (an empty key), with and without its "
               "workqueues, against the bench-only build of dm-seal.ko whose tfm is "
               "`ecb(cipher_null)` (Kbuild `SEAL_TEST_CIPHER=null`; the shipped module "
               "cannot select it). Under TCG the cipher costs far more than on hardware "
               "and hides the data path; these rows measure the data path alone. "
               "\"best dm-crypt\" here is the better of the two cipher_null "
               "configurations.\n")
    for d in devices:
        page = pages.get((d, "null"))
        if page is None:
            continue
        out.append(f"## {d}, no cipher\n")
        out.append(sections(page, KEEP))
        out.append("")
    print("\n".join(out).rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
