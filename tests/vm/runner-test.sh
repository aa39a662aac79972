#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The guest runner itself: exit statuses pass through; a timeout, a crashed guest and a
# kernel WARNING are failures; disks, TPM and the out directory arrive; nothing is left
# running or lying in the temp directory afterwards.
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

ktap_begin 11
expect_status "a passing command exits 0" 0 -- true
expect_status "a command's exit status passes through" 7 -- sh -c 'exit 7'
expect_status "a hung guest is killed at its timeout" 124 --timeout 20 -- sleep 600
expect_status "a crashed guest kernel is a failure" 121 -- sh -c 'echo c > /proc/sysrq-trigger'
expect_status "a WARNING in the kernel log fails a passing command" 125 \
	-- sh -c 'echo "WARNING: CPU: 0 PID: 1 at test" > /dev/kmsg'

truncate -s 48M "$tmp/disk"
expect_status "an extra disk appears as /dev/vda with its size" 0 --disk "$tmp/disk" \
	-- sh -c '[ "$(blockdev --getsize64 /dev/vda)" = 50331648 ]'
expect_status "--tpm gives the guest a TPM2" 0 --tpm -- sh -c 'test -c /dev/tpmrm0'
expect_status "--out carries files back to the host" 0 --out "$tmp/res" \
	-- sh -c 'echo hello > "$SEAL_VM_OUT/x"'
ktap_check "the out file has what the guest wrote" grep -qx hello "$tmp/res/x"

cat > "$tmp/hook" <<'HOOK'
#!/bin/sh
echo "got $* qmp=$(test -S "$SEAL_VM_QMP" && echo yes)"
exit 3
HOOK
chmod +x "$tmp/hook"
expect_status "a host hook runs on the host with the guest's arguments and QMP socket" 0 \
	--host-hook "$tmp/hook" -- bash -c '. "$SEAL_ROOT/tests/lib/guest.sh"; out=$(host_hook a b); rc=$?; trap - EXIT; [ "$out" = "got a b qmp=yes" ] && [ $rc = 3 ]'

left=$(pgrep -af "qemu-system|swtpm" | grep -F "$TMPDIR"; ls "$TMPDIR")
[ -z "$left" ] || ktap_diag "left behind: $left"
ktap_result "no qemu, swtpm or temp files left behind" $([ -z "$left" ]; echo $?)
ktap_end
