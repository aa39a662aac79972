#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Seeded random mutations of valid seal tables (tests/kernel/table-fuzz.c): tokens deleted,
# duplicated, swapped, cut short, characters changed, numbers replaced by boundary values,
# junk tokens, random option counts and options, random keys, devices, ciphers, lengths,
# escapes and whitespace. Every table goes to the kernel; the kernel's verdict and message
# must match a model of the documented table syntax, every accepted table must be a working
# device (then removed), nothing may oops or WARN, and no device may be left. Then a short
# run of it under kselftest's own runner, from the suite as `make -C tests/kernel install`
# lays it out (tests/lib/kselftest-runner.sh), before the checks for what is left behind.
#
# Reproduce or vary a run: tests/vm/run --kernel 6.12 --env SEAL_FUZZ_SEED=N \
#	[--env SEAL_FUZZ_COUNT=N] [--env SEAL_FUZZ_VERBOSE=1] -- tests/kernel/seal-table-fuzz.sh
# The helper is built on the host by `make -C tests/kernel`; when it is missing or older
# than its source it is compiled here, in the guest (slow under TCG).
# vm-timeout: 900
# check-kernels: 6.12
. "$SEAL_ROOT/tests/lib/ktap.sh"
. "$SEAL_ROOT/tests/lib/guest.sh"
. "$SEAL_ROOT/tests/lib/kselftest-runner.sh"

seed=${SEAL_FUZZ_SEED:-4242}
count=${SEAL_FUZZ_COUNT:-2000}

ktap_begin $((12 + KSFT_RUNNER_RESULTS))
load_seal || { ktap_fail "dm-seal.ko loads"; ktap_end; }
dev=$(ramdisk 4)

fuzz=$SEAL_BUILD/tests/table-fuzz
src=$SEAL_ROOT/tests/kernel/table-fuzz.c
if ! [ -x "$fuzz" ] || [ "$src" -nt "$fuzz" ]; then
	ktap_diag "$fuzz is missing or older than its source: compiling it in the guest" \
		"(build it on the host with 'make -C tests/kernel')"
	fuzz=/tmp/table-fuzz
	if ! out=$(cc -O2 -Wall -Wextra -Werror -I"$SEAL_CACHE/linux-source/tools/testing/selftests" \
		-pthread -o "$fuzz" "$src" 2>&1); then
		ktap_fail "table-fuzz compiles" "$out"
		ktap_end
	fi
fi

# The key types this kernel has, as the kernel's config says.
config=/boot/config-$(uname -r)
[ -f "$config" ] || config=$SEAL_CACHE/kernels/$(uname -r)/boot/config-$(uname -r)
types=logon,user
grep -q '^CONFIG_ENCRYPTED_KEYS=[ym]' "$config" 2>/dev/null && types=$types,encrypted
grep -q '^CONFIG_TRUSTED_KEYS=[ym]' "$config" 2>/dev/null && types=$types,trusted

verbose=
[ -n "${SEAL_FUZZ_VERBOSE:-}" ] && verbose=--verbose
start=$SECONDS
# table-fuzz is a kselftest (kselftest.h): its 7 results become this file's, its other
# lines (its own header and plan among them) diagnostics.
ktap_take < <("$fuzz" fuzz --dev "$dev" --seed "$seed" --count "$count" --key-types "$types" \
	$verbose 2>&1; echo "# table-fuzz exited $?")
ktap_diag "fuzzing took $((SECONDS - start)) s"
[ "$KTAP_TAKEN" -ge 7 ] || ktap_fail "table-fuzz reported its results ($KTAP_TAKEN of 7)"

# The same program, a short run, under kselftest's own runner as the installed suite.
ksft_runner_check "$dev"

# What a leaking error path would leave: devices, holders of the RAM disk, references to the
# module, the target's workqueue threads.
ktap_check "no dm device is left" sh -c '[ "$(dmsetup ls)" = "No devices found" ]'
holders=$(ls /sys/block/ram0/holders)
ktap_check "nothing holds the RAM disk" test -z "$holders"
read -r refs < /sys/module/dm_seal/refcnt
ktap_check "nothing holds a reference to dm-seal ($refs)" test "$refs" = 0
threads=$(grep -l '^kseald' /proc/[0-9]*/comm 2>/dev/null)
ktap_check "no kseald workqueue thread is left" test -z "$threads"
ktap_check "dm-seal unloads" rmmod dm-seal
ktap_end
