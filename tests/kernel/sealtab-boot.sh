#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# /etc/sealtab in a booted system, under systemd as PID 1: the guest formats a data volume
# with sealctl, installs sealctl and seal-sealtab-generator where `make install` puts them,
# writes /etc/sealtab (the data volume by UUID= with a key file of mode 0600, mounted from
# /etc/fstab; a second volume, left blank, whose key file is 0644), then hands PID 1 to systemd
# (tests/vm/run's next-init). systemd runs the generator; its units open the data volume
# from the key file before its mount point, and the file written before the boot reads
# back; the 0644 key file is refused with one line in the journal, exit 24, no mapping, and
# the boot carries on. At poweroff the unit's stop closes the mapping, after the unmount.
# The same file runs the checks inside the booted system (seal-test-check.service, and
# seal-test-final.service's stop at shutdown, which reports the status and the kernel log).
# vm-options: --scratch 32 --scratch 32
# vm-timeout: 300
# check-kernels: 6.1
. "$SEAL_ROOT/tests/lib/ktap.sh"
. "$SEAL_ROOT/tests/lib/guest.sh"

run=/run/seal-vm
state=/run/seal-boot-ktap	# the KTAP count and failures, carried from phase to phase
units=/etc/systemd/system
phase=${1:-prepare}

# The results of the three phases are one KTAP stream: the count goes on from phase to phase.
ktap_resume() { read -r KTAP_N KTAP_FAILED < "$state"; KTAP_PLAN=15; }
ktap_save() { echo "$KTAP_N $KTAP_FAILED" > "$state"; }

# uptime_diag WHAT: where the guest's time goes
uptime_diag() { ktap_diag "$1 at $(cut -d. -f1 /proc/uptime) s of guest uptime"; }

# prepare: the command tests/vm/run runs, before systemd.
prepare()
{
	. "$SEAL_ROOT/tests/kernel/sealctl-common.sh"
	local uuid
	# It rewrites /etc and /usr/lib/systemd: only in tests/vm/run's guest, whose root is a
	# throw-away overlay (not, say, in a VM running the kselftest suite: kselftest's skip).
	if [ ! -f $run/cmd ] || [ "$(findmnt -n -o FSTYPE /)" != overlay ]; then
		ktap_begin 1
		ktap_skip "sealtab boot" "needs tests/vm/run's guest (it rewrites /etc, then boots systemd)"
		exit 4
	fi
	ktap_begin 15
	ktap_check "dm-seal.ko loads" load_seal
	mkdir -m 0700 /etc/seal-keys
	printf 'data volume key file' > /etc/seal-keys/data.key
	printf 'bad volume key file' > /etc/seal-keys/bad.key
	chmod 0600 /etc/seal-keys/data.key
	dm_track prep
	head -c 65536 /dev/urandom > /root/canary
	{
		"$SEALCTL" format /dev/vda -d /etc/seal-keys/data.key &&
			"$SEALCTL" open /dev/vda prep -d /etc/seal-keys/data.key &&
			mkfs.ext4 -q /dev/mapper/prep && mkdir -p /mnt/data &&
			mount /dev/mapper/prep /mnt/data && cp /root/canary /mnt/data/ &&
			umount /mnt/data && "$SEALCTL" close prep
	} >"$work/prep.log" 2>&1
	ktap_result "the data volume formatted (key file), a file written on its ext4" $?
	[ "$KTAP_FAILED" = 0 ] || { ktap_diag "$(cat "$work/prep.log")"; ktap_end; }
	# /dev/vdb stays blank: a key file others may read is refused before the device is read
	chmod 0644 /etc/seal-keys/bad.key
	uuid=$(cryptsetup luksUUID /dev/vda)

	# No generator but fstab's (the host's sysv, getty, postgresql... only take time here),
	# then sealctl and the generator where `make install` lays them out.
	find /usr/lib/systemd/system-generators -type f ! -name systemd-fstab-generator -delete
	install -D -m 0755 "$RELEASE_SEALCTL" /usr/sbin/sealctl
	install -D -m 0755 "$SEAL_BUILD/userspace/seal-sealtab-generator" \
		/usr/lib/systemd/system-generators/seal-sealtab-generator
	cat > /etc/sealtab <<-EOT
		# name	device		key file		options
		data	UUID=$uuid	/etc/seal-keys/data.key
		bad	/dev/vdb	/etc/seal-keys/bad.key
	EOT
	echo "/dev/mapper/data /mnt/data ext4 nofail 0 0" > /etc/fstab
	# a virtual machine, not the host's container (systemd would not start udev in one)
	rm -f /.dockerenv
	write_units
	ktap_save
	uptime_diag prepared
	# tests/vm/run: PID 1 becomes systemd once this command has passed
	echo "/lib/systemd/systemd --unit=seal-test.target --show-status=error" > $run/next-init
	# the status is seal-test-final.service's now; nothing to clean up (prep is closed)
	trap - EXIT
}

