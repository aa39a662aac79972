#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# seal-parallel.sh in a guest with one vCPU: large bios are converted without helpers, and
# the result is still dm-crypt's ciphertext.
# vm-options: --cpus 1 --scratch 64 --mem 512
# vm-timeout: 900
exec "$SEAL_ROOT/tests/kernel/seal-parallel.sh" "$@"
