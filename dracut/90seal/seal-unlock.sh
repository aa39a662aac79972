#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# seal-unlock NAME: unlock the seal volume NAME (see /lib/dracut-seal-lib.sh). Run by
# seal-unlock@NAME.service in a systemd initramfs, by the initqueue otherwise.
type getarg >/dev/null 2>&1 || . /lib/dracut-lib.sh
type seal_volumes >/dev/null 2>&1 || . /lib/dracut-seal-lib.sh

name=$1
if ! line=$(seal_volume "$name"); then
	warn "seal: no volume named '$name' on the kernel command line or in /etc/sealtab"
	exit 1
fi
dev=${line%% *}
opts=${line#* }
seal_check_options "$name" "$opts"

if seal_systemd; then
	# The unit runs after its device appeared; a failure fails the unit, and the unit's
	# OnFailure= starts the emergency shell.
	seal_unlock "$name" "$dev" "$opts"
	rc=$?
	if [ $rc = 0 ]; then
		info "seal: $name unlocked"
		exit 0
	fi
	echo "$SEAL_REASON" >&2
	exit $rc
fi

# initqueue (settled): called on every pass until the volume is open; quiet until its
# device appears.
job="$hookdir/initqueue/settled/seal-$name.sh"
if [ -e "$SEAL_RUN/$name.done" ]; then
	rm -f "$job"
	exit 0
fi
seal_unlock "$name" "$dev" "$opts"
case $? in
0)
	rm -f "$job"
	info "seal: $name unlocked"
	exit 0
	;;
"$SEAL_NOT_YET")
	exit 0
	;;
esac
if seal_opt "$opts" nofail >/dev/null; then
	warn "$SEAL_REASON; continuing without it (nofail)"
	: > "$SEAL_RUN/$name.done"
	rm -f "$job"
	exit 0
fi
# Stop here with the reason on the console; leaving the shell tries this volume again.
emergency_shell -n seal "$SEAL_REASON"
exit 1
