# SPDX-License-Identifier: GPL-2.0
# The problems in a kernel log that fail a test, one line each (the guest watchdog policy,
# tests/README.md "Soft lockups"). Reads console logs or dmesg output, with or without
# "[ 12.345678] " timestamps.
#
#   awk -f kernel-log-problems.awk LOG...
#
# Prints "problem: LINE" for each oops, BUG, WARNING, hung task, ... and for each stall
# report (a soft lockup, an RCU CPU stall) whose stacks have a dm-seal frame. A stall report
# without one is printed as "host-judged: K CPU SECONDS LINE", K counting every stall report
# of the log (SECONDS is "-" for an RCU stall, whose length is in jiffies): under TCG a vCPU
# thread the host did not run for that long is reported exactly so, and only the host can tell
# (tests/lib/vcpu-watch.py); in-guest checks ignore these lines, the runners weigh them
# against what the host measured. A stall report without a dm-seal frame whose stacks run in
# 9p (the file system through which the test harness gives each guest the host's root; the
# product never uses it) is printed as "excused: LINE (...)": a page clear under TCG inside
# 9p's readdir buffer allocation has locked a CPU for minutes while the host ran it.
function flush_lockup()
{
	if (lockup == "")
		return
	if (lockup_ours)
		print "problem: " lockup " (dm-seal frame in its stack)"
	else if (lockup_9p)
		print "excused: " lockup " (no dm-seal frame; its stack is in 9p, the test harness's root file system)"
	else
		print "host-judged: " lockups " " lockup_cpu " " lockup_secs " " lockup
	lockup = ""
	rcu_stall = 0
}

# The lines an RCU stall report is made of: its own "rcu:" lines, the stacks and registers it
# dumps for every CPU, the NMI backtrace banners. The first other line ends it.
function rcu_report_line(m)
{
	return m ~ /^rcu: / || m ~ /^[[:space:]]/ || m ~ /^\((t=|detected by)/ ||
		m ~ /^(Call Trace:|<\/?(TASK|IRQ|NMI|EOI)>|task:|CPU: |Hardware name:|Modules linked in:|Workqueue: |Sending NMI|NMI backtrace|INFO: NMI handler|Code: |RIP: |PKRU: )/ ||
		m ~ /^[A-Z][A-Z0-9][A-Z0-9]?[A-Z0-9]?: +[0-9a-f]/
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
	lockup_9p = 0
	lockup_cpu = msg
	sub(/.*CPU#/, "", lockup_cpu)
	sub(/[^0-9].*/, "", lockup_cpu)
	lockup_secs = msg
	sub(/.* stuck for /, "", lockup_secs)
	sub(/s!.*/, "", lockup_secs)
	next
}

/rcu: INFO: rcu_[a-z]+ (self-)?detected stalls? on CPU/ {
	flush_lockup()
	lockups++
	lockup = msg
	lockup_ours = 0
	lockup_9p = 0
	lockup_cpu = "?"
	lockup_secs = "-"
	rcu_stall = 1
	next
}

# Inside an RCU stall report: the first CPU it names as stalled, the stacks it dumps.
rcu_stall {
	if (!rcu_report_line(msg)) {
		flush_lockup()
	} else {
		if (lockup_cpu == "?" && msg ~ /^rcu:[[:space:]]+[0-9]+-/) {
			lockup_cpu = msg
			sub(/^rcu:[[:space:]]+/, "", lockup_cpu)
			sub(/-.*/, "", lockup_cpu)
		}
		# no stalled CPU named: the grace-period kthread starved on ->cpu=N
		if (lockup_cpu == "?" && msg ~ /kthread starved for [0-9]+ jiffies!.*->cpu=[0-9]+/) {
			lockup_cpu = msg
			sub(/.*->cpu=/, "", lockup_cpu)
			sub(/[^0-9].*/, "", lockup_cpu)
		}
		if (msg ~ /\[dm_seal\]/)
			lockup_ours = 1
		if (msg ~ /\[9p(net[a-z_]*)?\]/)
			lockup_9p = 1
		next
	}
}

# Inside a soft-lockup report: its registers and stack, up to the end of the task's trace.
lockup != "" {
	if (msg ~ /\[dm_seal\]/)
		lockup_ours = 1
	if (msg ~ /\[9p(net[a-z_]*)?\]/)
		lockup_9p = 1
	if (msg ~ /<\/TASK>/) {
		flush_lockup()
		next
	}
	if (msg !~ /BUG:|Oops|WARNING:|Kernel panic|general protection fault|UBSAN:|KASAN:|blocked for more than/)
		next
	flush_lockup()
}

/BUG:|Oops|WARNING:|Kernel panic|general protection fault|kernel BUG at|UBSAN:|KASAN:|blocked for more than|page allocation failure|refcount_t:|list_(add|del) corruption/ {
	print "problem: " msg
}

END {
	flush_lockup()
}
