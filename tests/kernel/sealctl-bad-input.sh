#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# sealctl open/close failures that need a kernel: the seal target missing, a name already
# in use (by a seal or another mapping), the device held exclusively so the table load
# fails, the keyring over quota, close of a busy, foreign or missing mapping, format of a
# device in use. Each case checks the one-line message, the exit code (sealctl(8)), that no
# mapping and no keyring key is left, and whether the TPM secret was unsealed (PCR 15). A
# failed open (the TPM refusing, a wrong key file) writes nothing: the LUKS2 header is
# byte-identical. status and open run under the process hygiene (section 8 says what it
# denies to whom): while each holds a secret, every mapping of it is mlock'ed and no process
# without CAP_SYS_PTRACE can ptrace it or read its memory.
# vm-options: --tpm --scratch 64
# vm-timeout: 900
# check-kernels: 6.1
. "$SEAL_ROOT/tests/lib/ktap.sh"
. "$SEAL_ROOT/tests/lib/guest.sh"
. "$SEAL_ROOT/tests/kernel/sealctl-common.sh"
HELD=$SEAL_ROOT/tests/lib/held-probe.py
NO_PTRACE=(setpriv --inh-caps=-sys_ptrace --bounding-set=-sys_ptrace)
AS_NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)

# control SETPRIV...: start a dumpable process (sleep) under the same setpriv as the sealctl
# to be held, as $ctl, for held-probe.py --control (section 8 says why).
control()
{
	"$@" sleep 60 &
	ctl=$!
	on_exit "kill $ctl 2>/dev/null"
	for _ in $(seq 100); do
		[ "$(cat "/proc/$ctl/comm" 2>/dev/null)" = sleep ] && return
		sleep 0.05
	done
}

# hygiene NAME OUT [locked]: the checks on the report OUT of held-probe.py, which held a
# sealctl while it waited with a secret or a table: the prober traces and reads the control
# $ctl, but cannot ptrace sealctl nor open its memory, and (locked) every mapping of sealctl
# is mlock'ed.
hygiene()
{
	kill "$ctl"
	wait "$ctl" 2>/dev/null
	ktap_diag "$1: $(grep -E '^(held:|control|probe) ' <<<"$2" | tr '\n' ' ')"
	ktap_same "$1: the control, a dumpable process, is traced and read" \
		"$(grep '^control ' <<<"$2" | tr '\n' ' ')" "control ptrace OK control mem OK "
	[ -z "${3:-}" ] || ktap_check "$1: every mapping of sealctl is mlock'ed (mlockall)" \
		grep -qE '^held: .* unlocked 0( |$)' <<<"$2"
	ktap_check "$1: ptrace attach is refused (EPERM)" grep -qx 'probe ptrace EPERM' <<<"$2"
	ktap_check "$1: /proc/PID/mem is refused (EACCES)" grep -qx 'probe mem EACCES' <<<"$2"
}

ktap_begin 60
dev=/dev/vda
printf 'right passphrase' > "$work/pass"
for n in v w z; do dm_track $n; done
modprobe dm-mod
modprobe xts
tpm_usable
ktap_check "format" "$SEALCTL" format "$dev" -d "$work/pass"
ktap_check "enroll tpm2" "$SEALCTL" enroll "$dev" tpm2 -d "$work/pass"
pcr15=$(pcr 15)

# pcr15_same NAME: nothing was unsealed, so PCR 15 still has its value.
# (a PCR 15 that cannot be read is not unchanged)
pcr15_same()
{
	local now
	if ! now=$(pcr 15) || [ -z "$pcr15" ]; then
		ktap_fail "$1: PCR 15 unchanged (nothing unsealed)" "tpm2_pcrread: before '$pcr15', now '$now'"
		return
	fi
	ktap_same "$1: PCR 15 unchanged (nothing unsealed)" "$now" "$pcr15"
}

