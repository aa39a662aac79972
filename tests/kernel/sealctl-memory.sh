#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# No key material in the guest's RAM: QEMU dumps it (QMP dump-guest-memory) and the host
# byte-searches it (tests/lib/memdump-search.py). The tpm2 keyslot has a PIN. After a
# `sealctl open` through the TPM with the PIN typed at its prompt, once that process is
# gone, the TPM secret (the keyslot passphrase), the PIN and the PIN-derived TPM auth value
# have 0 hits in any form (raw, hex, HEX, base64), where a random marker in a tmpfs file is
# found (the control); after `close` the DEK and either XTS half have 0 hits, nor the
# others. That is what make check runs: two dumps. With SEAL_STRESS=1 (make stress) three
# more: the fresh guest before any open holds none of them; after an open with a typed
# passphrase and close neither; after `sealctl enroll tpm2 --pin` (the PIN typed twice) the
# PIN and the new token's auth value have 0 hits. (tpm2-tss keeps the sensitive area it
# sends with TPM2_Create in its context, freed with plain free(); in these runs later
# commands overwrite it first, so the counts stayed 0 with sealctl's heap wipe disabled
# too: tests/userspace/memory-residue.sh tests the wipe itself.) While sealctl waits at
# its prompt every mapping of it is locked (mlockall: nothing of it can be swapped) and a
# SIGQUIT dumps no core, where a shell under the same limits does. Hits for a typed
# passphrase are reported, not asserted.
#
# Enrolling needs the secrets in memory, and the test must know them: so it takes two fresh
# guests sharing a TPM state and a disk image. This file runs three ways:
#   (no argument)  the aggregator's guest: asks its host hook to run the two guests below
#                  and prints the second one's KTAP
#   setup          first guest: format, enroll tpm2 with a PIN, hand DEK, TPM secret, PIN
#                  and passphrase out through $SEAL_VM_OUT (the host derives the PIN's
#                  auth value for each token from the disk image)
#   search         second guest (never holds the secrets): open, close, dumps and counts
# By hand: tests/vm/run --host-hook tests/lib/memdump-search.py -- tests/kernel/sealctl-memory.sh
# (from the top of the checkout), or tests/lib/memdump-search.py two-boot KVER on the host.
# vm-options: --host-hook tests/lib/memdump-search.py --mem 256
# vm-timeout: 1300
# check-kernels: 6.1
. "$SEAL_ROOT/tests/lib/ktap.sh"
. "$SEAL_ROOT/tests/lib/guest.sh"

case "${1:-}" in
"")
	out=$(host_hook two-boot "$SEAL_KVER")
	rc=$?
	if [ -z "$out" ]; then
		ktap_begin 1
		ktap_fail "the host ran the two guests" "host hook exit $rc, no output"
		ktap_end
	fi
	printf '%s\n' "$out"
	exit "$rc"
	;;
setup|search) ;;
*) echo "usage: $0 [setup|search]" >&2; exit 2 ;;
esac

. "$SEAL_ROOT/tests/kernel/sealctl-common.sh"
dev=/dev/vda

