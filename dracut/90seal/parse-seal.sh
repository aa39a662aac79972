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
	/sbin/initqueue --settled --unique --name "seal-$_name" /sbin/seal-unlock "$_name"
	if ! seal_opt "$_opts" nofail >/dev/null; then
		echo "[ -e \"$SEAL_RUN/$_name.done\" ]" > "$hookdir/initqueue/finished/90-seal-$_name.sh"
	fi
done < "$SEAL_RUN/volumes"
unset _name _dev _opts
