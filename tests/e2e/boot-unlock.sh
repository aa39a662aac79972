#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot tests of dracut/90seal: a QEMU guest boots a dracut initramfs whose root file system
# is on a seal volume (tests/e2e/lib/e2e.sh builds both once), with swtpm as its TPM2.
# Per kernel and initramfs flavour:
#   1  enrolled with tpm2: boots unattended to the marker, no prompt; once up (5), PCR 15
#      has moved, neither sealctl nor tpm2-tools as root unseal the KEK, no keyring root
#      can see holds a readable DEK, and the kernel log is clean
#   2  a bound PCR (10: the kernel's IMA boot aggregate, made different by ima_hash=sha1)
#      changed before the initramfs runs: the prompt; a wrong passphrase is refused, the
#      right one boots
#   3  no TPM attached: the prompt; three wrong passphrases end in the emergency shell with
#      one line saying why; leaving the shell asks again, and (4) the recovery key boots
#   and (dracut's own init) a volume whose device never appears: the emergency shell, after
#      a bounded wait, with one line naming the device
# Runs natively (it drives QEMU itself). Transcripts: build/test-logs/e2e/.
# E2E_MATRIX=full runs all four kernel/flavour pairs; the default runs 6.1 with dracut's
# own init and 6.12 with systemd (both flavours, both kernels, in about half the time).
# timeout: 1500
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/ktap.sh"
. "$top/tests/e2e/lib/e2e.sh"

if [ "${E2E_MATRIX:-}" = full ]; then
	configs="6.1:shell 6.12:systemd 6.1:systemd 6.12:shell"
else
	configs=${E2E_CONFIGS:-6.1:shell 6.12:systemd}
fi
per_config=10

emergency_banner() { [ "$1" = systemd ] && echo 'Entering emergency mode' || echo 'Dropping to debug shell'; }

# check_transcript NAME LOG PATTERN COUNT: PATTERN appears COUNT times (COUNT "+": at least once)
check_transcript()
{
	local name=$1 log=$2 pattern=$3 want=$4 n
	n=$(tr -d '\r' < "$log" | grep -cE "$pattern")
	if [ "$want" = + ] && [ "$n" -gt 0 ] || [ "$n" = "$want" ]; then
		ktap_pass "$name"
	else
		ktap_fail "$name" "/$pattern/ appears $n times in $log (want $want)"
	fi
}

