#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The watchdog policy's judgement (tests/lib/guest-watchdog.sh, tests/README.md "Soft
# lockups") on kernel logs as the guests print them and on what the host measured: a soft
# lockup with a dm-seal frame always counts; one without counts unless the host ran that vCPU
# for less than half of the reported time; no measurement counts; other problems count.
. "$SEAL_ROOT/tests/lib/ktap.sh"
. "$SEAL_ROOT/tests/lib/guest-watchdog.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# report FILE CPU SECS FRAME: a soft-lockup report as the console shows it
report()
{
	cat >> "$1" <<REPORT
[   41.000001] watchdog: BUG: soft lockup - CPU#$2 stuck for $3s! [fio:475]
[   41.000002] Modules linked in: dm_seal(OE) brd
[   41.000003] CPU: $2 PID: 475 Comm: fio Tainted: G           OE      6.12.117+deb12-amd64 #1
[   41.000004] RIP: 0010:clear_page_erms+0x7/0x10
[   41.000005] Call Trace:
[   41.000006]  <TASK>
[   41.000007]  $4
[   41.000008]  asm_exc_page_fault+0x26/0x30
[   41.000009]  </TASK>
REPORT
}

# judged NAME VERDICTS-LINES WANT-REGEX: the policy's lines for $tmp/log match WANT-REGEX
judged()
{
	printf '%s' "$2" > "$tmp/verdicts"
	got=$(guest_kernel_problems "$tmp/verdicts" "$tmp/log")
	if printf '%s\n' "$got" | grep -Eq -- "$3"; then
		ktap_pass "$1"
	else
		ktap_fail "$1" "got: $got"
	fi
}

ktap_begin 9
report "$tmp/log" 0 22 "clear_huge_page+0x10/0x20"
judged "a lockup outside dm-seal while the host ran the vCPU most of the time counts" \
	$'cpu 0 stuck 22 ran 15.0 waited 1.0\n' '^problem: .*CPU#0 stuck for 22s.*ran vCPU 0 for 15.0 s'
judged "a lockup outside dm-seal while the host ran the vCPU a fraction of it is excused" \
	$'cpu 0 stuck 22 ran 3.0 waited 15.0\n' '^excused: .*CPU#0 stuck for 22s.*ran vCPU 0 for 3.0 s'
judged "a lockup the host did not measure counts" "" '^problem: .*no host measurement'
judged "a verdict for another CPU is no measurement" \
	$'cpu 1 stuck 22 ran 0.0 waited 0.0\n' '^problem: .*no host measurement'

: > "$tmp/log"
report "$tmp/log" 1 30 "seal_convert_read+0x80/0x1a0 [dm_seal]"
report "$tmp/log" 0 22 "clear_huge_page+0x10/0x20"
judged "a lockup with a dm-seal frame counts however little the host ran the vCPU" \
	$'cpu 1 stuck 30 ran 0.1 waited 29.0\ncpu 0 stuck 22 ran 1.0 waited 20.0\n' \
	'^problem: .*CPU#1 stuck for 30s.*dm-seal frame'
judged "each report is paired with the host's verdict for it, in order" \
	$'cpu 1 stuck 30 ran 0.1 waited 29.0\ncpu 0 stuck 22 ran 1.0 waited 20.0\n' \
	'^excused: .*CPU#0 stuck for 22s.*ran vCPU 0 for 1.0 s'

printf '[    3.1] WARNING: CPU: 0 PID: 1 at drivers/md/dm.c:1 x\n' > "$tmp/log"
judged "a WARNING counts" "" '^problem: WARNING: CPU: 0'

# dmesg without timestamps, as in-guest checks read it: they see only the "problem:" lines
sed 's/^\[[^]]*\] //' > "$tmp/dmesg" <<'LOG'
[ 1.0] watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [fio:475]
[ 1.0] Call Trace:
[ 1.0]  <TASK>
[ 1.0]  clear_huge_page+0x10/0x20
[ 1.0]  </TASK>
LOG
got=$(awk -f "$SEAL_ROOT/tests/lib/kernel-log-problems.awk" "$tmp/dmesg")
ktap_same "in the guest, a lockup outside dm-seal is left to the host" \
	"$got" "host-judged: 1 0 22 watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [fio:475]"
sed -i 's/clear_huge_page+0x10\/0x20/seal_map+0x10\/0x20 [dm_seal]/' "$tmp/dmesg"
got=$(awk -f "$SEAL_ROOT/tests/lib/kernel-log-problems.awk" "$tmp/dmesg")
ktap_same "in the guest, a lockup in dm-seal is a problem" \
	"$got" "problem: watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [fio:475] (dm-seal frame in its stack)"
ktap_end
