# SPDX-License-Identifier: GPL-2.0
# Sourced by the guest tests of sealctl (tests/kernel/sealctl-*.sh), after ktap.sh and
# guest.sh: paths, a scratch directory, and the checks every failure case shares.
# Not executable: the aggregator runs only the files that source it.

# the test build of sealctl (honours SEAL_TEST_FAST_PBKDF); the installed one is RELEASE_SEALCTL
SEALCTL=$SEAL_BUILD/userspace/tests/sealctl
RELEASE_SEALCTL=$SEAL_BUILD/userspace/sealctl
PLUGIN=$SEAL_BUILD/userspace/libcryptsetup-token-seal-tpm2.so
TOOL=$SEAL_BUILD/userspace/tests/seal-tpm-tool
PTY_RUN=$SEAL_ROOT/tests/userspace/helpers/pty-run.py
. "$SEAL_ROOT/tests/lib/token-plugin.sh"

# Argon2id at its minimum cost for test volumes (the test build only; sealctl(8), ENVIRONMENT).
export SEAL_TEST_FAST_PBKDF=1 TSS2_LOG=all+none
export TPM2TOOLS_TCTI=device:/dev/tpmrm0
unset SEAL_TCTI

work=$(mktemp -d)
PLUGIN_COPY=$work/plugins
on_exit "rm -rf $work"

# mappings: the device-mapper names present, one a line (empty if none).
mappings() { dmsetup ls 2>/dev/null | awk '$1 != "No" { print $1 }' | sort; }

# seal_keys: keyring keys named seal:... that this process tree can see.
seal_keys() { grep -E ' (logon|user) +seal:' /proc/keys; }

# nothing_left NAME BEFORE [MAPPING]: after a failure, the same mappings as BEFORE (a
# `mappings` listing), no seal:... key in any keyring we can see, and no /dev/mapper/MAPPING
# node.
nothing_left()
{
	local name=$1 before=$2 node=${3:+/dev/mapper/$3} now keys
	now=$(mappings)
	keys=$(seal_keys)
	if [ -n "$node" ] && [ -e "$node" ]; then
		ktap_diag "$name: $node is left behind"
		ktap_result "$name: no mapping, no keyring key left" 1
		return 1
	fi
	if [ "$now" = "$before" ] && [ -z "$keys" ]; then
		ktap_result "$name: no mapping, no keyring key left" 0
		return 0
	fi
	ktap_diag "$name: mappings before: '$before', after: '$now'; keys: '$keys'"
	ktap_result "$name: no mapping, no keyring key left" 1
}

# roundtrip_write MAPPING FILE: write FILE at the start of the mapping, bypassing caches.
# (a mapping that was never made would leave dd writing a regular file at that path)
roundtrip_write()
{
	[ -b "/dev/mapper/$1" ] || { echo "/dev/mapper/$1 is not a block device" >&2; return 1; }
	dd if="$2" of="/dev/mapper/$1" bs=1M oflag=direct conv=fsync status=none
}

# read_sha MAPPING BYTES: sha256 of the first BYTES of the mapping, read past the caches.
read_sha()
{
	dd if="/dev/mapper/$1" bs=1M count=$(($2 >> 20)) iflag=direct status=none | sha256sum |
		cut -d' ' -f1
}

# pcr HEXINDEX: the sha256 bank value of one PCR (0x and 64 hex digits); fails, printing
# nothing, when tpm2_pcrread gives no such value.
pcr()
{
	local v
	v=$(tpm2_pcrread "sha256:$1" 2>/dev/null | awk -F: '/0x/ { gsub(/ /, "", $2); print $2 }')
	[[ $v =~ ^0x[0-9A-Fa-f]{64}$ ]] || return 1
	echo "$v"
}

# no_tpm_key_visible: the DEK is in no key this process can read.
# dek_readable KEYFILE: 0 if any key in /proc/keys reads back as the contents of KEYFILE.
dek_readable()
{
	local id
	for id in $(awk '{ print $1 }' /proc/keys); do
		keyctl pipe "$((16#$id))" 2>/dev/null | cmp -s - "$1" && return 0
	done
	return 1
}

# tpm_usable: the guest's TPM has its storage hierarchy enabled, else one failure saying
# why and the file stops. SeaBIOS disables the hierarchies when its own TPM setup fails
# (seen once under TCG on a loaded host); every TPM case would then fail with "hierarchy
# is not enabled" (TPM_RC 0x185).
tpm_usable()
{
	local caps
	caps=$(tpm2_getcap properties-variable 2>&1)
	if grep -qE '^ *shEnable: *1$' <<<"$caps"; then
		ktap_pass "the TPM's storage hierarchy is enabled"
		return 0
	fi
	ktap_diag "the firmware disables the hierarchies when its TPM setup fails:" \
		"$(grep -A4 STARTUP_CLEAR <<<"$caps")"
	ktap_fail "the TPM's storage hierarchy is enabled"
	ktap_end
}