if [ "$1" = setup ]; then
	ktap_begin 7
	tpm_usable
	head -c 18 /dev/urandom | base64 | tr -d '\n' > "$work/pass"
	head -c 9 /dev/urandom | base64 | tr -d '\n' > "$work/pin"
	ktap_check "format" "$SEALCTL" format "$dev" -d "$work/pass"
	ktap_check "enroll tpm2 with a PIN" "$SEALCTL" enroll "$dev" tpm2 -d "$work/pass" --pin \
		--pin-file "$work/pin"
	tpm=$("$TOOL" unseal-token "$dev" 0 "$work/pin" 2>&1)
	ktap_check "the test tool unseals the TPM secret (32 bytes) with the PIN" grep -qE '^[0-9a-f]{64}$' <<<"$tpm"
	ktap_check "base64 of it opens a keyslot" sh -c "python3 -c 'import base64,sys; sys.stdout.write(base64.b64encode(bytes.fromhex(sys.argv[1])).decode())' $tpm |
		cryptsetup open --test-passphrase --key-file - $dev"
	ktap_check "the token records a PIN" sh -c "cryptsetup luksDump --dump-json-metadata $dev |
		python3 -c 'import json,sys; sys.exit(not json.load(sys.stdin)[\"tokens\"][\"0\"][\"tpm2-pin\"])'"
	cryptsetup luksDump --dump-volume-key --batch-mode --key-file "$work/pass" \
		--volume-key-file "$work/dek" "$dev" >/dev/null 2>&1
	ktap_same "the DEK is 64 bytes" "$(stat -c %s "$work/dek" 2>/dev/null)" 64
	{
		echo "tpm-secret $tpm"
		echo "dek $(od -An -v -tx1 "$work/dek" | tr -d ' \n')"
		echo "passphrase $(od -An -v -tx1 "$work/pass" | tr -d ' \n')"
		echo "pin $(od -An -v -tx1 "$work/pin" | tr -d ' \n')"
	} > "$SEAL_VM_OUT/secrets"
	sync
	ktap_end
fi

# search: this guest never holds the secrets, only the passphrase and the PIN XOR-ed with 0x5a.
stress=${SEAL_STRESS:-}
ktap_begin $((stress ? 45 : 24))
load_seal || { ktap_fail "dm-seal.ko loads"; ktap_end; }
dm_track v
tpm_usable

# dump LABEL: dump and search this guest's RAM; the counts land in $counts.
dump()
{
	local start=$SECONDS
	counts=$(host_hook dump-and-search "$1" "$SEAL_MEM_PATTERNS")
	local rc=$?
	[ "$rc" = 0 ] || ktap_diag "dump $1: host hook exit $rc: $counts"
	ktap_diag "$1 ($((SECONDS - start)) s): $(awk '$1 != "dump" && $3 != 0 { printf "%s/%s=%s ", $1, $2, $3 }' <<<"$counts")" \
		"$(grep '^dump' <<<"$counts")"
}
# hits NAME [FORM...]: the hits for NAME in those forms (all forms if none given).
hits()
{
	local name=$1
	shift
	awk -v n="$name" -v f=" $* " '$1 == n && (f == "  " || index(f, " " $2 " ")) { s += $3 }
		END { print s + 0 }' <<<"$counts"
}
# zero NAME PATTERN [FORM...]: the test passes if PATTERN has 0 hits in the last dump.
zero()
{
	local name=$1 pattern=$2 h
	shift 2
	h=$(hits "$pattern" "$@")
	[ -n "$(grep "^$pattern " <<<"$counts")" ] || { ktap_fail "$name" "no counts for $pattern"; return; }
	ktap_same "$name" "$h" 0
}

# none NAME PATTERN: PATTERN has 0 hits in the last dump in every form.
none()
{
	zero "$1, raw" "$2" raw
	zero "$1, hex" "$2" hex HEX
	zero "$1, base64" "$2" base64
}

# drive VAR ACTION CMD...: run CMD on a pty. At its first prompt (output ending in ":",
# then quiet) ACTION is done:
#   type     type $VAR (hex, XOR 0x5a) and a newline, unmasking one byte at a time; so
#            at every later prompt
#   inspect  first print "inspect: " and CMD's memory-lock state from /proc, then type
#   quit     send CMD SIGQUIT, print "quit: core-dumped 0|1" from its wait status
# Prints CMD's output; exits with CMD's status (0 after quit).
# The bytes go into the terminal's input queue as a keyboard's do (TIOCSTI on the slave,
# as root), not through the pty master: its write buffer (tty->write_buf) keeps what was
# written unwiped, a copy a console keyboard never makes.
cat > "$work/drive.py" <<'PY'
import fcntl, importlib.util, os, select, signal, sys, termios, time
var, action = sys.argv[1], sys.argv[2]
masked = bytes.fromhex(os.environ.pop(var, ""))
master, slave = os.openpty()
pid = os.fork()
if pid == 0:
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    os.closerange(3, 256)
    os.execv(sys.argv[3], sys.argv[3:])

