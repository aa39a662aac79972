#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The data path when the cipher completes asynchronously: the test build of dm-seal.ko
# (make kernels: SEAL_TEST_CIPHER=async, never installed) binds its tfm to
# cryptd(xts(aes-generic)), whose every request completes later on cryptd's worker, and
# seal-data-integrity.sh runs through it unchanged.
# vm-timeout: 1800
. "$SEAL_ROOT/tests/lib/ktap.sh"
. "$SEAL_ROOT/tests/lib/guest.sh"

ktap_begin 2
export SEAL_BUILD=$SEAL_BUILD/test-async
# The guest loads no crypto template on demand: cryptd and ecb (under xts) by hand.
modprobe -a cryptd ecb xts
load_seal || { ktap_fail "the test build of dm-seal.ko loads"; ktap_end; }

# A mapping over a zero target is enough to bind the tfm.
head -c 64 /dev/urandom | keyctl padd logon seal-test:async @s >/dev/null
dm_track as-seal
dm_track as-zero
dmsetup create as-zero --table "0 8192 zero"
# The first user of cryptd(xts(aes-generic)) makes the crypto manager build and self-test
# it; the table load waits 60 s for that at most (then ETIMEDOUT), which a loaded TCG host
# can exceed. The build goes on, so a second load finds the cipher.
table="0 8192 seal aes-xts-plain64 :64:logon:seal-test:async 0 /dev/mapper/as-zero 0"
if ! dmsetup create as-seal --table "$table" 2>/dev/null; then
	ktap_diag "first table load failed: $(dmesg | grep 'seal:' | tail -1); again in 30 s"
	sleep 30
	dmsetup create as-seal --table "$table"
fi
async=$(awk '/^name/ { name = $3 } /^async/ && name == "cryptd(xts(aes-generic))" { print $3 }' /proc/crypto | head -1)
ktap_same "the mapping's cipher is cryptd(xts(aes-generic)), asynchronous" "$async" yes
dmsetup remove as-seal
dmsetup remove as-zero

ktap_check "seal-data-integrity.sh passes with the asynchronous cipher" \
	bash "$SEAL_ROOT/tests/kernel/seal-data-integrity.sh"
ktap_end
