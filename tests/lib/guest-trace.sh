# SPDX-License-Identifier: GPL-2.0
# Measuring the kernel from a guest test with bpftrace (Debian's; the guest sees the host's):
# the probes attach before the command starts and are read after it ends.
#
#   out=$(bpf_around PROG 'MAP...' CMD...)   # what PROG printed, then each MAP; CMD's output
#                                             # is dropped
#   n=$(bpf_count FUNCTION CMD...)            # calls of FUNCTION during CMD
# Both print nothing, and say why on stderr, when bpftrace did not attach, CMD did not end
# within BPF_CMD_TIMEOUT seconds (300), or the results were not read back; then the blocked
# tasks are in the kernel log.
#
# Why the results are asked for rather than printed at exit: bpftrace 0.17 prints its maps
# only after it has detached every probe, and under TCG on a loaded host detaching a kprobe
# (an ftrace update and an RCU-tasks grace period) took more than a minute: a CI run lost
# its counts that way. So a marker probe prints the maps while everything is still attached
# (a kill(2) of signal 0 to a pid that cannot exist), and bpftrace is then killed and left
# to detach and exit in the background; the next bpf_around waits for that first.
#
# bpftrace prints "Attaching N probes" before it attaches them: under TCG a command
# started on that line ran before its kprobe existed and was counted as 0 calls. BEGIN
# fires only after every probe is attached, so its line is the one waited for.

BPF_MARK_PID=2147483647

# bpf_wait_line FILE PATTERN PID SECONDS: wait until FILE has a line matching PATTERN.
bpf_wait_line()
{
	local i
	for ((i = 0; i < $4 * 10; i++)); do
		grep -q "$2" "$1" && return 0
		kill -0 "$3" 2>/dev/null || break
		sleep 0.1
	done
	grep -q "$2" "$1"
}

# bpf_reap: an earlier bpftrace still exiting would slow this one's attach (bpf_around runs
# in a command substitution, so it is found by name): wait for it, two minutes of the clock
# at most (a count of polls is no bound under TCG, where each pgrep takes a second).
bpf_reap()
{
	local end=$((SECONDS + 120))
	while pgrep -x bpftrace >/dev/null && [ $SECONDS -lt $end ]; do
		sleep 0.2
	done
	return 0
}

bpf_around()
{
	local prog=$1 maps=$2 report="" map out pid rc
	shift 2
	for map in $maps; do
		report+="print($map); "
	done
	bpf_reap
	# bpftrace finds tracepoints in tracefs, which the test guest does not mount itself.
	mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing
	out=$(mktemp /run/bpf.XXXXXX)
	bpftrace -B none -e "BEGIN { printf(\"bpf-ready\\n\"); } $prog
tracepoint:syscalls:sys_enter_kill /args->pid == $BPF_MARK_PID && args->sig == 0/ {
	$report printf(\"bpf-done\\n\"); }" > "$out" 2>&1 &
	pid=$!
	# Compiling the program takes seconds under TCG.
	if ! bpf_wait_line "$out" '^bpf-ready' $pid 120; then
		echo "bpftrace did not attach: $(head -c 500 "$out")" >&2
		kill $pid 2>/dev/null
		rm -f "$out"
		return 1
	fi
	timeout -k 5 "${BPF_CMD_TIMEOUT:-300}" "$@" >/dev/null 2>&1
	rc=$?
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		echo w > /proc/sysrq-trigger
		echo "did not end within ${BPF_CMD_TIMEOUT:-300} s: $*" >&2
		kill -INT $pid 2>/dev/null
		rm -f "$out"
		return 1
	fi
	kill -0 $BPF_MARK_PID 2>/dev/null
	if ! bpf_wait_line "$out" '^bpf-done' $pid 120; then
		echo "bpftrace did not report its maps: $(head -c 500 "$out")" >&2
		kill -INT $pid 2>/dev/null
		rm -f "$out"
		return 1
	fi
	# Its maps are read: nothing it would print at exit is wanted, and a SIGINT was seen to
	# leave it exiting for minutes.
	kill -KILL $pid 2>/dev/null
	sed -n '/^bpf-ready/,/^bpf-done/p' "$out" | grep -v -e '^bpf-ready' -e '^bpf-done' -e '^$'
	rm -f "$out"
}

bpf_count()
{
	local func=$1
	shift
	bpf_around "kprobe:$func { @n = count(); }" @n "$@" | sed -n 's/^@n: //p'
}
