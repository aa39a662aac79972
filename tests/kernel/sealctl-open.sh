#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# sealctl open end to end with a TPM: format, enroll tpm2 and a passphrase, open unattended,
# write data, close; a bound PCR moves, and open falls back to the passphrase prompt (on a
# pty: one line for a wrong answer, then the right one) and reads the same data. After open
# the DEK is readable from no keyring, the table names the key only, PCR 15 has moved and a
# second unseal as root fails with the PCR-mismatch exit code; no failure leaves a mapping
# or a keyring key behind. status --json of the mapping is valid against
# Documentation/sealctl-json.schema.json (checked on the host, through the host hook: the
# guest would spend half a minute importing jsonschema under TCG) and names its device,
# sector size and loaded key. A token bound to PCR 7 alone unseals until PCR 7 moves.
# vm-options: --tpm --scratch 64 --host-hook tests/userspace/helpers/schema-check.py
# vm-timeout: 900
# check-kernels: 6.1
. "$SEAL_ROOT/tests/lib/ktap.sh"
. "$SEAL_ROOT/tests/lib/guest.sh"
. "$SEAL_ROOT/tests/kernel/sealctl-common.sh"

ktap_begin 58
load_seal || { ktap_fail "dm-seal.ko loads"; ktap_end; }
dev=/dev/vda
[ -c /dev/tpmrm0 ] || { ktap_fail "the guest has /dev/tpmrm0 (--tpm)"; ktap_end; }
tpm_usable
printf 'right passphrase' > "$work/pass"
printf 'second admin passphrase' > "$work/pass2"
dm_track v
dm_track v2

ktap_check "format" "$SEALCTL" format "$dev" -d "$work/pass"
ktap_check "enroll tpm2 (PCRs 7+15)" "$SEALCTL" enroll "$dev" tpm2 -d "$work/pass"
ktap_check "enroll passphrase" "$SEALCTL" enroll "$dev" passphrase -d "$work/pass" \
	--new-key-file "$work/pass2"
uuid=$(cryptsetup luksUUID "$dev")
cryptsetup luksDump --dump-volume-key --batch-mode --key-file "$work/pass" \
	--volume-key-file "$work/dek" "$dev" >/dev/null 2>&1
ktap_same "the DEK is 64 bytes" "$(stat -c %s "$work/dek" 2>/dev/null)" 64
head -c $((4 << 20)) /dev/urandom > "$work/data"
sha=$(sha256sum < "$work/data" | cut -d' ' -f1)
before=$(mappings)
pcr15=$(pcr 15)

# 1. Unattended: no terminal (stdin /dev/null, no controlling tty), the TPM unseals.
out=$(setsid -w "$SEALCTL" open "$dev" v </dev/null 2>&1)
rc=$?
ktap_same "open unattended exits 0" "$rc" 0
[ "$rc" = 0 ] || ktap_diag "$out"
ktap_check_fails "open unattended asks nothing" grep -qi passphrase <<<"$out"
ktap_check "the mapping exists" test -b /dev/mapper/v
ktap_check "the table is seal with the key by description only" \
	grep -qE "^0 [0-9]+ seal aes-xts-plain64 :64:logon:seal:$uuid 0 [0-9]+:[0-9]+ 32768 1 sector_size:4096\$" \
	<<<"$(dmsetup table v)"
ktap_check "--showkeys shows no more" \
	grep -qE " :64:logon:seal:$uuid 0 " <<<"$(dmsetup table --showkeys v)"
ktap_check_fails "no key bytes in the table (hex)" \
	grep -qi "$(od -An -v -tx1 "$work/dek" | tr -d ' \n' | cut -c1-32)" <<<"$(dmsetup table --showkeys)"

# The DEK: in no keyring anyone here can see, readable from no key.
for kr in @t @p @s @u @us; do
	ktap_check_fails "keyctl show $kr holds no seal:$uuid key" \
		grep -q "seal:$uuid" <<<"$(keyctl show "$kr" 2>&1)"
done
ktap_check_fails "/proc/keys lists no seal: key" seal_keys
ktap_check_fails "keyctl search finds no logon seal:$uuid key" \
	keyctl search @s logon "seal:$uuid"
# (the control: the same search finds the DEK in a user key, which keyctl pipe can read)
ctl=$(keyctl padd user seal-test:control @s < "$work/dek")
ktap_check "control: the DEK in a user key is found" dek_readable "$work/dek"
keyctl unlink "$ctl" @s >/dev/null
ktap_check_fails "no key this process can read holds the DEK" dek_readable "$work/dek"

# PCR 15 moved; a second unseal as root fails with the PCR-mismatch code.
pcr15_after=$(pcr 15)
if [ -n "$pcr15" ] && [ -n "$pcr15_after" ] && [ "$pcr15" != "$pcr15_after" ]; then
	ktap_pass "PCR 15 moved ($pcr15 -> $pcr15_after)"
else
	ktap_fail "PCR 15 moved" "PCR 15 before '$pcr15', after '$pcr15_after'"
fi
ktap_expect "a second open as root fails: PCR mismatch (exit 12)" 12 \
	"^sealctl: $dev: token 0 \(seal-tpm2\): PCR values differ from the sealed policy" \
	setsid -w "$SEALCTL" open "$dev" v2
nothing_left "second open" "$(mappings)"
ktap_expect "the test tool cannot unseal the token either" 1 \
	"^seal-tpm-tool: Operation not permitted$" "$TOOL" unseal-token "$dev"
