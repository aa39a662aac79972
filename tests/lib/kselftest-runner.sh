# SPDX-License-Identifier: GPL-2.0
# The suite as a kernel developer runs it, checked from a guest test (sourced after ktap.sh
# and guest.sh, with dm-seal loaded): `make -C tests/kernel install` lays tests/kernel out
# as kselftest's install does, and kselftest's own runner (run_kselftest.sh and
# kselftest/runner.sh of linux-source-6.1, unpacked by mk/deps.sh) runs table-fuzz, a short
# run of 40 tables through the runner's KSELFTEST_TABLE_FUZZ_ARGS, and a test added to the
# list that fails on purpose, so that the check can fail.
#
#   ksft_runner_check DEV   KSFT_RUNNER_RESULTS results; DEV is table-fuzz's lower device

# shellcheck disable=SC2034 # used by the files that source this one
KSFT_RUNNER_RESULTS=3

ksft_runner_check()
{
	local dev=$1 dir out rc start name
	local names=("make -C tests/kernel install lays the suite out for kselftest's runner"
		"kselftest's runner reports table-fuzz ok, with its own plan of 7 and 7 passes"
		"kselftest's runner reports a test that fails on purpose not ok")
	# Under kselftest's runner already (it exports kselftest_timeout): not again, nested.
	if [ -n "${kselftest_timeout:-}" ]; then
		for name in "${names[@]}"; do
			ktap_skip "$name" "this file runs under kselftest's runner already"
		done
		return 0
	fi
	dir=$(mktemp -d)
	on_exit "rm -rf $dir"
	start=$SECONDS
	if ! out=$(make -s -C "$SEAL_ROOT/tests/kernel" install INSTALL_PATH="$dir" 2>&1) ||
		! grep -qx dm-seal:table-fuzz "$dir/kselftest-list.txt" ||
		! [ -x "$dir/run_kselftest.sh" ] || ! [ -x "$dir/dm-seal/table-fuzz" ]; then
		ktap_fail "${names[0]}" "$out"
		ktap_fail "${names[1]}"
		ktap_fail "${names[2]}"
		return 1
	fi
	ktap_pass "${names[0]}"
	ktap_diag "make -C tests/kernel install took $((SECONDS - start)) s"

	cat > "$dir/dm-seal/fails-on-purpose.sh" <<-'EOF'
	#!/bin/sh
	printf 'TAP version 13\n1..1\nnot ok 1 fails on purpose\n'
	exit 1
	EOF
	chmod +x "$dir/dm-seal/fails-on-purpose.sh"
	echo dm-seal:fails-on-purpose.sh >> "$dir/kselftest-list.txt"

	start=$SECONDS
	out=$(KSELFTEST_TABLE_FUZZ_ARGS="fuzz --dev $dev --count 40" "$dir/run_kselftest.sh" \
		-t dm-seal:table-fuzz -t dm-seal:fails-on-purpose.sh 2>&1)
	rc=$?
	ktap_diag "kselftest's run_kselftest.sh exited $rc after $((SECONDS - start)) s:"
	ktap_diag "$out"
	# The runner's own lines are its top level; each test's output is under "# ".
	has() { printf '%s\n' "$out" | grep -qxE -- "$1"; }
	ktap_result "${names[1]}" "$(has '1\.\.2' && has 'ok 1 selftests: dm-seal: table-fuzz' &&
		has '# 1\.\.7' && has '# # Totals: pass:7 fail:0 .*'; echo $?)"
	ktap_result "${names[2]}" \
		"$(has 'not ok 2 selftests: dm-seal: fails-on-purpose.sh # exit=1'; echo $?)"
}
