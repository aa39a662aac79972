#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# No key material in the guest's RAM: QEMU dumps it (QMP dump-guest-memory) and the host
# byte-searches it (tests/lib/memdump-search.py). After a TPM `sealctl open` the unsealed
# TPM secret (raw, hex, base64: the keyslot passphrase) has 0 hits; after `close` the DEK
# and either XTS half have 0 hits. Hits for a typed passphrase are reported, not asserted.
#
# Enrolling needs the secrets in memory, and the test must know them: so it takes two fresh
# guests sharing a TPM state and a disk image. This file runs three ways:
#   (no argument)  the aggregator's guest: asks its host hook to run the two guests below
#                  and prints the second one's KTAP
#   setup          first guest: format, enroll tpm2, hand DEK, TPM secret and passphrase out
#                  through $SEAL_VM_OUT
#   search         second guest (never holds the secrets): open, close, dumps and counts
# By hand: tests/vm/run --host-hook tests/lib/memdump-search.py -- tests/kernel/sealctl-memory.sh
# (from the top of the checkout), or tests/lib/memdump-search.py two-boot KVER on the host.
# vm-options: --host-hook tests/lib/memdump-search.py --mem 256
# vm-timeout: 560
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
	ktap_begin
	tpm_usable
	head -c 18 /dev/urandom | base64 | tr -d '\n' > "$work/pass"
	ktap_check "format" "$SEALCTL" format "$dev" -d "$work/pass"
	ktap_check "enroll tpm2" "$SEALCTL" enroll "$dev" tpm2 -d "$work/pass"
	tpm=$("$TOOL" unseal-token "$dev" 2>&1)
	ktap_check "the test tool unseals the TPM secret (32 bytes)" grep -qE '^[0-9a-f]{64}$' <<<"$tpm"
	ktap_check "base64 of it opens a keyslot" sh -c "python3 -c 'import base64,sys; sys.stdout.write(base64.b64encode(bytes.fromhex(sys.argv[1])).decode())' $tpm |
		cryptsetup open --test-passphrase --key-file - $dev"
	cryptsetup luksDump --dump-volume-key --batch-mode --key-file "$work/pass" \
		--volume-key-file "$work/dek" "$dev" >/dev/null 2>&1
	ktap_same "the DEK is 64 bytes" "$(stat -c %s "$work/dek" 2>/dev/null)" 64
	{
		echo "tpm-secret $tpm"
		echo "dek $(od -An -v -tx1 "$work/dek" | tr -d ' \n')"
		echo "passphrase $(od -An -v -tx1 "$work/pass" | tr -d ' \n')"
	} > "$SEAL_VM_OUT/secrets"
	sync
	ktap_end
fi

# search: this guest never holds the secrets, only the passphrase XOR-ed with 0x5a.
ktap_begin
load_seal || { ktap_fail "dm-seal.ko loads"; ktap_end; }
dm_track v
tpm_usable

# dump LABEL: dump and search this guest's RAM; the counts land in $counts.
dump()
{
	counts=$(host_hook dump-and-search "$1" "$SEAL_MEM_PATTERNS")
	local rc=$?
	[ "$rc" = 0 ] || ktap_diag "dump $1: host hook exit $rc: $counts"
	ktap_diag "$1: $(awk '$1 != "dump" && $3 != 0 { printf "%s/%s=%s ", $1, $2, $3 }' <<<"$counts")" \
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

# Control: a random marker written to a tmpfs file must be found.
head -c 48 /dev/urandom > /tmp/marker
od -An -v -tx1 /tmp/marker | tr -d ' \n' > /run/seal-vm/hook/marker.hex
dump baseline
h=$(hits marker raw)
if [ "$h" -gt 0 ] 2>/dev/null; then
	ktap_pass "control: a marker in a tmpfs file is found ($h hits)"
else
	ktap_fail "control: a marker in a tmpfs file is found" "$counts"
fi
zero "before open: the fresh guest holds no TPM secret" tpm-secret
zero "before open: the fresh guest holds no DEK half" dek-xts1
zero "before open: the fresh guest holds no DEK half (2)" dek-xts2

ktap_check "sealctl open through the TPM, unattended" setsid -w "$SEALCTL" open "$dev" v
dump after-open
zero "after a TPM open: no TPM secret, raw" tpm-secret raw
zero "after a TPM open: no TPM secret, base64 (the keyslot passphrase)" tpm-secret base64
zero "after a TPM open: no TPM secret, hex" tpm-secret hex HEX
ktap_diag "while the mapping is open the kernel holds the DEK: XTS halves $(hits dek-xts1 raw) and $(hits dek-xts2 raw) raw hits"

ktap_check "sealctl close" "$SEALCTL" close v
dump after-close
zero "after close: no DEK, whole" dek
zero "after close: no DEK, first XTS half" dek-xts1
zero "after close: no DEK, second XTS half" dek-xts2
zero "after close: still no TPM secret" tpm-secret

# A typed passphrase (PCR 15 has moved, so the TPM refuses): a pty driver that holds it
# XOR-ed and unmasks it into one buffer only to write it, then wipes that buffer.
out=$(python3 - "$SEALCTL" open "$dev" v <<'PY' 2>&1
import os, pty, select, sys, time
masked = bytes.fromhex(os.environ.pop("SEAL_MEM_PASS_MASKED"))
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out, pending, deadline = b"", b"", time.time() + 60
while time.time() < deadline:
    ready, _, _ = select.select([fd], [], [], 0.3)
    if not ready:
        if pending.rstrip(b" ").endswith(b":") and masked:
            buf = bytearray(len(masked) + 1)
            for i, b in enumerate(masked):
                buf[i] = b ^ 0x5A
            buf[-1] = 10
            os.write(fd, buf)
            for i in range(len(buf)):
                buf[i] = 0
            masked, pending = b"", b""
        continue
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    out += data
    pending += data
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
sys.exit(os.waitstatus_to_exitcode(status))
PY
)
rc=$?
ktap_same "sealctl open with a typed passphrase (PCR 15 moved)" "$rc" 0
[ "$rc" = 0 ] || ktap_diag "$out"
ktap_check "sealctl close" "$SEALCTL" close v
dump after-passphrase
ktap_diag "typed passphrase, after open and close: raw $(hits passphrase raw), hex $(hits passphrase hex HEX), base64 $(hits passphrase base64) hits (kernel tty buffers and the pty driver's own copies may hold it)"
zero "after a passphrase open and close: no DEK half" dek-xts1
zero "after a passphrase open and close: no DEK half (2)" dek-xts2
zero "after a passphrase open and close: no TPM secret" tpm-secret
ktap_end
