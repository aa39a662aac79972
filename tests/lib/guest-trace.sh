# SPDX-License-Identifier: GPL-2.0
# Measuring the kernel from a guest test with bpftrace (Debian's; the guest sees the host's):
# the probes attach before the command starts and are read after it ends.
#
#   out=$(bpf_around 'kprobe:f { @n = count(); }' CMD...)   # bpftrace's output; CMD's dropped
#   n=$(bpf_count FUNCTION CMD...)                          # calls of FUNCTION during CMD
# Both print nothing, and say why on stderr, when bpftrace did not attach or CMD did not
# end within BPF_CMD_TIMEOUT seconds (300); then the blocked tasks are in the kernel log.
#
# bpftrace prints "Attaching N probes" before it attaches them: under TCG a command
# started on that line ran before its kprobe existed and was counted as 0 calls. BEGIN
# fires only after every probe is attached, so its line is the one waited for. (A SIGINT
# that reached bpftrace while it was still attaching is the likely cause of a CI run whose
# guest hung here for 25 minutes.)

# bpf_stop PID: bpftrace prints its maps and exits on SIGINT; one that has not within 60 s
# is killed (and its maps are lost: return 1) rather than left to hang the test.
bpf_stop()
{
	kill -INT "$1"
	for _ in $(seq 600); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$1" 2>/dev/null; then
		kill -KILL "$1"
		wait "$1"
		echo "bpftrace did not exit on SIGINT within 60 s" >&2
		return 1
	fi
	wait "$1"
}

bpf_around()
{
	local prog=$1 out pid rc
	shift
	# bpftrace finds tracepoints in tracefs, which the test guest does not mount itself.
	mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing
	out=$(mktemp /run/bpf.XXXXXX)
	bpftrace -B none -e "BEGIN { printf(\"bpf-ready\\n\"); } $prog" > "$out" 2>&1 &
	pid=$!
	# Compiling the program takes seconds under TCG.
	for _ in $(seq 1200); do
		grep -q '^bpf-ready' "$out" && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q '^bpf-ready' "$out"; then
		kill $pid 2>/dev/null
		echo "bpftrace did not attach: $(head -c 500 "$out")" >&2
		rm -f "$out"
		return 1
	fi
	timeout -k 5 "${BPF_CMD_TIMEOUT:-300}" "$@" >/dev/null 2>&1
	rc=$?
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		echo w > /proc/sysrq-trigger
		bpf_stop $pid
		echo "did not end within ${BPF_CMD_TIMEOUT:-300} s: $*" >&2
		rm -f "$out"
		return 1
	fi
	bpf_stop $pid || { rm -f "$out"; return 1; }
	grep -v -e '^Attaching' -e '^bpf-ready' "$out"
	rm -f "$out"
}

bpf_count()
{
	local func=$1
	shift
	bpf_around "kprobe:$func { @n = count(); }" "$@" | sed -n 's/^@n: //p'
}