# 1. No seal target in the kernel (dm-seal.ko not loaded).
before=$(mappings)
if dmsetup targets | grep -q '^seal '; then
	ktap_fail "the seal target is not loaded yet" "$(dmsetup targets)"
else
	ktap_expect "no seal target, key file: exit 19" 19 \
		"^sealctl: $dev: kernel has no seal target \(load dm-seal.ko\)$" \
		"$SEALCTL" open "$dev" v --no-tokens -d "$work/pass"
	nothing_left "no seal target" "$before" v
	pcr15_same "no seal target, key file"
fi

# The same with the TPM: the secret was unsealed, so PCR 15 is extended anyway (unseal once
# per boot holds on every path) and the TPM refuses a second unseal.
ktap_expect "no seal target, TPM unattended: exit 19" 19 \
	"^sealctl: $dev: kernel has no seal target \(load dm-seal.ko\)$" setsid -w "$SEALCTL" open "$dev" v
nothing_left "no seal target, TPM" "$before" v
if now=$(pcr 15) && [ -n "$pcr15" ] && [ "$now" != "$pcr15" ]; then
	ktap_pass "the unsealed secret was measured away (PCR 15 moved)"
else
	ktap_fail "the unsealed secret was measured away (PCR 15 moved)"
fi
load_seal || { ktap_fail "dm-seal.ko loads"; ktap_end; }
head -c 16M "$dev" > "$work/hdr" # the LUKS2 header: the data starts at 16 MiB
ktap_expect "after that, the TPM refuses: exit 12" 12 "PCR values differ from the sealed policy" \
	setsid -w "$SEALCTL" open "$dev" v
nothing_left "PCR mismatch" "$before"
printf 'wrong passphrase' > "$work/wrong"
ktap_expect "a wrong key file: exit 9" 9 "^sealctl: $dev: no keyslot accepts" \
	"$SEALCTL" open "$dev" v --no-tokens -d "$work/wrong"
nothing_left "wrong key file" "$before" v
ktap_check "after the failed opens the LUKS2 header (16 MiB) is byte-identical" \
	cmp -n $((16 << 20)) "$work/hdr" "$dev"

ktap_check "open with the key file" "$SEALCTL" open "$dev" v --no-tokens -d "$work/pass"
pcr15=$(pcr 15)

# 2. The name is in use: refused before anything is unlocked or unsealed.
before=$(mappings)
ktap_expect "name in use by a seal mapping: exit 8" 8 \
	"^sealctl: $dev: mapping name v is already in use$" \
	"$SEALCTL" open "$dev" v --no-tokens -d "$work/pass"
nothing_left "name in use" "$before"
ktap_expect "name in use, TPM unattended: exit 8" 8 \
	"^sealctl: $dev: mapping name v is already in use$" setsid -w "$SEALCTL" open "$dev" v
nothing_left "name in use, TPM" "$before"
pcr15_same "name in use, TPM"
dmsetup create z --table "0 8 zero"
before=$(mappings)
ktap_expect "name in use by another target: exit 8" 8 \
	"^sealctl: $dev: mapping name z is already in use$" \
	"$SEALCTL" open "$dev" z --no-tokens -d "$work/pass"
nothing_left "name in use by another target" "$before"
ktap_check "the other mapping is untouched" sh -c 'dmsetup table z | grep -q " zero"'
ktap_expect "close of another target's mapping is refused: exit 18" 18 \
	"^sealctl: z: not a seal mapping \(target zero\)$" "$SEALCTL" close z
ktap_check "it is still there" dmsetup info z
dmsetup remove z

# 3. close of a busy mapping, then of a missing one.
exec 4</dev/mapper/v
ktap_expect "close while open: exit 19" 19 "^sealctl: v: still in use \(mounted or open\)$" \
	"$SEALCTL" close v
