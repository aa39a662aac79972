#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot tests of dracut/90seal: a QEMU guest boots a dracut initramfs whose root file system
# is on a seal volume (tests/e2e/lib/e2e.sh builds the disk image once and each initramfs
# once), with swtpm as its TPM2. The cases, numbered as in issue #5:
#   1  enrolled with tpm2: boots unattended to the marker, no prompt, with a second tpm2
#      volume (the disk's second partition) unlocked at the same boot, and the TPM coming
#      while the initramfs waits for it (seal_e2e.tpm=late:3: hidden, then bound again 3 s
#      after dm-seal loaded; rd.seal.tpm-timeout=60): it is used, no "NO TPM2 within" line,
#      the hook's "bound again" line before the first volume's unlock; once up (5), PCR 15
#      has moved, neither sealctl nor tpm2-tools as root unseal the KEK of either volume,
#      no keyring root can see holds a readable DEK, and the kernel log is clean
#   2  a bound PCR (10: the kernel's IMA boot aggregate, made different by ima_hash=sha1)
#      changed before the initramfs runs: the prompt; a wrong passphrase is refused, the
#      right one boots
#   3  no TPM in the initramfs (the guest's TPM hidden from it, seal_e2e.tpm=late): after
#      rd.seal.tpm-timeout= one loud line and the prompt; three wrong passphrases end in the
#      emergency shell with one line saying why, and nothing retries on its own there (no
#      new prompt, the guest's CPUs idle); leaving the shell asks again, and (4) the
#      recovery key boots; in the booted system the TPM appears under udev with the
#      late-TPM rule: PCR 15 is extended at once and sealctl cannot unseal
#   and a root disk that is not there at boot: the emergency shell after a bounded wait, with
#   one line naming the device; PCR 15 has moved there, and the disk, hot-added (QMP
#   device_add), does not get its KEK from the TPM. Case 1 in the second flavour stops at
#   rd.break=pre-mount's shell (PCR 15 moved, the TPM refuses) and boots on after exit.
#   tang (issue #14): tang servers the guest reaches over QEMU's user network. The root is
#      bound with clevis sss, t=2 of 3 servers, one of them stopped: it unlocks with no
#      prompt, the two others each answered. The second volume is bound to a server that
#      is up but whose keys were rotated away, and to the stopped one: one line names each,
#      a refusal at once (not a time-out), the prompt follows, the passphrase boots. Case 1
#      also checks that a boot without tang bindings leaves the network card down.
# (Case 6, PostgreSQL, is tests/e2e/postgres.sh.)
#
# One kernel per run: E2E_KERNEL=6.1|6.12 (tests/run-tests runs this file once per kernel).
# The matrix, chosen to fit make check's time budget while covering every case on both
# kernels and both initramfs flavours:
#   6.1   dracut's own init ("shell"): cases 1, 3-5, tang, missing device,
#         rd.break=pre-trigger;                    systemd: case 1
#   6.12  systemd: cases 1-5, tang, rd.systemd.unit=emergency.target;
#                                                  dracut's own init: case 1
# (six boots per kernel); on 6.1, a kernel that panics before the initramfs
# (rdinit=/nonexistent): booted again, three boots in all.
# The flavour with case 1 only boots an initramfs built from the Debian packages as apt
# installs them (make deb, then apt-get install into an overlay of the host's root: the
# packaged dracut module, sealctl and token plugin, dm-seal.ko built by DKMS from
# dm-seal-dkms's postinst; E2E_FROM=packages in lib/e2e.sh), after checking what dpkg, DKMS
# and sealctl say in that installed system; the others one from the build tree.
# E2E_MATRIX=full runs every case in both flavours on the kernel, from the build tree (cases
# 1-3, tang, the missing device, the rd.break=pre-trigger and pre-mount shells: 14 boots, 8
# more than the default on each kernel); E2E_CASES="2 3 missing" and E2E_FLAVOURS=systemd only some of them
# (and build only the initramfs images those need).
# Transcripts: build/test-logs/e2e/<case>-<kernel>-<flavour>.log.
# timeout: 2400
# e2e: once per kernel
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/ktap.sh"
. "$top/tests/e2e/lib/e2e.sh"

