# SPDX-License-Identifier: GPL-2.0
# Measuring the kernel from a guest test with bpftrace (Debian's; the guest sees the host's):
# the probes attach before the command starts and are read after it ends.
#
#   out=$(bpf_around 'kprobe:f { @n = count(); }' CMD...)   # bpftrace's output; CMD's dropped
#   n=$(bpf_count FUNCTION CMD...)                          # calls of FUNCTION during CMD
# Both print nothing, and say why on stderr, when bpftrace did not attach.

bpf_around()
{
	local prog=$1 out pid
	shift
	# bpftrace finds tracepoints in tracefs, which the test guest does not mount itself.
	mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing
	out=$(mktemp /run/bpf.XXXXXX)
	bpftrace -e "$prog" > "$out" 2>&1 &
	pid=$!
	# Compiling the program takes seconds under TCG.
	for _ in $(seq 1200); do
		grep -q '^Attaching' "$out" && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q '^Attaching' "$out"; then
		kill $pid 2>/dev/null
		echo "bpftrace did not attach: $(head -c 500 "$out")" >&2
		rm -f "$out"
		return 1
	fi
	"$@" >/dev/null 2>&1
	kill -INT $pid
	wait $pid
	grep -v '^Attaching' "$out"
	rm -f "$out"
}

bpf_count()
{
	local func=$1
	shift
	bpf_around "kprobe:$func { @n = count(); }" "$@" | sed -n 's/^@n: //p'
}
