#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The kernel code is clean: it builds for both pinned kernels at W=1 without a single
# warning, and checkpatch.pl --strict has nothing to say about it.
. "$SEAL_ROOT/tests/lib/ktap.sh"
. "$SEAL_ROOT/mk/kernels.env"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
ktap_begin 3
for kver in "$KVER_6_1" "$KVER_6_12"; do
	log=$(make -C "$SEAL_ROOT/kernel" KDIR="/usr/src/linux-headers-$kver" O="$out/$kver" W=1 2>&1)
	rc=$?
	warnings=$(echo "$log" | grep -E 'warning:|error:')
	[ -n "$warnings" ] && ktap_diag "$warnings"
	[ $rc != 0 ] && ktap_diag "$(echo "$log" | tail -5)"
	ktap_result "dm-seal.ko builds for $kver at W=1 with no warnings" \
		$([ $rc = 0 ] && [ -z "$warnings" ] && [ -f "$out/$kver/dm-seal.ko" ]; echo $?)
done
ktap_check "checkpatch.pl --strict is clean on kernel/" make -C "$SEAL_ROOT/kernel" lint
ktap_end
