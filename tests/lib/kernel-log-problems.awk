# SPDX-License-Identifier: GPL-2.0
# The problems in a kernel log that fail a test, one line each (the guest watchdog policy,
# tests/README.md "Soft lockups"). Reads console logs or dmesg output, with or without
# "[ 12.345678] " timestamps.
#
#   awk -f kernel-log-problems.awk LOG...
#
# Prints "problem: LINE" for each oops, BUG, WARNING, hung task, ... and for each soft-lockup
# report whose stack has a dm-seal frame. A soft-lockup report without one is printed as
# "host-judged: K CPU SECONDS LINE", K counting every soft-lockup report of the log: under TCG a vCPU thread the host did not run for that long
# is reported exactly so, and only the host can tell (tests/lib/vcpu-watch.py); in-guest
# checks ignore these lines, the runners weigh them against what the host measured.
function flush_lockup()
{
	if (lockup == "")
		return
	if (lockup_ours)
		print "problem: " lockup " (dm-seal frame in its stack)"
	else
		print "host-judged: " lockups " " lockup_cpu " " lockup_secs " " lockup
	lockup = ""
}

{
	line = $0
	sub(/\r$/, "", line)
	msg = line
	sub(/^<[0-9]+>/, "", msg)
	sub(/^\[ *[0-9]+\.[0-9]+\] /, "", msg)
}

/soft lockup - CPU#[0-9]+ stuck for [0-9]+s!/ {
	flush_lockup()
	lockups++
	lockup = msg
	lockup_ours = 0
	lockup_cpu = msg
	sub(/.*CPU#/, "", lockup_cpu)
	sub(/[^0-9].*/, "", lockup_cpu)
	lockup_secs = msg
	sub(/.* stuck for /, "", lockup_secs)
	sub(/s!.*/, "", lockup_secs)
	next
}

# Inside a soft-lockup report: its registers and stack, up to the end of the task's trace.
lockup != "" {
	if (msg ~ /\[dm_seal\]/)
		lockup_ours = 1
	if (msg ~ /<\/TASK>/) {
		flush_lockup()
		next
	}
	if (msg !~ /BUG:|Oops|WARNING:|Kernel panic|general protection fault|UBSAN:|KASAN:|blocked for more than/)
		next
	flush_lockup()
}

/BUG:|Oops|WARNING:|Kernel panic|general protection fault|kernel BUG at|UBSAN:|KASAN:|blocked for more than/ {
	print "problem: " msg
}

END {
	flush_lockup()
}
