#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The guest runner itself: exit statuses pass through; a timeout, a crashed guest and a
# kernel WARNING are failures, and so is a soft lockup in dm-seal, while one the host caused
# by not running the guest is not (the watchdog policy, tests/lib/guest-watchdog.sh); disks, TPM and the out directory arrive; nothing is left
# running or lying in the temp directory afterwards.
# timeout: 1800
# (10 guest boots and 5 crashed ones, each bounded by its own --timeout; 900 s, the default, was too little at
# host load 22: a clean-clone run timed out after the 10th while the host was that busy.)
. "$SEAL_ROOT/tests/lib/ktap.sh"
run=$SEAL_ROOT/tests/vm/run
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export TMPDIR=$tmp/vmtmp
mkdir -p "$TMPDIR"

# expect_status NAME WANT RUNNER-ARGS...
expect_status()
{
	local name=$1 want=$2 got
	shift 2
	"$run" "$@" >"$tmp/out" 2>&1
	got=$?
	[ "$got" = "$want" ] || ktap_diag "$name: runner exited $got, wanted $want" "$(tail -5 "$tmp/out")"
	ktap_result "$name" $([ "$got" = "$want" ]; echo $?)
}

ktap_begin 18
expect_status "a passing command exits 0" 0 -- true
expect_status "a hung guest is killed at its timeout" 124 --timeout 20 -- sleep 600
expect_status "a crashed guest kernel is a failure" 121 -- sh -c 'echo c > /proc/sysrq-trigger'
# A kernel that panics while booting, before the command began, is booted again (at most
# three boots in all), and the runner says so.
SEAL_VM_CRASH_BOOTS=1 expect_status "a guest that crashed while booting is booted again" 0 -- true
ktap_check "the runner says the guest crashed before the command began" \
	grep -q "crashed while booting, before the command began (.*sysrq triggered crash.*); booting again" "$tmp/out"
SEAL_VM_CRASH_BOOTS=3 expect_status "a guest that crashes at every boot is a failure after three" 121 -- true
ktap_same "three boots were tried" "$(grep -c 'booting again' "$tmp/out")" 2
expect_status "a WARNING in the kernel log fails a passing command" 125 \
	-- sh -c 'echo "WARNING: CPU: 0 PID: 1 at test" > /dev/kmsg'

# A report as the kernel prints it, with a dm-seal function in the stack; the guest idles, so
# the host ran its vCPU for a fraction of the "stuck" time, and still the report counts.
expect_status "a soft lockup with a dm-seal frame in its stack fails a passing command" 125 \
	-- sh -c 'for l in "watchdog: BUG: soft lockup - CPU#0 stuck for 23s! [fio:475]" \
		"Call Trace:" " <TASK>" " seal_map+0x55/0x120 [dm_seal]" " </TASK>"; do
		echo "$l" > /dev/kmsg; done'

# A real soft lockup the host made: QEMU stopped (SIGSTOP) for 14 s while the guest waits on
# the hook, at a 10 s threshold (not longer: the guest's HPET clocksource cannot see a jump of
# more than ~21 s). A CPU busy with a user loop reports it when it runs again (an idle one
# would not: its wake-up touches the watchdog); the host ran it for none of it. The run
# passes and says what it did not count.
cat > "$tmp/freeze" <<'HOOK'
#!/bin/sh
kill -STOP "$SEAL_VM_QEMU_PID" && sleep 14 && kill -CONT "$SEAL_VM_QEMU_PID"
HOOK
chmod +x "$tmp/freeze"
expect_status "a soft lockup while the host did not run the guest does not fail it" 0 \
	--append watchdog_thresh=5 --host-hook "$tmp/freeze" \
	-- bash -c '. "$SEAL_ROOT/tests/lib/guest.sh"
		taskset -c 1 sh -c ": > /run/busy; while :; do :; done" & busy=$!
		while [ ! -e /run/busy ]; do sleep 0.2; done; sleep 1
		host_hook; rc=$?; sleep 2; kill $busy; trap - EXIT; exit $rc'
ktap_check "the runner says which soft lockup it did not count and why" \
	grep -qE "^vm: not counted, host starvation: .*soft lockup - CPU#[0-9]+ stuck for [0-9]+s!.*the host ran vCPU" "$tmp/out"

# One guest with every attachment; it records what it found and exits 7, so that one boot
# also shows that a command's status passes through.
truncate -s 48M "$tmp/disk"
cat > "$tmp/hook" <<'HOOK'
#!/bin/sh
echo "got $* qmp=$(test -S "$SEAL_VM_QMP" && echo yes)"
exit 3
HOOK
chmod +x "$tmp/hook"
expect_status "a command's exit status passes through" 7 \
	--disk "$tmp/disk" --tpm --out "$tmp/res" --host-hook "$tmp/hook" \
	-- bash -c '. "$SEAL_ROOT/tests/lib/guest.sh"; trap - EXIT
		blockdev --getsize64 /dev/vda > "$SEAL_VM_OUT/disk-size"
		test -c /dev/tpmrm0 && echo yes > "$SEAL_VM_OUT/tpm"
		out=$(host_hook a b); echo "$out rc=$?" > "$SEAL_VM_OUT/hook"
		echo hello > "$SEAL_VM_OUT/x"
		echo /bin/false > /run/seal-vm/next-init
		exit 7'
ktap_same "an extra disk appears as /dev/vda with its size" "$(cat "$tmp/res/disk-size" 2>/dev/null)" 50331648
ktap_same "--tpm gives the guest a TPM2" "$(cat "$tmp/res/tpm" 2>/dev/null)" yes
ktap_same "--out carries files back to the host" "$(cat "$tmp/res/x" 2>/dev/null)" hello
ktap_same "a host hook runs on the host with the guest's arguments and QMP socket" \
	"$(cat "$tmp/res/hook" 2>/dev/null)" "got a b qmp=yes rc=3"

# A command that passed and left /run/seal-vm/next-init hands PID 1 to that program, whose
# status file is the run's (the one above exited 7: its next-init, which would have crashed
# the guest, was not run).
expect_status "a command that passed hands PID 1 on to its next-init, which reports the status" 6 \
	-- sh -c 'printf "#!/bin/sh\n[ \$\$ = 1 ] && echo 6 > /run/seal-vm/status\nsync\nexec /bin/busybox poweroff -f\n" \
		> /run/next-init && chmod +x /run/next-init && echo /run/next-init > /run/seal-vm/next-init'

left=$(pgrep -af "qemu-system|swtpm" | grep -F "$TMPDIR"; ls "$TMPDIR")
[ -z "$left" ] || ktap_diag "left behind: $left"
ktap_result "no qemu, swtpm or temp files left behind" $([ -z "$left" ]; echo $?)
ktap_end
