#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# systemd generator (initramfs): one seal-unlock@NAME.service per seal volume, bound to its
# device, required by cryptsetup.target and by /dev/mapper/NAME (so a root= or fstab entry
# on the mapping pulls it in). The booted system's counterpart, for the sealtab entries the
# initramfs leaves (key file, noauto) or could not open, is userspace/sealtab-generator.c.
type getarg >/dev/null 2>&1 || . /lib/dracut-lib.sh
type seal_volumes >/dev/null 2>&1 || . /lib/dracut-seal-lib.sh

dir=${1:-/run/systemd/generator}
template=/usr/lib/systemd/system/seal-unlock@.service
[ -e "$template" ] || template=/lib/systemd/system/seal-unlock@.service

seal_volumes | while read -r name dev opts; do
	[ -n "$name" ] || continue
	unit="seal-unlock@$(systemd-escape "$name").service"
	devunit=$(systemd-escape --path --suffix=device "$dev")
	mapunit=$(systemd-escape --path --suffix=device "/dev/mapper/$name")

	mkdir -p "$dir/$unit.d"
	{
		echo "[Unit]"
		echo "BindsTo=$devunit"
		echo "After=$devunit"
		# a volume the boot can do without does not stop it
		seal_opt "$opts" nofail >/dev/null && echo "OnFailure="
	} > "$dir/$unit.d/50-device.conf"

	# sealtab's device-timeout= (or x-systemd.device-timeout=), else rd.seal.device-timeout=, else systemd's default (90 s)
	t=$(seal_opt "$opts" device-timeout) || t=$(seal_opt "$opts" x-systemd.device-timeout) ||
		t=$(getarg rd.seal.device-timeout=) || t=
	# not a whole number of seconds: named by seal_check_options (or below), the default stands
	case $t in
	'') ;;
	*[!0-9]*)
		seal_opt "$opts" device-timeout >/dev/null || seal_opt "$opts" x-systemd.device-timeout >/dev/null ||
			warn "seal: invalid rd.seal.device-timeout=$t ignored (a whole number of seconds)"
		t=
		;;
	esac
	if [ -n "$t" ]; then
		mkdir -p "$dir/$devunit.d"
		printf '[Unit]\nJobRunningTimeoutSec=%s\n' "$t" > "$dir/$devunit.d/50-seal-timeout.conf"
	fi

	if seal_opt "$opts" nofail >/dev/null; then
		mkdir -p "$dir/cryptsetup.target.wants"
		ln -sf "$template" "$dir/cryptsetup.target.wants/$unit"
	else
		mkdir -p "$dir/cryptsetup.target.requires"
		ln -sf "$template" "$dir/cryptsetup.target.requires/$unit"
	fi
	mkdir -p "$dir/$mapunit.requires"
	ln -sf "$template" "$dir/$mapunit.requires/$unit"
done
exit 0