k=${E2E_KERNEL:-6.1}
case "$k" in
6.1) full=shell part=systemd ;;
*) full=systemd part=shell ;;
esac
[ "${E2E_MATRIX:-}" = full ] && full="$full $part" part=""

emergency_banner() { [ "$1" = systemd ] && echo 'Entering emergency mode' || echo 'Dropping to debug shell'; }
# (regular expressions; sulogin's shell starts in /root)
shell_prompt() { [ "$1" = systemd ] && echo ':/[a-z]*# ' || echo 'seal:/# '; }

# check_transcript NAME LOG PATTERN COUNT: PATTERN appears COUNT times (COUNT "+": at least once)
# as an administrator reads the console. The boots' loglevel=5 (the watchdog policy) also puts
# the kernel log's copy of dracut's warnings there, "[   46.255853] dracut Warning: ..." right
# before the line itself, sometimes with empty lines between them (the two writers interleave
# on a loaded host): without timestamps and empty lines, a line repeated at once counts once.
check_transcript()
{
	local name=$1 log=$2 pattern=$3 want=$4 n
	n=$(sed -E 's/^\[ *[0-9]+\.[0-9]+\] //' "$log" | grep -v '^[[:space:]]*$' | uniq |
		grep -cE "$pattern")
	if [ "$want" = + ] && [ "$n" -gt 0 ] || [ "$n" = "$want" ]; then
		ktap_pass "$name"
	else
		ktap_fail "$name" "/$pattern/ appears $n times in $log (want $want)"
	fi
}

# The one line the initramfs prints when no TPM came for a volume with a tpm2 keyslot.
TPM_LATE_LINE='seal: NO TPM2 within [0-9]+s, though [^ ]+ has a tpm2 keyslot'
# What tests/e2e/guest/tpm-late-hook.sh prints when seal_e2e.tpm=late:N binds the TPM again.
TPM_BACK_LINE='seal-e2e: TPM [^ ]+ bound again to [^ ]+ [0-9]+s after dm-seal loaded'
# A volume's "unlocked" line on FLAVOUR's console (regular expression).
unlocked_line() { [ "$1" = systemd ] && echo 'Finished seal-unlock@[a-z]+\.service' || echo 'seal: [a-z]+ unlocked'; }

# check_before NAME LOG FIRST THEN: a line matching FIRST comes before every line matching
# THEN, both there
check_before()
{
	local name=$1 log=$2 first=$3 then=$4 a b
	a=$(grep -nE -m1 "$first" "$log" | cut -d: -f1)
	b=$(grep -nE -m1 "$then" "$log" | cut -d: -f1)
	if [ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ]; then
		ktap_pass "$name"
	else
		ktap_fail "$name" "/$first/ at line ${a:-none}, /$then/ at line ${b:-none} of $log"
	fi
}

