#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# seal-parallel.sh in a guest with one vCPU: large bios are converted without helpers, and
# the result is still dm-crypt's ciphertext.
# vm-options: --cpus 1 --scratch 64 --mem 512
# vm-timeout: 900
# The one-vCPU path (no helper threads) is the target's own scheduling, not the kernel's:
# on one kernel in make check, both under make stress or an explicit KERNELS=.
# check-kernels: 6.12
exec "$SEAL_ROOT/tests/kernel/seal-parallel.sh" "$@"
