#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The TPM layer (userspace/tpm2.c) through its own API, against a fresh swtpm: round trips
# of 32, 64 and 128 bytes in salted parameter-encrypted sessions and in the plaintext control
# sessions, PCR 16 moved (-EPERM), another primary key (-EBADE), a PIN (none, wrong, right),
# no TPM (-ENODEV), a secret too large (-EINVAL). The tests are C, tests/userspace/tpm2-layer.c,
# a kselftest on the kernel's kselftest_harness.h; their results are this file's, plus one:
# the program reported every result it planned and exited 0.
. "$(dirname "$0")/helpers/common.sh"
require swtpm

if [ ! -x "$LAYER_TEST" ]; then
	ktap_begin 1
	ktap_fail "$LAYER_TEST is built (make userspace, after make deps)"
	ktap_end
fi
swtpm_start
out=$("$LAYER_TEST" 2>&1)
rc=$?
plan=$(sed -n 's/^1\.\.\([0-9]*\).*/\1/p' <<<"$out" | head -1)
ktap_begin $((${plan:-0} + 1))
ktap_take <<<"$out"
ktap_diag "tpm2-layer exited $rc"
ktap_result "tpm2-layer: its ${plan:-(missing)} planned results all reported, exit 0" \
	"$([ "${plan:-0}" -gt 0 ] && [ "$KTAP_TAKEN" = "$plan" ] && [ "$rc" = 0 ] && echo 0 || echo 1)"
ktap_end
