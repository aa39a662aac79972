# SPDX-License-Identifier: GPL-2.0
# The one watchdog policy of every test guest (tests/vm/run, the e2e boots, the demo, the
# bench); the rule is written out in tests/README.md, "Soft lockups". Sourced on the host.
#
#   qemu+=("${GUEST_QEMU_WATCH_ARGS[@]}"); append+=" $GUEST_WATCHDOG_QUIET_CMDLINE"
#   guest_watch_start QEMU_PID SERIAL_LOG VERDICTS   # background; ends with QEMU
#   guest_watch_wait                                  # after QEMU has exited
#   guest_kernel_problems VERDICTS SERIAL_LOG [DMESG] # "problem: ..." / "excused: ..." lines

_guest_watchdog_lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# A soft lockup is reported after 2 x watchdog_thresh seconds without the CPU scheduling:
# 60 s, three times the default. It stays a report, not a panic: the runner judges it.
# An RCU CPU stall is reported after the same 60 s (21 s by default): a vCPU the host does not
# run stalls RCU as surely as it trips the soft-lockup watchdog, and is judged the same way.
# no_timer_check: a starved TCG vCPU fails the IO-APIC timer check at boot (a panic).
# quiet loglevel=5: the console, a UART emulated one byte at a time, gets the warnings and
# worse (a report's stack is KERN_WARNING), not the boot's ~350 info lines: 1.5 s less per
# boot under TCG. The whole log still reaches the verdict through dmesg.
GUEST_WATCHDOG_CMDLINE="watchdog_thresh=30 rcupdate.rcu_cpu_stall_timeout=60 no_timer_check"
GUEST_WATCHDOG_QUIET_CMDLINE="$GUEST_WATCHDOG_CMDLINE quiet loglevel=5"
# vCPU threads named "CPU N/TCG", so that the host can tell how long it ran each.
GUEST_QEMU_WATCH_ARGS=(-name debug-threads=on)
# The TCG vCPU: "max" without ERMS/FSRM. With them the guest clears and copies pages with
# "rep stosb"/"rep movsb", which QEMU 7.2's TCG runs one byte per translation-block exit; on
# a loaded host a single page clear then took tens of seconds (every soft lockup CI saw was
# in clear_page_erms: seal-parallel's fio, udevd and python3 reading 9p directories at
# boot). Without them the kernel uses "rep stosq" and unrolled copies: 128 MiB of page
# faults in a guest beside stress-ng --cpu 2 took 0.35 s instead of 2.6 s.
GUEST_TCG_ACCEL=(-accel tcg,thread=multi -cpu max,-erms,-fsrm)

GUEST_WATCH_PID=
guest_watch_start()
{
	python3 "$_guest_watchdog_lib/vcpu-watch.py" "$1" "$2" "$3" </dev/null &
	GUEST_WATCH_PID=$!
}

guest_watch_wait()
{
	[ -n "$GUEST_WATCH_PID" ] && wait "$GUEST_WATCH_PID" 2>/dev/null
	GUEST_WATCH_PID=
}

# guest_kernel_problems VERDICTS SERIAL_LOG [DMESG]: every problem in the guest's kernel
# log, one line each, "problem: ..." when it fails the test and "excused: ..." when it is a
# stall report (soft lockup, RCU CPU stall) without a dm-seal frame while the host ran that
# vCPU for less than half of the reported time, or whose stacks are in the harness's 9p root. Stalls are judged from SERIAL_LOG, in the
# order the host saw them; DMESG adds what the console may have missed.
guest_kernel_problems()
{
	local verdicts=$1 serial=$2 dmesg=${3:-}
	{
		awk -f "$_guest_watchdog_lib/kernel-log-problems.awk" "$serial" 2>/dev/null |
			awk -v verdicts="$verdicts" '
			BEGIN {
				while ((getline v < verdicts) > 0)
					verdict[++k] = v
			}
			/^host-judged: / {
				split(verdict[$2], f, " ")
				line = $0
				sub(/^host-judged: [0-9]+ [0-9?]+ [0-9-]+ /, "", line)
				# an RCU stall ($4 "-") is as long as the host measured it
				measured = f[1] == "cpu" && f[2] == $3 && ($4 == "-" || f[4] == $4) &&
					f[5] == "ran"
				if (measured && f[6] + 0 < f[4] / 2)
					print "excused: " line " (the host ran vCPU " f[2] \
						" for " f[6] " s of the " f[4] " s, kept it waiting " f[8] " s)"
				else if (measured)
					print "problem: " line " (the host ran vCPU " f[2] \
						" for " f[6] " s of the " f[4] " s)"
				else
					print "problem: " line " (no host measurement of the vCPU)"
				next
			}
			{ print }'
		[ -n "$dmesg" ] && [ -f "$dmesg" ] &&
			awk -f "$_guest_watchdog_lib/kernel-log-problems.awk" "$dmesg" | grep '^problem: '
	} | awk '!seen[$0]++'
}
