# SPDX-License-Identifier: GPL-2.0
# Checks of a booted system whose root the initramfs unlocked, shared by the e2e guest scripts
# (make check) and the demo's guest part (demo/guest/step.sh, make demo): each promise both
# tell is checked by the same function (tests/README.md, "make demo and make check").
# Source it in a guest script that runs as root with the host's tools; the caller defines
# say() (one line of detail, shown its way) and may set SEALCTL (default: sealctl in PATH)
# and TPM2TOOLS_TCTI. Each check_* returns 0 when the promise holds.
SEALCTL=${SEALCTL:-sealctl}

# check_pcr15_moved: PCR 15 is no longer at its reset value: the initramfs measured the
# unlock, so nothing sealed to PCR 15's reset value unseals again until the next boot
check_pcr15_moved()
{
	local pcr15
	pcr15=$(tpm2_pcrread sha256:15 2>&1 | sed -n 's/.*15 *: *0x//p')
	say "PCR 15 = ${pcr15:-? (tpm2_pcrread failed)}"
	[ -n "$pcr15" ] && [ "$pcr15" != "$(printf '%064d' 0)" ]
}

# check_token_refused DEV: sealctl as root, the TPM right there, asks it for DEV's KEK as
# the initramfs did and is refused: exit 12, the PCR values differ from the sealed policy
check_token_refused()
{
	local out rc line
	out=$("$SEALCTL" open --test-passphrase --token-only "$1" 2>&1)
	rc=$?
	say "sealctl open --test-passphrase --token-only $1: exit $rc (12: the PCR values differ from the sealed policy)"
	while IFS= read -r line; do say "  $line"; done <<<"$out"
	[ "$rc" = 12 ]
}

# check_no_seal_key: no key named seal:* in /proc/keys (every key root can see): the DEK
# went into the kernel as a logon key and was unlinked once the table was loaded
check_no_seal_key()
{
	local keys n line
	keys=$(cat /proc/keys) || { say "cannot read /proc/keys"; return 1; }
	n=$(grep -ci 'seal:' <<<"$keys")
	say "keys named seal:* in /proc/keys: $n"
	while IFS= read -r line; do [ -n "$line" ] && say "  key left: $line"; done < <(grep -i 'seal:' <<<"$keys")
	[ "$n" = 0 ]
}

# check_table_logon NAME: the mapping NAME's table, even with --showkeys, is the seal
# target's and names its key as a logon key (":64:logon:seal:..."), not key bytes
check_table_logon()
{
	local table
	table=$(dmsetup table --showkeys "$1" 2>&1)
	say "dmsetup table --showkeys $1: $table"
	[ "$(awk 'NR == 1 { print $3 }' <<<"$table")" = seal ] || { say "$1's target is not seal"; return 1; }
	[[ $table == *" :64:logon:seal:"* ]] || { say "$1's table names no logon key"; return 1; }
}

# tpm2_slots DEV: DEV's tpm2 keyslots, "SLOT PCRS" a line (PCRS as 7+10+15)
tpm2_slots()
{
	"$SEALCTL" list --json "$1" |
		jq -r '.keyslots[] | select(.type == "tpm2") | "\(.keyslot) \(.tpm2.pcrs | map(tostring) | join("+"))"'
}

# check_rotate_kek DEV PCRS: sealctl rotate-kek re-seals DEV's TPM keyslot to this boot's
# PCR values, the passphrase on standard input (a pipe or a file, never argv): afterwards
# DEV has exactly one tpm2 keyslot, a new one (the old one is gone), bound to PCRS. A boot
# with this boot chain then unlocks unattended through it, and only through it.
check_rotate_kek()
{
	local dev=$1 pcrs=$2 before after out rc line
	before=$(tpm2_slots "$dev")
	out=$("$SEALCTL" rotate-kek --key-file - "$dev" 2>&1)
	rc=$?
	say "sealctl rotate-kek --key-file - $dev: exit $rc"
	while IFS= read -r line; do say "  $line"; done <<<"$out"
	after=$(tpm2_slots "$dev")
	say "tpm2 keyslots (slot, PCRs) before: ${before//$'\n'/; }; after: ${after//$'\n'/; }"
	[ "$rc" = 0 ] || return 1
	[ "$(wc -l <<<"$after")" = 1 ] && [ "${after#* }" = "$pcrs" ] ||
		{ say "not one tpm2 keyslot bound to PCRs $pcrs"; return 1; }
	! grep -qx -- "${after%% *} .*" <<<"$before" || { say "the tpm2 keyslot is the old one"; return 1; }
}
