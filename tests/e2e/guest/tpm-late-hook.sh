#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Test machinery, not part of dracut/90seal: a cmdline hook in the e2e initramfs images.
# With seal_e2e.tpm=late on the kernel command line it hides the TPM from the initramfs by
# unbinding its driver (tpm_tis is built into Debian's kernels, so rd.driver.blacklist= cannot
# keep it out), and notes the device in /run/seal-e2e-tpm-late ("DRIVER-DIR DEVICE") for the
# booted system, which binds it again: a TPM2 that appears after the initramfs, with PCR 15
# still at its reset value. QEMU cannot hot-add a tpm-tis device.
# With seal_e2e.tpm=late:N the initramfs binds it again itself, while the unlock waits for it
# (rd.seal.tpm-timeout=): a background job waits until dm-seal is loaded (seal_unlock loads it
# right before that wait), then N seconds, binds the device to its driver again and prints
# "seal-e2e: TPM ... bound again" on the console (the kernel log at warning level: the
# console in both flavours). dracut-cmdline.service (KillMode=process, RemainAfterExit=yes)
# leaves the job running. The kernel does not give the chip its old number back (IMA holds
# the unbound one): it comes back as tpmN, N > 0, so the job links /dev/tpmrm0, the device the
# initramfs waits for and sealctl opens, to the new tpmrmN, as a TPM probed late for the
# first time would be named.
_arg=$(getarg seal_e2e.tpm=)
case $_arg in
late) _after="" ;;
late: | late:*[!0-9]*)
	warn "seal-e2e: seal_e2e.tpm=$_arg ignored (late or late:SECONDS)"
	return 0
	;;
late:*) _after=${_arg#late:} ;;
*) return 0 ;;
esac

# seal_e2e_rebind DRIVER-DIR DEVICE SECONDS DEVICE-PATH: the background job of
# seal_e2e.tpm=late:N
seal_e2e_rebind()
{
	# (runs in a subshell: its variables stay there)
	_n=0 _rm=none
	while [ ! -d /sys/module/dm_seal ]; do
		_n=$((_n + 1))
		[ $_n -lt 3000 ] || return 1
		sleep 0.2
	done
	sleep "$3"
	echo "$2" > "$1/bind" || return 1
	for _p in "$4"/tpmrm/tpmrm*; do
		[ -e "$_p" ] && _rm=${_p##*/}
	done
	_say="seal-e2e: TPM $2 bound again to ${1##*/} ${3}s after dm-seal loaded, as /dev/$_rm"
	if [ "$_rm" != tpmrm0 ] && [ -e "/dev/$_rm" ] && ln -s "$_rm" /dev/tpmrm0; then
		_say="$_say (linked as /dev/tpmrm0)"
	fi
	echo "<28>$_say" > /dev/kmsg
}

for _d in /sys/class/tpm/tpm*/device; do
	[ -e "$_d/driver" ] || continue
	_drv=$(readlink -f "$_d/driver")
	_path=$(readlink -f "$_d")
	_dev=${_path##*/}
	echo "$_dev" > "$_drv/unbind" || continue
	info "seal-e2e: TPM $_dev unbound from $_drv (seal_e2e.tpm=$_arg)"
	if [ -z "$_after" ]; then
		echo "$_drv $_dev" > /run/seal-e2e-tpm-late
	else
		(seal_e2e_rebind "$_drv" "$_dev" "$_after" "$_path") < /dev/null &
	fi
done
unset -f seal_e2e_rebind
unset _arg _after _d _drv _dev _path