write_units()
{
	local env="SEAL_ROOT=$SEAL_ROOT SEAL_BUILD=$SEAL_BUILD"
	cat > $units/seal-test.target <<-EOT
		[Unit]
		Description=sealtab boot test
		Wants=seal-test-check.service seal-test-final.service
		# a boot that hangs ends (without a status: tests/vm/run says so)
		JobTimeoutSec=150
		JobTimeoutAction=poweroff-force
	EOT
	# the checks, once cryptsetup.target and the mounts have had their turn
	cat > $units/seal-test-check.service <<-EOT
		[Unit]
		Description=sealtab boot test: the checks
		Wants=mnt-data.mount
		After=mnt-data.mount cryptsetup.target
		[Service]
		Type=oneshot
		Environment=$env
		ExecStart=-/bin/bash $SEAL_ROOT/tests/kernel/sealtab-boot.sh check
		ExecStartPost=/bin/systemctl --no-block poweroff
	EOT
	# Stopped after seal-open@data.service (started before it), and before /run/seal-vm
	# is unmounted: sees whether the unit's stop closed the mapping, then reports.
	cat > $units/seal-test-final.service <<-EOT
		[Unit]
		Description=sealtab boot test: the checks at shutdown
		DefaultDependencies=no
		RequiresMountsFor=$run
		Before=seal-open@data.service shutdown.target
		Conflicts=shutdown.target
		[Service]
		Type=oneshot
		RemainAfterExit=yes
		Environment=$env
		ExecStart=/bin/true
		ExecStop=/bin/bash $SEAL_ROOT/tests/kernel/sealtab-boot.sh final
	EOT
	# udev's coldplug of block devices only: the rest loads modules, slowly under TCG
	mkdir -p $units/systemd-udev-trigger.service.d
	cat > $units/systemd-udev-trigger.service.d/seal-test.conf <<-EOT
		[Service]
		ExecStart=
		ExecStart=udevadm trigger --type=devices --action=add --subsystem-match=block
	EOT
	# the host's own units that would start, or wait, in this guest
	systemctl --root=/ mask --quiet dracut-shutdown.service systemd-firstboot.service \
		systemd-timesyncd.service systemd-pstore.service systemd-repart.service systemd-journal-flush.service \
		systemd-random-seed.service systemd-update-utmp.service systemd-sysusers.service \
		systemd-machine-id-commit.service systemd-pcrphase.service \
		systemd-pcrphase-sysinit.service systemd-binfmt.service kmod-static-nodes.service \
		systemd-modules-load.service systemd-sysctl.service systemd-tmpfiles-setup.service \
		systemd-tmpfiles-setup-dev.service systemd-remount-fs.service \
		systemd-ask-password-console.path dev-hugepages.mount dev-mqueue.mount \
		sys-kernel-config.mount sys-kernel-debug.mount sys-kernel-tracing.mount \
		sys-fs-fuse-connections.mount proc-sys-fs-binfmt_misc.automount \
		modprobe@configfs.service modprobe@fuse.service modprobe@drm.service \
		modprobe@efi_pstore.service modprobe@loop.service modprobe@dm_mod.service
}

