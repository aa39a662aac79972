# SPDX-License-Identifier: GPL-2.0
# KTAP (Documentation/dev-tools/ktap.rst) output for shell test files.
#
#   . tests/lib/ktap.sh
#   ktap_begin 3              # the plan, before the first result (tests/run-tests fails a file
#                             # whose plan comes later: ktap_begin with no count prints it at the end)
#   ktap_check "reads back" cmp a b
#   ktap_result "name" "$ok"  # ok = 0 for pass, anything else fail
#   ktap_skip "name" "why"
#   ktap_take < <(prog)       # a kselftest program's results taken as this file's own
#   ktap_end                  # exits 0 if every test passed, 1 otherwise
#
# A skip is never a pass: the aggregator counts it separately.
# SEAL_TEST_TIMES=1 (tests/run-tests passes it into guests) puts the seconds spent since the
# previous result in a diagnostic line before each result: where a file's time goes.

KTAP_N=0
KTAP_LAST=$SECONDS
KTAP_FAILED=0
KTAP_PLAN=

ktap_begin()
{
	KTAP_PLAN=${1:-}
	echo "KTAP version 1"
	[ -n "$KTAP_PLAN" ] && echo "1..$KTAP_PLAN"
	return 0
}

ktap_diag()
{
	local line
	printf '%s\n' "$*" | while IFS= read -r line; do
		echo "# $line"
	done
}

ktap_time()
{
	[ -n "${SEAL_TEST_TIMES:-}" ] && echo "# $((SECONDS - KTAP_LAST)) s"
	KTAP_LAST=$SECONDS
}

# ktap_result NAME STATUS: STATUS 0 is ok, anything else is not ok.
ktap_result()
{
	KTAP_N=$((KTAP_N + 1))
	ktap_time
	if [ "$2" = 0 ]; then
		echo "ok $KTAP_N $1"
	else
		KTAP_FAILED=$((KTAP_FAILED + 1))
		echo "not ok $KTAP_N $1"
	fi
}

ktap_pass() { ktap_result "$1" 0; }
ktap_fail() { [ -n "${2:-}" ] && ktap_diag "$2"; ktap_result "$1" 1; }

ktap_skip()
{
	KTAP_N=$((KTAP_N + 1))
	ktap_time
	echo "ok $KTAP_N $1 # SKIP ${2:-}"
}

# ktap_check NAME CMD...: run CMD, show its output as diagnostics when it fails.
ktap_check()
{
	local name=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	[ $rc != 0 ] && ktap_diag "$name: '$*' exited $rc" "$out"
	ktap_result "$name" $rc
	return $rc
}

# ktap_check_fails NAME CMD...: the test passes when CMD fails.
ktap_check_fails()
{
	local name=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc = 0 ]; then
		ktap_diag "$name: '$*' succeeded but must fail" "$out"
		ktap_result "$name" 1
		return 1
	fi
	ktap_result "$name" 0
}

# ktap_expect NAME RC REGEX CMD...: CMD (stdin /dev/null) exits RC and its output matches REGEX.
ktap_expect()
{
	local name=$1 want=$2 regex=$3 out rc
	shift 3
	out=$("$@" 2>&1 </dev/null)
	rc=$?
	if [ "$rc" = "$want" ] && printf '%s\n' "$out" | grep -Eq -- "$regex"; then
		ktap_result "$name" 0
		return 0
	fi
	ktap_diag "$name: '$*' exited $rc (want $want), output must match /$regex/:" "$out"
	ktap_result "$name" 1
	return 1
}

# ktap_same NAME GOT WANT: the test passes when the two strings are equal.
ktap_same()
{
	[ "$2" = "$3" ] && { ktap_result "$1" 0; return 0; }
	ktap_diag "$1: got '$2', want '$3'"
	ktap_result "$1" 1
	return 1
}

# jq_true FILTER [FILE]: FILTER over the JSON (FILE or stdin) answers exactly true. Not
# "jq -e": jq 1.6 exits 0 on empty input, so a command that printed nothing would pass.
jq_true()
{
	[ "$(jq "$@" 2>/dev/null)" = true ]
}

# ktap_take: read a C kselftest's TAP (kselftest.h, kselftest_harness.h) on stdin and take
# its results as this file's: "ok N name" and "not ok N name" become results under the same
# name, "ok N [name] # SKIP why" skips, every other line (its header and plan among them) a
# diagnostic. KTAP_TAKEN is the number of results taken.
ktap_take()
{
	local line rest
	KTAP_TAKEN=0
	while IFS= read -r line; do
		case $line in
		"ok "[0-9]*)
			rest=${line#ok }
			rest=${rest#* }
			case $rest in
			*"# SKIP"*)
				rest=${rest%%# SKIP*}
				ktap_skip "${rest% }" "${line#*# SKIP }"
				;;
			*) ktap_result "$rest" 0 ;;
			esac
			KTAP_TAKEN=$((KTAP_TAKEN + 1))
			;;
		"not ok "[0-9]*)
			rest=${line#not ok }
			ktap_result "${rest#* }" 1
			KTAP_TAKEN=$((KTAP_TAKEN + 1))
			;;
		"#"*) echo "$line" ;;
		*) echo "# $line" ;;
		esac
	done
}

ktap_end()
{
	[ -z "$KTAP_PLAN" ] && echo "1..$KTAP_N"
	if [ -n "$KTAP_PLAN" ] && [ "$KTAP_PLAN" != "$KTAP_N" ]; then
		ktap_diag "planned $KTAP_PLAN tests, ran $KTAP_N"
		exit 1
	fi
	[ "$KTAP_FAILED" = 0 ] && exit 0
	exit 1
}
