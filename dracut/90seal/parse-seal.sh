#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# cmdline hook (non-systemd initramfs): queue one unlock job per seal volume and make the
# boot wait for each mapping.
type getarg >/dev/null 2>&1 || . /lib/dracut-lib.sh
type seal_volumes >/dev/null 2>&1 || . /lib/dracut-seal-lib.sh

mkdir -p "$SEAL_RUN"
seal_volumes > "$SEAL_RUN/volumes"
while read -r _name _dev _opts; do
	[ -n "$_name" ] || continue
	seal_check_options "$_name" "$_opts"
	case "$_dev" in
	*"'"*)
		warn "seal: $_name: cannot use a device path with a quote in it: $_dev"
		continue
		;;
	esac
	# The initqueue sources this on every pass until the volume is open: look for the
	# device first (no process to start), then unlock. (/sbin/initqueue would write the
	# same file without the test.)
	echo "[ -b '$_dev' ] && /sbin/seal-unlock '$_name'" > "/tmp/seal-$_name.sh"
	mv -f "/tmp/seal-$_name.sh" "$hookdir/initqueue/settled/seal-$_name.sh"
	if ! seal_opt "$_opts" nofail >/dev/null; then
		echo "[ -e \"$SEAL_RUN/$_name.done\" ]" > "$hookdir/initqueue/finished/90-seal-$_name.sh"
	fi
done < "$SEAL_RUN/volumes"
unset _name _dev _opts