ktap_check "the busy mapping stays" dmsetup info v
exec 4<&-
ktap_check "close" "$SEALCTL" close v
ktap_expect "close of a missing mapping: exit 3" 3 "^sealctl: v: no such mapping$" "$SEALCTL" close v
ktap_expect "invalid mapping name: exit 2" 2 "invalid mapping name 'a/b'" \
	"$SEALCTL" open "$dev" a/b --no-tokens -d "$work/pass"

# 4. The device is held exclusively: the kernel refuses the table.
before=$(mappings)
python3 -c 'import os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_EXCL)
open(sys.argv[2], "w").close()
time.sleep(120)' "$dev" "$work/held" &
holder=$!
for _ in $(seq 100); do [ -e "$work/held" ] && break; sleep 0.1; done
ktap_expect "device held exclusively, table refused: exit 19" 19 \
	"^sealctl: $dev: loading the seal table for w failed: Device or resource busy$" \
	"$SEALCTL" open "$dev" w --no-tokens -d "$work/pass"
nothing_left "table refused" "$before" w
kill "$holder"
wait "$holder" 2>/dev/null

# 5. The keyring is over quota: the key cannot be added.
read -r maxkeys < /proc/sys/kernel/keys/root_maxkeys
read -r maxbytes < /proc/sys/kernel/keys/root_maxbytes
on_exit "echo $maxkeys > /proc/sys/kernel/keys/root_maxkeys; echo $maxbytes > /proc/sys/kernel/keys/root_maxbytes"
used=$(awk '$1 == "0:" { split($4, a, "/"); print a[1] }' /proc/key-users)
echo "$used" > /proc/sys/kernel/keys/root_maxbytes
ktap_expect "keyring over quota: exit 20" 20 \
	"^sealctl: $dev: cannot add the key to the kernel keyring: Disk quota exceeded$" \
	"$SEALCTL" open "$dev" w --no-tokens -d "$work/pass"
echo "$maxbytes" > /proc/sys/kernel/keys/root_maxbytes
nothing_left "keyring over quota" "$before" w

# 6. status of a mapping of another target whose table carries its key (dm-crypt with a hex
# key, as plain mode, LUKS1 or --disable-keyring load it): refused, the key printed nowhere.
modprobe dm-crypt
hexkey=$(od -An -tx1 -N64 /dev/urandom | tr -d ' \n')
printf '0 2048 crypt aes-xts-plain64 %s 0 %s 0\n' "$hexkey" "$(cat /sys/block/vda/dev)" |
	dmsetup create z
ktap_check "a dm-crypt mapping with a hex key exists" sh -c "dmsetup table --target crypt z | grep -q crypt"
out=$("$SEALCTL" status z 2>&1; "$SEALCTL" status --json z 2>&1)
ktap_expect "status of a dm-crypt mapping: refused with one line (exit 18)" 18 \
	"^sealctl: z: not a seal mapping \(target crypt\)$" "$SEALCTL" status z
case $out in
*"$hexkey"* | *"${hexkey:0:32}"*) ktap_fail "status of a dm-crypt mapping prints no key" "$out" ;;
*) ktap_pass "status of a dm-crypt mapping prints no key" ;;
esac
# That table passes through status: held while it writes its refusal to a full pipe. By
# then its copy of the table (and the key in it) is wiped: root, who may read the memory of
# any process, finds no copy of the key, as hex or as bytes.
control "${NO_PTRACE[@]}"
printf '%s' "$hexkey" > "$work/hexkey"
out=$(python3 -S "$HELD" --as no-ptrace --control "$ctl" --search "$work/hexkey" pipe \
	"${NO_PTRACE[@]}" "$SEALCTL" status z)
ktap_same "status of a dm-crypt mapping, held at its output: exit 18" $? 18
ktap_same "... its copy of the table was wiped before it wrote: no copy of the key in it" \
	"$(grep '^held: copies' <<<"$out")" "held: copies 0"
hygiene "status of a dm-crypt mapping, held" "$out" locked
dmsetup remove z