# check: seal-test-check.service, in the booted system.
check()
{
	ktap_resume
	uptime_diag "booted, checks begin"
	local u=seal-open@data.service line
	ktap_same "systemd ran the generator: its unit for the data volume is active" \
		"$(systemctl show -p ActiveState --value $u)" active
	ktap_check "... bound to the volume's device (by UUID)" \
		grep -qx 'BindsTo=dev-disk-by\\x2duuid-.*\.device' /run/systemd/generator/$u
	ktap_same "the mapping's table is seal" \
		"$(dmsetup table data 2>&1 | awk '{ print $3 }')" seal
	ktap_same "/mnt/data is the mapping, mounted from /etc/fstab" \
		"$(findmnt -n -o SOURCE,FSTYPE /mnt/data)" "/dev/mapper/data ext4"
	ktap_check "the file written before the boot reads back" cmp /root/canary /mnt/data/canary
	local opened mounting
	opened=$(systemctl show -p ActiveEnterTimestampMonotonic --value $u)
	mounting=$(systemctl show -p InactiveExitTimestampMonotonic --value mnt-data.mount)
	if [ "${opened:-0}" -gt 0 ] && [ "$opened" -le "${mounting:-0}" ]; then
		ktap_pass "the unit had opened the volume when the mount began"
	else
		ktap_fail "the unit had opened the volume when the mount began" \
			"opened at '$opened', the mount began at '$mounting' (us since boot)"
	fi
	seal_mapped data && touch /run/seal-boot-open

	u=seal-open@bad.service
	ktap_same "a key file of mode 0644: its unit failed with exit 24" \
		"$(systemctl show -p ActiveState -p ExecMainStatus $u | sort | tr '\n' ' ')" \
		"ActiveState=failed ExecMainStatus=24 "
	line=$(journalctl -b -o cat -u $u | grep '^sealctl:')
	ktap_same "... and one clear line in the journal" "$line" \
		"sealctl: /dev/vdb: key file /etc/seal-keys/bad.key refused: group or others may access it (mode 0644; chmod 0600 it, or 0400)"
	ktap_check_fails "... no mapping is left" dmsetup info bad
	ktap_check_fails "... the key files' contents are in no log" \
		grep -q 'volume key file' <<<"$(journalctl -b -o cat; dmesg)"
	ktap_same "the boot carried on: this unit runs, the bad volume's is the only failure" \
		"$(systemctl list-units --failed --plain --no-legend | awk '{ print $1 }')" "$u"
	ktap_save
}

# final: seal-test-final.service's stop, at poweroff.
final()
{
	ktap_resume
	# (after the checks saw the mapping open: else there was nothing to close)
	ktap_same "at poweroff: /mnt/data unmounted, then the unit's stop closed the mapping" \
		"$(ls /run/seal-boot-open; findmnt -n /mnt/data; dmsetup ls | awk '$1 != "No" { print $1 }')" \
		/run/seal-boot-open
	ktap_same "... and succeeded" \
		"$(systemctl show -p ActiveState -p LoadState -p Result seal-open@data.service | sort |
			tr '\n' ' ')" "ActiveState=inactive LoadState=loaded Result=success "
	ktap_save
	uptime_diag "checks at shutdown done"
	dmesg > $run/dmesg
	# tests/vm/run's status: 0 when every planned test passed
	(ktap_end)
	echo $? > $run/status.tmp
	mv $run/status.tmp $run/status
	sync
}

case "$phase" in
prepare) prepare ;;
check|final)
	stty -F /dev/ttyS1 raw -echo 2>/dev/null
	# tests/vm/run shows the second serial port's output: the same KTAP stream
	"$phase" > /dev/ttyS1 2>&1 ;;
esac