def inspect():
    status = dict(l.split(":", 1) for l in open(f"/proc/{pid}/status"))
    kb = lambda k: int(status[k].split()[0])
    spec = importlib.util.spec_from_file_location("held_probe", os.environ["HELD_PROBE"])
    held_probe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(held_probe)
    unlocked = held_probe.unlocked_mappings(pid)
    core = [l.split()[4] for l in open(f"/proc/{pid}/limits") if l.startswith("Max core")]
    print(f"inspect: VmLck {kb('VmLck')} VmSize {kb('VmSize')} VmRSS {kb('VmRSS')} "
          f"unlocked {len(unlocked)} core-limit {core[0]} {' '.join(unlocked[:8])}")

out, pending, deadline, status = b"", b"", time.time() + 60, None
while time.time() < deadline:
    ready, _, _ = select.select([master], [], [], 0.3)
    if not ready:
        if status is not None:
            break
        _, st = os.waitpid(pid, os.WNOHANG)
        if _:
            status = st
        elif pending.rstrip(b" ").endswith(b":") and action:
            if action == "quit":
                os.kill(pid, signal.SIGQUIT)
            else:
                if action == "inspect":
                    inspect()
                for b in masked:
                    fcntl.ioctl(slave, termios.TIOCSTI, bytes((b ^ 0x5A,)))
                fcntl.ioctl(slave, termios.TIOCSTI, b"\n")
            pending, action = b"", "" if action == "quit" else "type"
        continue
    try:
        data = os.read(master, 4096)
    except OSError:
        break
    if not data:
        break
    out += data
    pending += data
if status is None:
    _, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
if sys.argv[2] == "quit":
    print(f"quit: core-dumped {int(os.WIFSIGNALED(status) and os.WCOREDUMP(status))}")
    sys.exit(0)
sys.exit(os.waitstatus_to_exitcode(status))
PY
drive() { HELD_PROBE=$SEAL_ROOT/tests/lib/held-probe.py python3 "$work/drive.py" "$@" 2>&1; }

# Control: a random marker written to a tmpfs file must be found (in the dump after open).
head -c 48 /dev/urandom > /tmp/marker
od -An -v -tx1 /tmp/marker | tr -d ' \n' > /run/seal-vm/hook/marker.hex
if [ -n "$stress" ]; then
	dump baseline
	zero "before open: the fresh guest holds no TPM secret" tpm-secret
	zero "before open: the fresh guest holds no PIN" pin
	zero "before open: the fresh guest holds no PIN auth value" pin-auth-0
	zero "before open: the fresh guest holds no DEK half" dek-xts1
	zero "before open: the fresh guest holds no DEK half (2)" dek-xts2
fi