# 7. format of a device in use: refused before any prompt, nothing written. A mounted file
# system (on the opened seal volume), and the seal volume's own device under that mapping.
ktap_check "open, mkfs.ext4 and mount" sh -c "'$SEALCTL' open '$dev' w --no-tokens -d '$work/pass' &&
	mkfs.ext4 -q /dev/mapper/w && mkdir -p '$work/mnt' && mount /dev/mapper/w '$work/mnt'"
on_exit "umount '$work/mnt' 2>/dev/null"
hdr_sum=$(head -c 16M "$dev" | sha256sum)
ktap_expect "format of a mounted file system: exit 22" 22 \
	"^sealctl: /dev/mapper/w: device is in use \(mounted, mapped or opened exclusively\); nothing was written$" \
	"$SEALCTL" format --force /dev/mapper/w -d "$work/pass"
ktap_expect "format of the device under an open mapping: exit 22" 22 \
	"^sealctl: $dev: device is in use \(mounted, mapped or opened exclusively\); nothing was written$" \
	"$SEALCTL" format --force "$dev" -d "$work/pass"
ktap_same "the LUKS2 header is byte-identical" "$(head -c 16M "$dev" | sha256sum)" "$hdr_sum"
umount "$work/mnt"
ktap_same "the file system is still ext4 (blkid)" "$(blkid -p -o value -s TYPE /dev/mapper/w)" ext4
ktap_check "... and fsck finds it clean" fsck.ext4 -n -f /dev/mapper/w
ktap_check "close" "$SEALCTL" close w

# 8. What the process hygiene denies. Before it touches a key or a table, sealctl makes itself
# non-dumpable (process_hygiene()); the kernel then refuses ptrace attach and /proc/PID/mem
# to every process without CAP_SYS_PTRACE (in sealctl's user namespace), whatever its uid:
#  - root without CAP_SYS_PTRACE (a service whose capabilities are bounded): refused. A
#    dumpable process whose capabilities are a subset of its own it traces and reads (the
#    control, started under the same setpriv as sealctl); so sealctl runs without
#    CAP_SYS_PTRACE here too, since else the capability check alone would refuse and the
#    test would prove nothing.
#  - a non-root user: refused for the sealctl that user runs (open --test-passphrase of an
#    image of theirs), which without the hygiene is theirs to trace (the control);
#    a sealctl run by root is refused to them by the uid check, dumpable or not.
#  - root with CAP_SYS_PTRACE (a full root shell): not refused, nor can sealctl refuse it
#    (such root may load a module); kernel.yama.ptrace_scope=3 refuses it ptrace too.
# Held while it waits for its key file on a FIFO (past the hygiene: the process stays
# non-dumpable to its end). The FIFOs and the image are in a directory the user can reach.
mkdir -m 755 "$work/user"
chmod 711 "$work"
control "${NO_PTRACE[@]}"
out=$(python3 -S "$HELD" --as no-ptrace --control "$ctl" fifo "$work/user/kf" "$work/pass" \
	"${NO_PTRACE[@]}" "$SEALCTL" open "$dev" w --no-tokens -d "$work/user/kf")
ktap_same "open with its key file on a FIFO, held at the read: exit 0" $? 0
hygiene "open, held" "$out" locked
ktap_check "close" "$SEALCTL" close w
cp "$work/hdr" "$work/user/image"
truncate -s 17M "$work/user/image"
chmod 644 "$work/user/image"
control "${AS_NOBODY[@]}"
out=$(python3 -S "$HELD" --as nobody --control "$ctl" fifo "$work/user/kf2" "$work/pass" \
	"${AS_NOBODY[@]}" "$SEALCTL" open --test-passphrase --no-tokens -d "$work/user/kf2" \
	"$work/user/image")
ktap_same "a user's open --test-passphrase of an image of theirs, held at the read: exit 0" $? 0
hygiene "a user's open --test-passphrase, held" "$out"

ktap_end
