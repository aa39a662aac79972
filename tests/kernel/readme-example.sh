#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# README.md's manual example works as written: the fenced block after the
# "<!-- readme-example" marker runs line by line in a guest with a TPM, each line on a
# terminal of its own (prompts answered with one passphrase), with only the device name
# changed to this guest's scratch disk and sealctl from this build on PATH. Then what the
# comments promise holds: open asked nothing, the list shows the three keyslots, a recovery
# key was printed, the file is there after a fresh open, and nothing is left mapped.
# vm-options: --tpm --scratch 64
# vm-timeout: 600
# check-kernels: 6.1
. "$SEAL_ROOT/tests/lib/ktap.sh"
. "$SEAL_ROOT/tests/lib/guest.sh"
. "$SEAL_ROOT/tests/kernel/sealctl-common.sh"

readme_dev=/dev/vdb	# the device README.md names
dev=/dev/vda		# this guest's scratch disk
recovery_re='[0-9a-f]{8}(-[0-9a-f]{8}){7}'

# the example, exactly as README.md has it
example=$(awk '/^<!-- readme-example/ { m = 1; next }
	m == 1 && /^```/ { m = 2; next }
	m == 2 && /^```/ { exit }
	m == 2 { print }' "$SEAL_ROOT/README.md")

n=$(grep -c . <<<"$example")
# the TPM, the example found, one result per line of it, the 8 checks after it
ktap_begin $((n + 10))
load_seal || { ktap_fail "dm-seal.ko loads"; ktap_end; }
tpm_usable
# the test build of sealctl: cheap Argon2id keyslots (SEAL_TEST_FAST_PBKDF, sealctl-common.sh)
export PATH=$SEAL_BUILD/userspace/tests:$PATH
dm_track data
on_exit "umount /mnt 2>/dev/null"
if [ "$n" -ge 8 ] && grep -q "$readme_dev" <<<"$example"; then
	ktap_pass "README.md has the example ($n lines, on $readme_dev)"
else
	ktap_fail "README.md has the example ($n lines, on $readme_dev)" "$example"
	ktap_end
fi

# A test passphrase, in this shell only; each line's prompts get it from a pipe.
pass=$(head -c 15 /dev/urandom | base64)
i=0
while IFS= read -r line; do
	i=$((i + 1))
	cmd=${line//"$readme_dev"/$dev}
	out=$(printf '%s\n' "$pass" "$pass" "$pass" |
		python3 "$PTY_RUN" /dev/stdin bash -ec "$cmd" 2>&1)
	rc=$?
	# a recovery key is shown as a placeholder, here and in any diagnostic
	out=$(sed -E "s/$recovery_re/<recovery key>/g" <<<"$out")
	[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/# | /'
	ktap_same "line $i: ${line%%  *}" "$rc" 0
	case "${line%%#*}" in
	"sealctl open "*) prompts_at_open=$(grep -ci 'passphrase' <<<"$out") ;;
	"sealctl enroll "*recovery*) recovery_shown=$(grep -c '^<recovery key>$' <<<"$out") ;;
	"sealctl list "*) list=$out ;;
	esac
done <<<"$example"

ktap_same "open asked for nothing (the TPM unsealed the KEK)" "${prompts_at_open:-?}" 0
ktap_same "enroll recovery printed one recovery key" "${recovery_shown:-?}" 1
for kind in passphrase tpm2 recovery; do
	ktap_check "list shows a $kind keyslot" grep -qw "$kind" <<<"${list:-}"
done
ktap_same "nothing is left mapped" "$(mappings)" ""
out=$(printf '%s' "$pass" | sealctl open --no-tokens --key-file - "$dev" data 2>&1)
ktap_same "the passphrase opens the volume again" "$?" 0
mount -o ro /dev/mapper/data /mnt 2>/dev/null
ktap_same "the file written in the example reads back" "$(cat /mnt/hello.txt 2>&1)" \
	"hello, sealed world"
umount /mnt
sealctl close data
ktap_end
