#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make demo's checks are make check's: tests/README.md's table ("make demo and make check")
# maps every promise the demo checks (each `result ID` of demo/run, each DEMO-OK line of
# demo/guest/step.sh) to where make check checks the same, as FILE:TEXT. Fails when the demo
# gains a check the table does not map, the table names a demo check that is gone or a
# FILE:TEXT that is not there, demo/run waits for a DEMO-OK step.sh never prints, or a check
# shared by construction (tests/e2e/guest/checks.sh, the shared part of tests/e2e/lib/e2e.sh)
# is no longer called by both the demo and an e2e test. No guest, no build.
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/tests/lib/ktap.sh"
cd "$TOP" || exit 1

ktap_begin 8
readme=tests/README.md
run=demo/run
step=demo/guest/step.sh

# the table's rows: "DEMO-CHECK<TAB>MAKE-CHECK-CELL"
rows=$(sed -n '/^## `make demo` and `make check`/,/^## /p' "$readme" |
	sed -n 's/^| `\(result [a-z0-9-]*\|DEMO-OK [a-z0-9-]*\)` | \(.*\) | [^|]* |$/\1\t\2/p')
n=$(grep -c . <<<"$rows")
ktap_result "tests/README.md has the table of the demo's checks ($n rows)" "$([ "$n" -ge 10 ]; echo $?)"

# what the demo checks (comments left out)
code() { grep -v '^[[:space:]]*#' "$1"; }
demo_checks=$( {
	code "$run" | sed -nE 's/^[[:space:]]*result ([a-z0-9-]+) .*/result \1/p'
	code "$step" | sed -nE 's/^[[:space:]]*check ([a-z0-9-]+) .*/DEMO-OK \1/p'
	code "$step" | grep -oE 'echo "DEMO-OK [a-z0-9-]+"' | sed 's/^echo "//; s/"$//'
} | sort -u)
mapped=$(cut -f1 <<<"$rows" | sort -u)

missing=$(comm -23 <(grep '^result' <<<"$demo_checks") <(echo "$mapped"))
ktap_same "every result of demo/run is in the table" "${missing:-none}" none
missing=$(comm -23 <(grep '^DEMO-OK' <<<"$demo_checks") <(echo "$mapped"))
ktap_same "every DEMO-OK check of demo/guest/step.sh is in the table" "${missing:-none}" none
stale=$(comm -13 <(echo "$demo_checks") <(echo "$mapped"))
ktap_same "every demo check the table names is still one" "${stale:-none}" none

# the make-check side: each FILE:TEXT is there
bad="" empty=""
while IFS=$'\t' read -r check cell; do
	items=$(grep -oE '`[^`]+`' <<<"$cell" | sed 's/^`//; s/`$//' | grep -E '^[a-z][a-zA-Z0-9_./-]*:.')
	[ -n "$items" ] || empty+=" [$check]"
	while IFS= read -r item; do
		[ -n "$item" ] || continue
		file=${item%%:*} text=${item#*:}
		[ -f "$file" ] && grep -qF -- "$text" "$file" || bad+=" [$check: $item]"
	done <<<"$items"
done <<<"$rows"
ktap_same "every row names where make check checks it (FILE:TEXT)" "${empty:-none}" none
ktap_same "every FILE:TEXT the table names is there" "${bad:-none}" none

# the DEMO-OK lines demo/run waits for are ones step.sh prints
printed=$(grep '^DEMO-OK' <<<"$demo_checks" | sort -u)
waited=$(code "$run" | grep -oE 'DEMO-OK [a-z0-9-]+' | sort -u)
missing=$(comm -23 <(echo "$waited") <(echo "$printed"))
ktap_same "every DEMO-OK demo/run waits for is printed by demo/guest/step.sh" "${missing:-none}" none

# same by construction: each shared check is called by the demo and by an e2e test
shared=$( {
	sed -nE 's/^(check_[a-z0-9_]+)\(\)$/\1/p' tests/e2e/guest/checks.sh
	sed -n '/^# Host-side checks the e2e files share with make demo/,/^# -----/p' tests/e2e/lib/e2e.sh |
		sed -nE 's/^([a-z0-9_]+)\(\)$/\1/p; s/^([A-Z0-9_]+)=.*/\1/p'
} )
bad=""
for fn in $shared; do
	demo_uses=$( { code "$run"; code "$step"; } | grep -cw -- "$fn")
	e2e_uses=0
	for f in tests/e2e/*.sh tests/e2e/guest/*.sh; do
		[ "$f" = tests/e2e/guest/checks.sh ] && continue
		code "$f" | grep -qw -- "$fn" && e2e_uses=$((e2e_uses + 1))
	done
	[ "$demo_uses" -gt 0 ] && [ "$e2e_uses" -gt 0 ] || bad+=" $fn(demo:$demo_uses,e2e:$e2e_uses)"
done
[ "$(wc -w <<<"$shared")" -ge 7 ] || bad+=" (only $(wc -w <<<"$shared") shared checks found: $shared)"
ktap_same "every shared check ($(echo $shared)) is called by the demo and by an e2e test" "${bad:-none}" none

ktap_end
