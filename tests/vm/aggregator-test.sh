#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The aggregator (tests/run-tests) on throw-away test files: a file passes only when it proved
# something. Nothing but skips, no result at all, fewer results than planned, no plan before
# the first result, or a non-zero exit after "ok" lines all fail; skips are counted apart, each
# with its reason in the summary.
. "$SEAL_ROOT/tests/lib/ktap.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# aggregate NAME BODY: run the aggregator over one file tests/userspace/NAME.sh with BODY
aggregate()
{
	rm -rf "$tmp/tree"
	mkdir -p "$tmp/tree/tests/userspace"
	cp "$SEAL_ROOT/tests/run-tests" "$tmp/tree/tests/"
	printf '#!/bin/bash\n%s\n' "$2" > "$tmp/tree/tests/userspace/$1.sh"
	chmod +x "$tmp/tree/tests/userspace/$1.sh"
	SEAL_BUILD=$tmp/tree/build T= JOBS=1 "$tmp/tree/tests/run-tests" > "$tmp/out" 2>&1
	echo $? > "$tmp/rc"
}

# verdict NAME WANT-RC WANT-LAST-LINE: the aggregator's exit status and closing line
verdict()
{
	local rc last
	rc=$(cat "$tmp/rc")
	last=$(tail -1 "$tmp/out")
	if [ "$([ "$rc" = 0 ]; echo $?)" = "$([ "$2" = 0 ]; echo $?)" ] && [ "$last" = "$3" ]; then
		ktap_pass "$1"
	else
		ktap_fail "$1" "exit $rc, last line '$last'; want exit ${2/1/non-zero}, '$3'"
	fi
}

# units VAR=VALUE...: how many runs the aggregator makes of one e2e file marked
# "once per kernel" and "check-kernels: 6.1", with those variables set
units()
{
	rm -rf "$tmp/tree"
	mkdir -p "$tmp/tree/tests/e2e"
	cp "$SEAL_ROOT/tests/run-tests" "$tmp/tree/tests/"
	printf '#!/bin/bash\n# e2e: once per kernel\n# check-kernels: 6.1\n%s\n' \
		'echo "KTAP version 1"; echo "1..1"; echo "ok 1 on $E2E_KERNEL"' > "$tmp/tree/tests/e2e/k.sh"
	chmod +x "$tmp/tree/tests/e2e/k.sh"
	env -u SEAL_STRESS -u KERNELS SEAL_BUILD="$tmp/tree/build" T= JOBS=1 "$@" \
		"$tmp/tree/tests/run-tests" 2>&1 | grep -c '^    ok 1 on '
}

ktap_begin 11
aggregate passing 'echo "KTAP version 1"; echo "1..2"; echo "ok 1 a"; echo "ok 2 b"'
verdict "a file whose tests pass passes" 0 "2 passed, 0 failed"

aggregate skips 'echo "KTAP version 1"; echo "1..1"; echo "ok 1 all # SKIP dracut is not installed"'
verdict "a file that only skips fails" 1 "0 passed, 1 failed, 1 skipped"
ktap_check "the summary names the skip and its reason" \
	grep -qx "# skipped: tests/userspace/skips.sh: all # SKIP dracut is not installed" "$tmp/out"

aggregate silent 'exit 0'
verdict "a file that reports nothing and exits 0 fails" 1 "0 passed, 1 failed"

aggregate short 'echo "KTAP version 1"; echo "1..3"; echo "ok 1 a"; echo "ok 2 b"'
verdict "a file that reports fewer tests than it planned fails" 1 "2 passed, 1 failed"

aggregate late 'echo "KTAP version 1"; echo "ok 1 a"; echo "ok 2 b"; echo "1..2"'
verdict "a file that prints its plan after its results fails" 1 "2 passed, 1 failed"

aggregate exits 'echo "KTAP version 1"; echo "1..1"; echo "ok 1 a"; exit 3'
verdict "a file that exits non-zero after passing results fails" 1 "1 passed, 1 failed"

aggregate mixed 'echo "KTAP version 1"; echo "1..2"; echo "ok 1 a"; echo "ok 2 b # SKIP no trusted keys"'
verdict "a pass beside an inherent skip passes, the skip counted apart" 0 "1 passed, 0 failed, 1 skipped"
ktap_same "a check-kernels file runs on that kernel only in make check" "$(units)" 1
ktap_same "... on every kernel under make stress" "$(units SEAL_STRESS=1)" 2
ktap_same "... on every kernel named by KERNELS=" "$(units KERNELS="6.1 6.12")" 2
ktap_end
