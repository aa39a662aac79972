# SPDX-License-Identifier: GPL-2.0
# Helpers for tests that run inside a test guest (tests/vm/run); source after ktap.sh.
# Every device a test creates is registered here and removed on exit, pass or fail.

GUEST_DM_NAMES=
GUEST_CLEANUPS=

guest_cleanup()
{
	local name
	for name in $GUEST_DM_NAMES; do
		dmsetup remove --retry "$name" >/dev/null 2>&1
	done
	eval "$GUEST_CLEANUPS"
}
trap guest_cleanup EXIT

# dm_track NAME: remove the dm device NAME when the test exits.
dm_track() { GUEST_DM_NAMES="$1 $GUEST_DM_NAMES"; }

# seal_mapped NAME: /dev/mapper/NAME is a block device whose table is the seal target. Check
# it before I/O: when a table is refused, dd and fio write a regular file at that path
# instead (tmpfs takes O_DIRECT on 6.12) and would "pass".
seal_mapped()
{
	[ -b "/dev/mapper/$1" ] &&
		[ "$(dmsetup table "$1" 2>/dev/null | awk 'NR == 1 { print $3 }')" = seal ] ||
		{ echo "/dev/mapper/$1 is not a seal mapping" >&2; return 1; }
}

# same_ciphertext NAME A B BYTES: the test passes when the raw dumps A and B are each
# BYTES long, not all zeros, and equal. Two empty or two zeroed dumps (a read that failed,
# a write that never reached the disk) are not "the same ciphertext".
same_ciphertext()
{
	local sa sb
	sa=$(stat -c %s "$2" 2>/dev/null) sb=$(stat -c %s "$3" 2>/dev/null)
	if [ "$sa" != "$4" ] || [ "$sb" != "$4" ]; then
		ktap_fail "$1" "the dumps are '$sa' and '$sb' bytes long, want $4"
	elif cmp -s -n "$4" "$2" /dev/zero; then
		ktap_fail "$1" "the dump is all zeros"
	else
		ktap_check "$1" cmp "$2" "$3"
	fi
}

# on_exit CMD: run CMD (a shell string) when the test exits.
on_exit() { GUEST_CLEANUPS="$1; $GUEST_CLEANUPS"; }

# ramdisk MIB: load brd with one RAM disk of MIB MiB; prints its path.
ramdisk()
{
	modprobe brd rd_nr=1 rd_size=$(($1 * 1024)) max_part=0 || return 1
	echo /dev/ram0
}

# random_hex BYTES: that many random bytes as hex (a test key; never a real one).
random_hex() { head -c "$1" /dev/urandom | od -An -v -tx1 | tr -d ' \n'; }

# seal_module_path: the dm-seal.ko built for the running kernel.
seal_module_path() { echo "$SEAL_BUILD/kernel/$(uname -r)/dm-seal.ko"; }

# load_seal: load dm-seal.ko (and dm-mod) unless the seal target is already there.
load_seal()
{
	dmsetup targets 2>/dev/null | grep -q '^seal ' && return 0
	modprobe dm-mod && modprobe xts && insmod "$(seal_module_path)"
}

# table_refused NAME TABLE MESSAGE: creating a device with TABLE must fail, the kernel must
# log "seal: MESSAGE" for it (ti->error), and no device may be left behind. Test result NAME.
table_refused()
{
	local name=$1 table=$2 message=$3 before out rc=0
	before=$(dmesg | wc -l)
	if out=$(dmsetup create refused --table "$table" 2>&1); then
		ktap_diag "$name: the table was accepted: $table"
		dmsetup remove refused >/dev/null 2>&1
		rc=1
	elif ! dmesg | tail -n +$((before + 1)) | grep -qF "seal: $message"; then
		ktap_diag "$name: wanted 'seal: $message' in dmesg; got:" \
			"$(dmesg | tail -n +$((before + 1)) | tail -3)" "$out"
		rc=1
	elif dmsetup info refused >/dev/null 2>&1; then
		ktap_diag "$name: a device was left behind"
		dmsetup remove refused >/dev/null 2>&1
		rc=1
	fi
	ktap_result "$name" $rc
}

# host_hook ARGS...: run the runner's --host-hook command on the host with ARGS (one line,
# no spaces inside an argument) while this guest waits; prints its output, returns its
# status. The hook finds the QMP socket in $SEAL_VM_QMP, e.g. to dump this guest's memory.
host_hook()
{
	local dir=/run/seal-vm/hook i
	rm -f "$dir/done" "$dir/reply"
	echo "$*" > "$dir/request.tmp"
	mv "$dir/request.tmp" "$dir/request"
	for i in $(seq 6000); do
		[ -f "$dir/done" ] && break
		sleep 0.1
	done
	[ -f "$dir/done" ] || { echo "host hook did not answer" >&2; return 124; }
	cat "$dir/reply"
	return "$(cat "$dir/done")"
}