out=$(setsid -w "$SEALCTL" open "$dev" v2 -d "$work/pass2" </dev/null 2>&1)
rc=$?
ktap_same "a second open falls back past the refused token to the key file: exit 0" "$rc" 0
ktap_check "... after one line for the token" \
	grep -qx "sealctl: $dev: token 0 (seal-tpm2): PCR values differ from the sealed policy" <<<"$out"
ktap_check "close the second mapping" "$SEALCTL" close v2
ktap_check "status NAME" grep -q "seal:$uuid" <<<"$("$SEALCTL" status v 2>&1)"
ktap_check "status NAME --json: its name, device-mapper UUID and target" jq_true \
	".name == \"v\" and .uuid == \"SEAL-${uuid//-/}-v\" and .target == \"seal\"" <<<"$("$SEALCTL" status --json v)"
ktap_check "status DEV names the active mapping" grep -qw v <<<"$("$SEALCTL" status "$dev" 2>&1)"
ktap_check "status DEV --json" jq_true '.mapping == "v"' <<<"$("$SEALCTL" status --json "$dev")"
"$SEALCTL" status --json v > "$work/status.json"
cp "$work/status.json" /run/seal-vm/hook/status.json
ktap_check "status NAME --json is valid against sealctl-json.schema.json (on the host)" \
	host_hook "$SEAL_ROOT/Documentation/sealctl-json.schema.json" status-mapping status.json
jq_true ".\"key-loaded\" and .device == \"$dev\" and .\"sector-size\" == 4096 and .offset == 32768 and
	.\"key-description\" == \"seal:$uuid\" and .\"allow-discards\" == false" "$work/status.json" >/dev/null
rc=$?
[ $rc = 0 ] || ktap_diag "$(cat "$work/status.json")"
ktap_result "status NAME --json: key loaded, the backing device, its sector size and offset" $rc

ktap_check "write 4 MiB through the mapping" roundtrip_write v "$work/data"
ktap_same "read back" "$(read_sha v $((4 << 20)))" "$sha"
ktap_check "close" "$SEALCTL" close v
ktap_check_fails "the mapping is gone" test -e /dev/mapper/v

# 2. PCR 15 has moved: the TPM refuses, open falls back to the prompt.
before=$(mappings)
ktap_expect "without a terminal: PCR mismatch (exit 12)" 12 \
	"^sealctl: $dev: token 0 \(seal-tpm2\): PCR values differ from the sealed policy$" \
	setsid -w "$SEALCTL" open "$dev" v
nothing_left "PCR mismatch, no terminal" "$before"
printf 'wrong passphrase\nright passphrase\n' > "$work/answers"
out=$(python3 "$PTY_RUN" "$work/answers" "$SEALCTL" open "$dev" v 2>&1)
rc=$?
ktap_same "on a pty: a wrong passphrase, then the right one: exit 0" "$rc" 0
ktap_diag "pty transcript:" "$out"
ktap_same "one line for the wrong passphrase" \
	"$(grep -c 'no keyslot accepts this passphrase (try 1 of 3)' <<<"$out")" 1
ktap_check "the prompt follows the token failure" \
	grep -q "token 0 (seal-tpm2): PCR values differ" <<<"$out"
ktap_check_fails "nothing is echoed" grep -q "right passphrase" <<<"$out"
ktap_same "the same data reads back" "$(read_sha v $((4 << 20)))" "$sha"
ktap_check_fails "no seal: key left after a passphrase open" seal_keys
ktap_check "close" "$SEALCTL" close v

# --readonly: the mapping and its block device are read-only, reads still work.
ktap_check "open --readonly" "$SEALCTL" open "$dev" v --readonly -d "$work/pass2"
ktap_same "the block device is read-only" "$(blockdev --getro /dev/mapper/v 2>&1)" 1
ktap_check_fails "a write is refused" dd if="$work/data" of=/dev/mapper/v bs=1M count=1 oflag=direct status=none
ktap_same "reads still work" "$(read_sha v $((4 << 20)))" "$sha"
ktap_check "close" "$SEALCTL" close v

# A token bound to PCR 7 alone (PCR 15 has moved, which it ignores) unseals until PCR 7 moves.
ktap_check "enroll tpm2 --pcrs 7 (token 1)" "$SEALCTL" enroll "$dev" tpm2 --pcrs 7 -d "$work/pass"
ktap_expect "the test tool unseals the PCR 7 token" 0 "^[0-9a-f]{64}$" "$TOOL" unseal-token "$dev" 1
ktap_check "extend PCR 7" tpm2_pcrextend "7:sha256=$(random_hex 32)"
ktap_expect "after PCR 7 moved the TPM refuses the PCR 7 token" 1 \
	"^seal-tpm-tool: Operation not permitted$" "$TOOL" unseal-token "$dev" 1

# 3. Three wrong passphrases: exit 9, nothing left.
before=$(mappings)
printf 'a\nb\nc\n' > "$work/answers"
out=$(python3 "$PTY_RUN" "$work/answers" "$SEALCTL" open "$dev" v 2>&1)
rc=$?
ktap_same "three wrong passphrases: exit 9" "$rc" 9
ktap_same "three wrong passphrases: three lines and a last one" \
	"$(grep -cE 'no keyslot accepts this passphrase \(try [123] of 3\)|no keyslot accepts the passphrase \(3 tries\)' <<<"$out")" 4
nothing_left "three wrong passphrases" "$before"
ktap_end
