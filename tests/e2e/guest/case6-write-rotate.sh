#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs as root inside case 6's first boot (tests/e2e/postgres.sh; tests/e2e/guest/init,
# seal_e2e.run=), a boot whose changed boot chain made the TPM refuse and whose root the
# passphrase unlocked: the PostgreSQL row (guest/postgres.sh write:SECRET), then the TPM
# keyslot re-sealed to this boot's PCR values with the check make demo's rotate step runs
# (check_rotate_kek, tests/e2e/guest/checks.sh), the admin passphrase from the e2e image's
# file on standard input. Prints "SEAL-E2E-CHECK <name> ok|fail" lines, "# " details.
# $1: BUILD,PCRS,SECRET (the build directory, the PCRs the tpm2 keyslot is bound to, the row)
IFS=, read -r build pcrs secret <<<"$1"
here=$(cd "$(dirname "$0")" && pwd)
export TPM2TOOLS_TCTI=device:/dev/tpmrm0 SEAL_TCTI=device:/dev/tpmrm0 TSS2_LOG=all+none
SEALCTL=$build/userspace/sealctl
. "$here/checks.sh"
say() { echo "# $*"; }
result() { echo "SEAL-E2E-CHECK $1 $([ "$2" = 0 ] && echo ok || echo fail)"; }

bash "$here/postgres.sh" "write:$secret"
check_rotate_kek /dev/vda1 "$pcrs" < "$build/e2e/image/passphrase"
result rotate-kek $?