# case1 FLAVOUR: cases 1 and 5, with a second tpm2 volume unlocked at the same boot, and a
# TPM that comes while the initramfs waits for it (11 results). Both volumes are named on
# the command line (rd.seal.uuid=; in the systemd flavour it replaces the baked-in sealtab);
# rd.seal.device-timeout= keeps systemd from giving up on the disk when a loaded host makes
# udev start late. The TPM is hidden from the initramfs and bound again $late_after s after
# dm-seal loaded (seal_e2e.tpm=late:N, tests/e2e/guest/tpm-late-hook.sh), while seal_unlock
# waits for it (rd.seal.tpm-timeout=60: far more than the bind takes on a loaded host): it
# is used, no loud line, no prompt, PCR 15 moves.
case1()
{
	local f=$1 tag="$k $1" log check late_after=3
	log=$e2e_logs/case1-tpm2-$k-$f.log
	e2e_check "$tag: case 1: two tpm2 volumes unlock unattended, the TPM coming ${late_after}s into the wait, no prompt, boots to the marker" \
		--kernel "$k" --flavour "$f" --log "$log" --nic \
		--seal-args "rd.seal.uuid=$E2E_LUKS_UUID rd.seal.name=$E2E_LUKS_UUID=$E2E_NAME rd.seal.uuid=$E2E_DATA_UUID rd.seal.name=$E2E_DATA_UUID=$E2E_DATA_NAME rd.seal.device-timeout=400" \
		--append "seal_e2e.tpm=late:$late_after rd.seal.tpm-timeout=60 seal_e2e.run=$top/tests/e2e/guest/booted-checks.sh seal_e2e.arg=$e2e_build" \
		-- timeout=420 reject="$E2E_PROMPT" reject="$(emergency_banner "$f")" reject="$TPM_LATE_LINE" \
		expect="$E2E_MARKER" expect='SEAL-E2E-SCRIPT-EXIT' expect='SEAL-E2E-POWEROFF' eof
	check_before "$tag: the TPM came during the wait: the test hook bound it again before the first volume unlocked" \
		"$log" "$TPM_BACK_LINE" "$(unlocked_line "$f")"
	check_transcript "$tag: a TPM that came during the wait: no \"NO TPM2 within\" line" "$log" "$TPM_LATE_LINE" 0
	for check in pcr15-moved:"case 5: PCR 15 moved after the unlock" \
		sealctl-cannot-unseal:"case 5: sealctl as root cannot unseal the KEK (exit 12, PCR mismatch)" \
		tpm2-tools-cannot-unseal:"case 5: tpm2-tools as root cannot unseal the KEK (policy needs PCR 15 at reset)" \
		no-readable-dek:"case 5: no keyring visible to root holds a readable DEK; the root's table is seal's and names a logon key" \
		second-volume-open:"the second tpm2 volume was unlocked at the same boot" \
		second-volume-cannot-unseal:"sealctl as root cannot unseal the second volume's KEK (exit 12)" \
		kernel-log-clean:"the kernel logged no oops, BUG or WARNING while unlocking and booting" \
		no-network:"no tang binding: the initramfs left the network card down (no address)"; do
		if grep -q "^SEAL-E2E-CHECK ${check%%:*} ok" "$log"; then
			ktap_pass "$tag: ${check#*:}"
		else
			ktap_fail "$tag: ${check#*:}" "$(grep -E '^(# |SEAL-E2E-CHECK)' "$log")"
		fi
	done
}