# run_config KERNEL:FLAVOUR: its $per_config results
run_config()
{
	local k=${1%%:*} f=${1#*:} tag log check rc leave err=$e2e_dir/.console-err.$BASHPID
	tag="$k $f"
	e2e_initramfs "$k" "$f"

	# 1 + 5
	log=$e2e_logs/case1-tpm2-$k-$f.log
	e2e_check "$tag: case 1: tpm2 keyslot unlocks unattended, no prompt, boots to the marker" \
		--kernel "$k" --flavour "$f" --log "$log" \
		--append "seal_e2e.run=$top/tests/e2e/guest/booted-checks.sh seal_e2e.arg=$e2e_build" \
		-- timeout=240 reject="$E2E_PROMPT" reject="$(emergency_banner "$f")" \
		expect="$E2E_MARKER" expect='SEAL-E2E-SCRIPT-EXIT' expect='SEAL-E2E-POWEROFF' eof
	for check in pcr15-moved:"case 5: PCR 15 moved after the unlock" \
		sealctl-cannot-unseal:"case 5: sealctl as root cannot unseal the KEK (exit 12, PCR mismatch)" \
		tpm2-tools-cannot-unseal:"case 5: tpm2-tools as root cannot unseal the KEK (policy needs PCR 15 at reset)" \
		no-readable-dek:"case 5: no keyring visible to root holds a readable DEK; the table names a logon key" \
		kernel-log-clean:"the kernel logged no oops, BUG or WARNING while unlocking and booting"; do
		if tr -d '\r' < "$log" | grep -q "^SEAL-E2E-CHECK ${check%%:*} ok"; then
			ktap_pass "$tag: ${check#*:}"
		else
			ktap_fail "$tag: ${check#*:}" "$(tr -d '\r' < "$log" | grep -E '^(# |SEAL-E2E-CHECK)')"
		fi
	done

	# 2
	log=$e2e_logs/case2-pcr-changed-$k-$f.log
	e2e_check "$tag: case 2: PCR 10 changed: prompt, wrong passphrase refused, right one boots" \
		--kernel "$k" --flavour "$f" --log "$log" --append ima_hash=sha1 \
		-- timeout=240 reject="$(emergency_banner "$f")" \
		expect='PCR values differ' expect="$E2E_PROMPT" send="not the passphrase" \
		expect='no keyslot accepts this passphrase' expect="$E2E_PROMPT" send="$E2E_PASSPHRASE" \
		expect="$E2E_MARKER" expect='SEAL-E2E-POWEROFF' eof

	# 3 + 4, and what a volume that cannot be unlocked does
	log=$e2e_logs/case3-no-tpm-$k-$f.log
	if [ "$f" = systemd ]; then
		leave=(expect='Press Enter for maintenance' key=ctrl-d)
	else
		leave=(expect='seal:/#' send=exit)
	fi
	e2e_boot --kernel "$k" --flavour "$f" --log "$log" --tpm no \
		-- timeout=300 expect='no TPM2 reachable' \
		expect="$E2E_PROMPT" send=wrong-1 expect='try 1 of 3' \
		expect="$E2E_PROMPT" send=wrong-2 expect='try 2 of 3' \
		expect="$E2E_PROMPT" send=wrong-3 \
		expect="seal: cannot unlock $E2E_NAME" expect="$(emergency_banner "$f")" \
		"${leave[@]}" \
		expect="$E2E_PROMPT" send="$E2E_RECOVERY_KEY" \
		expect="$E2E_MARKER" expect='SEAL-E2E-POWEROFF' eof 2>"$err"
	rc=$?
	check_transcript "$tag: case 3: no TPM: the prompt appears" "$log" "$E2E_PROMPT" +
	if tr -d '\r' < "$log" | grep -q "$(emergency_banner "$f")"; then
		check_transcript "$tag: three wrong passphrases: emergency shell, one line says why" \
			"$log" "seal: cannot unlock $E2E_NAME .*no keyslot accepts the passphrase" 1
	else
		ktap_fail "$tag: three wrong passphrases: emergency shell, one line says why" \
			"no emergency shell in $log"
	fi
	[ $rc != 0 ] && ktap_diag "$(cat "$err")"
	rm -f "$err"
	ktap_result "$tag: case 4: leaving the shell asks again; the recovery key boots" $rc

	# a volume whose device never appears: a bounded wait, then the shell and one line
	# (dracut's own init: the wait is rd.retry; systemd's is the device timeout, 90 s)
	if [ "$f" = shell ]; then
		log=$e2e_logs/missing-device-$k-$f.log
		e2e_check "$tag: a missing device ends in the emergency shell, naming it" \
			--kernel "$k" --flavour "$f" --log "$log" --tpm no \
			--seal-args "rd.seal.uuid=0e3b1c1a-6d52-4b8e-9e4f-000000000000" --append "rd.retry=4" \
			-- timeout=240 reject="$E2E_PROMPT" \
			expect='seal: volume seal-0e3b1c1a-6d52-4b8e-9e4f-000000000000: device /dev/disk/by-uuid/0e3b1c1a-6d52-4b8e-9e4f-000000000000 not found' \
			expect="$(emergency_banner "$f")"
	fi
}

if [ "${1:-}" = --stream ]; then
	e2e_image
	run_config "$2"
	exit 0
fi

E2E_KERNELS=$(for c in $configs; do echo "${c%%:*}"; done | sort -u)
e2e_require
# shellcheck disable=SC2086
ktap_begin $(($(echo $configs | wc -w) * per_config + $(echo $configs | tr ' ' '\n' | grep -c ':shell$')))
e2e_image
# shellcheck disable=SC2086
e2e_streams "$0" $configs
ktap_end