# No core: a SIGQUIT at the PIN prompt, with core files enabled (a shell under the same
# limits and pattern dumps one: the control).
old_pattern=$(cat /proc/sys/kernel/core_pattern)
mkdir -p /tmp/cores
echo "/tmp/cores/core.%e.%p" > /proc/sys/kernel/core_pattern
out=$(ulimit -c unlimited; drive - quit /bin/sh -c 'printf "answer: "; read x')
ktap_check "control: a shell killed by SIGQUIT at a prompt dumps core" grep -q "core-dumped 1" <<<"$out"
rm -f /tmp/cores/*
out=$(ulimit -c unlimited; drive - quit "$SEALCTL" open "$dev" v)
if grep -q "core-dumped 0" <<<"$out" && [ -z "$(ls /tmp/cores)" ]; then
	ktap_pass "sealctl killed by SIGQUIT at its PIN prompt dumps no core"
else
	ktap_fail "sealctl killed by SIGQUIT at its PIN prompt dumps no core" "$out" "$(ls -l /tmp/cores)"
fi
echo "$old_pattern" > /proc/sys/kernel/core_pattern
ktap_same "after the SIGQUIT nothing is mapped" "$(mappings)" ""

out=$(drive SEAL_MEM_PIN_MASKED inspect "$SEALCTL" open "$dev" v)
rc=$?
ktap_same "sealctl open through the TPM, the PIN typed at its prompt" "$rc" 0
[ "$rc" = 0 ] || ktap_diag "$out"
read -r _ _ lck _ size _ rss _ unlocked _ core rest < <(grep '^inspect:' <<<"$out")
ktap_diag "at the PIN prompt: VmLck $lck kB, VmSize $size kB, VmRSS $rss kB; unlocked mappings: ${unlocked:-?} $rest"
ktap_same "at the PIN prompt every mapping of sealctl is locked (mlockall)" "$unlocked" 0
ktap_same "at the PIN prompt sealctl's core size limit is 0" "$core" 0
dump after-open
h=$(hits marker raw)
if [ "$h" -gt 0 ] 2>/dev/null; then
	ktap_pass "control: a marker in a tmpfs file is found ($h hits)"
else
	ktap_fail "control: a marker in a tmpfs file is found" "$counts"
fi
none "after a TPM open with a PIN: no TPM secret" tpm-secret
none "after a TPM open with a PIN: no PIN" pin
none "after a TPM open with a PIN: no PIN auth value" pin-auth-0
ktap_diag "while the mapping is open the kernel holds the DEK: XTS halves $(hits dek-xts1 raw) and $(hits dek-xts2 raw) raw hits"

ktap_check "sealctl close" "$SEALCTL" close v
dump after-close
zero "after close: no DEK, whole" dek
zero "after close: no DEK, first XTS half" dek-xts1
zero "after close: no DEK, second XTS half" dek-xts2
zero "after close: still no TPM secret" tpm-secret
zero "after close: still no PIN" pin
zero "after close: still no PIN auth value" pin-auth-0
[ -n "$stress" ] || ktap_end

# A typed passphrase (PCR 15 has moved, so the TPM refuses and no PIN is asked for).
out=$(drive SEAL_MEM_PASS_MASKED type "$SEALCTL" open "$dev" v)
rc=$?
ktap_same "sealctl open with a typed passphrase (PCR 15 moved)" "$rc" 0
[ "$rc" = 0 ] || ktap_diag "$out"
ktap_check "sealctl close" "$SEALCTL" close v
dump after-passphrase
ktap_diag "typed passphrase, after open and close: raw $(hits passphrase raw), hex $(hits passphrase hex HEX), base64 $(hits passphrase base64) hits (kernel tty buffers and the pty driver's own copies may hold it)"
zero "after a passphrase open and close: no DEK half" dek-xts1
zero "after a passphrase open and close: no DEK half (2)" dek-xts2
zero "after a passphrase open and close: no TPM secret" tpm-secret
zero "after a passphrase open and close: no PIN" pin
zero "after a passphrase open and close: no PIN auth value" pin-auth-0

# A second tpm2 keyslot with the same PIN, typed twice (the passphrase from a file: its
# hits are not asserted). Its own TPM secret is not known to the test; its auth value is.
python3 -c 'import os,sys; sys.stdout.buffer.write(bytes(b ^ 0x5A for b in bytes.fromhex(os.environ["SEAL_MEM_PASS_MASKED"])))' \
	> "$work/pass"
out=$(drive SEAL_MEM_PIN_MASKED type "$SEALCTL" enroll "$dev" tpm2 --pin -d "$work/pass")
rc=$?
rm -f "$work/pass"
ktap_same "sealctl enroll tpm2 --pin, the PIN typed twice" "$rc" 0
[ "$rc" = 0 ] || ktap_diag "$out"
dump after-enroll
none "after enroll tpm2 --pin: no PIN" pin
none "after enroll tpm2 --pin: no auth value of the new token" pin-auth-1
zero "after enroll tpm2 --pin: no auth value of the first token" pin-auth-0
zero "after enroll tpm2 --pin: no TPM secret of the first token" tpm-secret
ktap_end