# tang FLAVOUR: network-bound unlock at boot (issue #14), on the tang image (e2e_tang_image:
# each volume's tpm2 keyslot replaced by tang bindings; 9 results). The guest reaches the
# servers through QEMU's user network (rd.neednet=1 ip=dhcp). The root is bound with clevis
# sss, t=2 of A, B, C, B stopped: it unlocks with no prompt, A and C each asked once. The
# second volume is bound to R, up but with its keys rotated away, and to B: each refuses at
# once with one line naming it, and the prompt follows within the bound (rd.seal.tang-timeout=
# for the network, as long for each clevis token, slack for a loaded host on top; nothing
# should take that long: "failed", not "took longer than"); its passphrase boots. The bound
# is generous (a clevis sss of three tang pins is a few dozen jose runs under TCG) and
# costs nothing, as no server in this boot hangs (a hung server's time-out is tested
# natively, tests/userspace/clevis-tang.sh).
tang()
{
	local f=$1 tag="$k $1" log bound=60 a b c r dev
	log=$e2e_logs/tang-$k-$f.log
	e2e_tang_image
	# the URLs as regular expressions, and the second volume's device as sealctl names it
	a=${E2E_TANG_A_URL//./\\.} b=${E2E_TANG_B_URL//./\\.} c=${E2E_TANG_C_URL//./\\.}
	r=${E2E_TANG_R_URL//./\\.} dev="/dev/disk/by-uuid/$E2E_DATA_UUID"
	e2e_check "$tag: tang: the root (sss t=2 of 3, one server stopped) unlocks unattended; the second volume's servers refuse (keys rotated away; stopped): the prompt within $((2 * bound))s (+30s slack), the passphrase boots" \
		--kernel "$k" --flavour "$f" --log "$log" --disk "$E2E_TANG_IMAGE" --tang "$E2E_TANG_SERVERS" \
		--seal-args "rd.seal.uuid=$E2E_LUKS_UUID rd.seal.name=$E2E_LUKS_UUID=$E2E_NAME rd.seal.uuid=$E2E_DATA_UUID rd.seal.name=$E2E_DATA_UUID=$E2E_DATA_NAME rd.seal.device-timeout=400" \
		--append "rd.neednet=1 ip=dhcp rd.seal.tang-timeout=$bound" \
		-- timeout=300 reject="$(emergency_banner "$f")" \
		reject="$E2E_PROMPT /dev/disk/by-uuid/$E2E_LUKS_UUID" \
		expect="seal: $E2E_DATA_NAME: asking tang server\\(s\\) $r $b " \
		timeout=$((2 * bound + 30)) expect="$E2E_PROMPT $dev" \
		timeout=300 sendfile="$E2E_PASSPHRASE_FILE" expect="$E2E_MARKER" expect='SEAL-E2E-POWEROFF' eof
	check_transcript "$tag: tang: one prompt, for the volume whose servers refuse" "$log" \
		"^$E2E_PROMPT $dev" 1
	# (dracut's own init unlocks the second volume first: the root's line follows its prompt)
	check_transcript "$tag: tang: the root's line names its three servers" "$log" \
		"seal: $E2E_NAME: asking tang server\\(s\\) $a $b $c " 1
	check_transcript "$tag: tang: no prompt for the root (sss t=2 of 3, one server stopped)" "$log" \
		"^$E2E_PROMPT /dev/disk/by-uuid/$E2E_LUKS_UUID" 0
	check_transcript "$tag: tang: sss t=2 of 3: A answered the root's share" "$log" \
		"^\\[tangd ${a#http://} on the host\\] .*POST /rec/.* => 200" 1
	check_transcript "$tag: tang: sss t=2 of 3: C answered the root's share" "$log" \
		"^\\[tangd ${c#http://} on the host\\] .*POST /rec/.* => 200" 1
	check_transcript "$tag: tang: keys rotated away: the server was up and refused the old key (404)" "$log" \
		"^\\[tangd ${r#http://} on the host\\] .*POST /rec/.* => 404" 1
	check_transcript "$tag: tang: keys rotated away: one line names that server, a refusal (not a time-out)" "$log" \
		"$dev: token 0 \\(clevis\\): clevis decrypt failed: .*$r\$" 1
	check_transcript "$tag: tang: stopped server: one line names it, a refusal (not a time-out)" "$log" \
		"$dev: token 1 \\(clevis\\): clevis decrypt failed: .*$b\$" 1
}

# case1only FLAVOUR: case 1 without the checks in the booted system, through a shell at
# rd.break=pre-mount, after the unlock (3 results): in the shell PCR 15 has moved and
# sealctl cannot unseal; leaving it, the boot goes on to the marker. (systemd's shell there
# is sulogin's plain "sh-5.2# ": no PS1 from dracut.) Its initramfs is built from the
# packages apt installed (E2E_FROM=packages): first what the administrator sees in the
# system they were installed in (3 results).
case1only()
{
	local f=$1 enter=() log kver version
	log=$e2e_logs/case1-tpm2-$k-$f.log
	kver=$(e2e_kver "$k")
	version=$("$top/mk/version")
	e2e_packages "$k"
	ktap_same "$k $f: apt installed the packages: dpkg-query says \"install ok installed\" for both" \
		"$(e2e_pkg_run dpkg-query -W -f '${Package} ${Status}\n' sealctl dm-seal-dkms 2>&1)" \
		"$(printf 'dm-seal-dkms install ok installed\nsealctl install ok installed')"
	ktap_same "$k $f: DKMS, from dm-seal-dkms's postinst, installed dm-seal $version for $kver" \
		"$(e2e_pkg_run dkms status dm-seal -k "$kver" 2>/dev/null)" \
		"dm-seal/$version, $kver, x86_64: installed"
	ktap_same "$k $f: the installed /usr/sbin/sealctl --version prints $version" \
		"$(e2e_pkg_run /usr/sbin/sealctl --version 2>&1)" "sealctl $version"
	[ "$f" = systemd ] && enter=(expect='Press Enter for maintenance' send='')
	e2e_check "$k $f: case 1: tpm2 keyslot unlocks unattended, no prompt; rd.break=pre-mount's shell; exit boots to the marker" \
		--kernel "$k" --flavour "$f" --log "$log" --append rd.break=pre-mount \
		-- timeout=240 reject="$E2E_PROMPT" \
		expect="$(emergency_banner "$f")" "${enter[@]}" expect='(:/[a-z]*|sh-[0-9.]+)# ' \
		"${SHELL_PCR15[@]}" "${SHELL_SEALCTL[@]}" send=exit \
		expect="$E2E_MARKER" expect='SEAL-E2E-POWEROFF' eof
	shell_results "$k $f" rd.break=pre-mount "$log"
}

# case2 FLAVOUR: 1 result
case2()
{
	local f=$1
	e2e_check "$k $f: case 2: PCR 10 changed: prompt, wrong passphrase refused, right one boots" \
		--kernel "$k" --flavour "$f" --log "$e2e_logs/case2-pcr-changed-$k-$f.log" \
		--append "$E2E_CHANGED_CHAIN" \
		-- timeout=240 reject="$(emergency_banner "$f")" \
		expect='PCR values differ' expect="$E2E_PROMPT" send="not the passphrase" \
		expect='no keyslot accepts this passphrase' expect="$E2E_PROMPT" \
		sendfile="$E2E_PASSPHRASE_FILE" \
		expect="$E2E_MARKER" expect='SEAL-E2E-POWEROFF' eof
}

# Typed in the emergency shell (short: the console is 80 columns wide): the guest's CPU
# tick counters 5 s apart, from its own view, which does not depend on how loaded the host is.
IDLE_PROBE='for s in 5 0; do read -r l </proc/stat; echo "$l"; sleep $s; done'

# busy_ticks LOG: "BUSY TOTAL" between the two "cpu " lines the probe printed
busy_ticks()
{
	awk '$1 == "cpu" { n++; for (i = 2; i <= 9; i++) v[n, i] = $i }
	END {
		if (n != 2) exit 1
		for (i = 2; i <= 9; i++) { d = v[2, i] - v[1, i]; t += d; if (i != 5 && i != 6) b += d }
		print b, t
	}' "$1"
}

# case3 FLAVOUR: cases 3 and 4, the emergency shell, and a TPM that appears only in the
# booted system (8 results). The guest has its TPM, hidden from the initramfs
# (seal_e2e.tpm=late, tests/e2e/guest/tpm-late-hook.sh): the initramfs waits
# rd.seal.tpm-timeout= for it, says so in one line, and asks for a passphrase; the booted
# system binds the TPM again under udev with the late-TPM rule
# (tests/e2e/guest/tpm-late-checks.sh).
case3()
{
	local f=$1 tag="$k $1" log rc enter=() err=$e2e_dir/.console-err.$BASHPID busy total start=$SECONDS
	local tpm_wait=3 run
	run="seal_e2e.run=$top/tests/e2e/guest/tpm-late-checks.sh seal_e2e.arg=$e2e_build"
	log=$e2e_logs/case3-no-tpm-$k-$f.log
	# systemd's emergency.service asks for Enter first; Control-D there would leave at once
	[ "$f" = systemd ] && enter=(expect='Press Enter for maintenance' send='')
	e2e_boot --kernel "$k" --flavour "$f" --log "$log" \
		--append "seal_e2e.tpm=late rd.seal.tpm-timeout=$tpm_wait $run" \
		-- timeout=300 expect="$TPM_LATE_LINE" \
		expect="$E2E_PROMPT" send=wrong-1 expect='try 1 of 3' \
		expect="$E2E_PROMPT" send=wrong-2 expect='try 2 of 3' \
		expect="$E2E_PROMPT" send=wrong-3 \
		expect="seal: cannot unlock $E2E_NAME" reject="$E2E_PROMPT" \
		expect="$(emergency_banner "$f")" "${enter[@]}" expect="$(shell_prompt "$f")" \
		send="$IDLE_PROBE" expect='cpu .*\ncpu .*\n' \
		expect="$(shell_prompt "$f")" allow="$E2E_PROMPT" send=exit \
		expect="$E2E_PROMPT" sendfile="$E2E_RECOVERY_KEY_FILE" \
		expect="$E2E_MARKER" expect='SEAL-E2E-SCRIPT-EXIT' expect='SEAL-E2E-POWEROFF' eof 2>"$err"
	rc=$?
	check_transcript "$tag: case 3: no TPM: the prompt appears" "$log" "^$E2E_PROMPT" +
	check_transcript "$tag: no TPM after ${tpm_wait}s though a tpm2 keyslot exists: one loud line" \
		"$log" "$TPM_LATE_LINE" 1
	if grep -q "$(emergency_banner "$f")" "$log"; then
		check_transcript "$tag: three wrong passphrases: emergency shell, one line says why" \
			"$log" "seal: cannot unlock $E2E_NAME .*no keyslot accepts the passphrase" 1
	else
		ktap_fail "$tag: three wrong passphrases: emergency shell, one line says why" \
			"no emergency shell in $log"
	fi
	# no prompt while the shell is up (console.py's reject), and idle CPUs: a retry loop
	# would keep one of the two vCPUs busy, half of the ticks or more
	read -r busy total < <(busy_ticks "$log")
	if [ -n "$total" ] && [ "$total" -gt 0 ] && [ $((busy * 100 / total)) -lt 20 ] &&
	   ! grep -q 'which must not appear' "$err"; then
		ktap_pass "$tag: in the emergency shell nothing retries: no prompt, CPUs ${busy}/${total} ticks busy"
	else
		ktap_fail "$tag: in the emergency shell nothing retries: no prompt, CPUs ${busy:-?}/${total:-?} ticks busy" \
			"$(cat "$err")"
	fi
	[ $rc != 0 ] && ktap_diag "$(cat "$err")"
	rm -f "$err"
	ktap_result "$tag: case 4: leaving the shell asks again; the recovery key boots ($((SECONDS - start))s)" $rc
	for check in late-not-locked-noted:"the initramfs noted that it could not extend PCR 15" \
		late-pcr15-moved:"a TPM appearing in the booted system: the udev rule extended PCR 15" \
		late-tpm-cannot-unseal:"sealctl on the late TPM cannot unseal the KEK (exit 12)"; do
		if grep -q "^SEAL-E2E-CHECK ${check%%:*} ok" "$log"; then
			ktap_pass "$tag: ${check#*:}"
		else
			ktap_fail "$tag: ${check#*:}" "$(grep -E '^(# |SEAL-E2E-CHECK)' "$log")"
		fi
	done
}

# Typed in a shell the initramfs gave (short lines: the console is 80 columns wide): the
# disk's driver (rd.break=pre-trigger comes before udev loads it), PCR 15 as the count of
# its non-zero hex digits (0: still at its reset value), and what sealctl gets from the
# TPM slot of the real volume on /dev/vda1 (12: PCR mismatch).
SHELL_PCR15=(send='p=$(tr -d 0 </sys/class/tpm/tpm0/pcr-sha256/15);echo PCR15-${#p}'
	expect='PCR15-[0-9]+')
SHELL_SEALCTL=(send='sealctl open --test-passphrase --token-only /dev/vda1;echo rc=$?'
	expect='rc=[0-9]+')
SHELL_PROBE=(send='modprobe -a virtio_pci virtio_blk; sleep 3' expect='# '
	"${SHELL_PCR15[@]}" "${SHELL_SEALCTL[@]}" send='echo o >/proc/sysrq-trigger' eof)

# shell_results TAG HOW LOG: the 2 results of a SHELL_PROBE: the TPM was closed before the shell
shell_results()
{
	check_transcript "$1: $2: PCR 15 was extended before the shell opened" "$3" 'PCR15-[1-9]' 1
	check_transcript "$1: $2: from the shell, sealctl cannot unseal the KEK (exit 12)" "$3" '^rc=12' 1
}

# missing FLAVOUR: the root volume's disk is not there at boot (3 results): a bounded wait,
# then the emergency shell, where PCR 15 has moved; the disk, hot-added then (QMP
# device_add), appears, and the TPM does not unseal its KEK. dracut's own init waits
# rd.retry= seconds; systemd the device unit's job timeout, rd.seal.device-timeout= here
# (systemd's default is 90 s).
missing()
{
	local f=$1 enter=() log
	log=$e2e_logs/missing-device-$k-$f.log
	[ "$f" = systemd ] && enter=(expect='Press Enter for maintenance' send='')
	e2e_check "$k $f: a missing disk ends in the emergency shell, naming the device" \
		--kernel "$k" --flavour "$f" --log "$log" --disk-late --append "rd.retry=4 rd.seal.device-timeout=10" \
		-- timeout=240 reject="$E2E_PROMPT" \
		expect="seal: volume $E2E_NAME: device /dev/disk/by-[a-z]+/[0-9a-f-]+ not found" \
		expect="$(emergency_banner "$f")" "${enter[@]}" expect=':/[a-z]*# ' \
		"${SHELL_PCR15[@]}" send='modprobe -a virtio_pci virtio_blk' expect='# ' \
		qmp='device_add {"driver": "virtio-blk-pci", "drive": "disk0", "bus": "hotplug0"}' \
		send='for i in $(seq 30); do [ -b /dev/vda1 ] && break; sleep 1; done; ls /dev/vda1' \
		expect='\n/dev/vda1' "${SHELL_SEALCTL[@]}" send='echo o >/proc/sysrq-trigger' eof
	check_transcript "$k $f: missing disk: PCR 15 was extended before the shell opened" "$log" \
		'PCR15-[1-9]' 1
	check_transcript "$k $f: missing disk, hot-added in the shell: sealctl cannot unseal its KEK (exit 12)" \
		"$log" '^rc=12' 1
}

# rdbreak FLAVOUR: a shell asked for on the kernel command line, before anything was
# unlocked (3 results): rd.break=pre-trigger with dracut's own init; with systemd
# rd.systemd.unit=emergency.target (its rd.break=pre-trigger shell is replaced by the
# emergency target when the root device's 90 s job times out, which no console script
# can follow reliably).
rdbreak()
{
	local f=$1 enter=() log how=rd.break=pre-trigger
	log=$e2e_logs/rd-break-$k-$f.log
	if [ "$f" = systemd ]; then
		enter=(expect='Press Enter for maintenance' send='')
		how=rd.systemd.unit=emergency.target
	fi
	e2e_check "$k $f: $how gives a shell" \
		--kernel "$k" --flavour "$f" --log "$log" --append "$how" \
		-- timeout=240 reject="$E2E_PROMPT" \
		expect="$(emergency_banner "$f")" "${enter[@]}" expect=':/[a-z]*# ' \
		"${SHELL_PROBE[@]}"
	shell_results "$k $f" "$how" "$log"
}

# crashretry FLAVOUR: a guest kernel that dies before the initramfs runs (rdinit= names no
# program, so the kernel mounts root= itself, a mapping that does not exist yet: "Kernel
# panic - not syncing: VFS: Unable to mount root fs") is booted again, three boots in all,
# and each crashed boot's transcript is kept (2 results). The retry is for TCG's early
# crashes (e2e_boot in lib/e2e.sh); this makes one on purpose.
crashretry()
{
	local f=$1 log=$e2e_logs/crashretry-$k-$1.log err=$e2e_dir/.crashretry-err.$BASHPID rc n
	rm -f "${log%.log}".crashed-boot*.log
	e2e_boot --kernel "$k" --flavour "$f" --log "$log" --timeout 180 --append rdinit=/nonexistent \
		-- timeout=150 expect=SEAL-E2E-NEVER 2>"$err"
	rc=$?
	n=$(grep -c "crashed before the initramfs ran (.*Kernel panic.*); booting again" "$err")
	[ $rc != 0 ] && [ "$n" = 2 ] || ktap_diag "e2e_boot exited $rc after $((n + 1)) boots:" "$(tail -5 "$err")"
	ktap_result "$k $f: a kernel that panicked before the initramfs is booted again, three boots in all" \
		$([ $rc != 0 ] && [ "$n" = 2 ]; echo $?)
	ktap_same "$k $f: each crashed boot's transcript is kept" \
		"$(ls "${log%.log}".crashed-boot*.log 2>/dev/null | wc -l)" 3
	rm -f "$err"
}

E2E_KERNELS=$k
e2e_require
# the runs: FLAVOUR:CASE (CASE: the function above), filtered
runs=()
# Kept to make check's time budget, each of these runs in one flavour only, the other
# flavour's boot being in the full matrix (make stress): case 2 (the PCR mismatch reaches the
# prompt through sealctl, the same binary in both; the shell flavour's prompt is cases 3-4
# and tang), systemd's missing disk (rd.seal.device-timeout=10), and the shell before the
# unlock (each flavour's on one kernel: dracut's own init on 6.1, systemd on 6.12; the other
# flavour reaches its shell after the unlock in case1only).
for f in $full; do
	runs+=("$f:case1")
	[ "$f" = systemd ] || [ "${E2E_MATRIX:-}" = full ] && runs+=("$f:case2")
	runs+=("$f:case3" "$f:tang")
	[ "$f" = shell ] || [ "${E2E_MATRIX:-}" = full ] && runs+=("$f:missing")
	runs+=("$f:rdbreak")
done
# case 2 in the packaged flavour adds nothing the other flavour's case 2 does not show on
# this kernel: only in the full matrix. The rd.break=pre-mount shell (case1only) runs in the
# packaged flavour, and in the full matrix in both.
for f in ${part:-$full}; do
	runs+=("$f:case1only")
done
# the boot retry does not depend on the kernel: on one
[ "$k" = 6.1 ] && runs+=("shell:crashretry")
plan=0 kept=()
for r in "${runs[@]}"; do
	c=${r#*:}
	[ -n "${E2E_CASES:-}" ] && [[ " $E2E_CASES " != *" $(echo "${c#case}" | sed 's/only$//') "* ]] && continue
	[ -n "${E2E_FLAVOURS:-}" ] && [[ " $E2E_FLAVOURS " != *" ${r%%:*} "* ]] && continue
	kept+=("$r")
	case "$c" in
	case1) plan=$((plan + 11)) ;;
	tang) plan=$((plan + 9)) ;;
	case3) plan=$((plan + 8)) ;;
	missing | rdbreak) plan=$((plan + 3)) ;;
	case1only) plan=$((plan + 6)) ;;
	crashretry) plan=$((plan + 2)) ;;
	*) plan=$((plan + 1)) ;;
	esac
done
ktap_begin $plan
e2e_say "kernel $k: every case with ${full// / and }${part:+; case 1 with $part, from the packages}"
# from_packages FLAVOUR: "packages" for the flavour that runs case 1 only
from_packages() { [[ " $part " == *" $1 "* ]] && echo packages; }
# the initramfs images first (those of the runs kept): another kernel's run may be building
# the shared disk image
for f in $full $part; do
	[[ " ${kept[*]%%:*} " == *" $f "* ]] || continue
	E2E_FROM=$(from_packages "$f") e2e_initramfs "$k" "$f"
done
e2e_image
for r in "${kept[@]}"; do
	E2E_FROM=$(from_packages "${r%%:*}") "${r#*:}" "${r%%:*}"
done
ktap_end
