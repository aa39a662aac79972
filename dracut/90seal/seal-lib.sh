#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# dm-seal in the initramfs: which volumes to unlock, and unlocking one.
# Installed as /lib/dracut-seal-lib.sh; sourced after /lib/dracut-lib.sh by the cmdline
# hook, the systemd generator, /sbin/seal-unlock and the emergency hook. POSIX sh.
#
# A volume is one line "NAME DEVICE OPTIONS" (OPTIONS comma-separated, "-" for none), from
#   rd.seal.uuid=UUID          (repeatable) unlock the LUKS2 volume with this UUID
#   rd.seal.name=UUID=NAME     ... and name its mapping NAME (implies rd.seal.uuid=UUID)
#   rd.seal.name=NAME          the mapping name when exactly one rd.seal.uuid is given
#   /etc/sealtab               NAME DEVICE [KEYFILE] [OPTIONS] per line (Documentation/admin-guide.md
#                              section 5; entries with a key file or noauto are the booted system's)
# With any rd.seal.uuid/rd.seal.name, exactly those volumes are unlocked (a sealtab entry whose
# DEVICE is UUID=<the same UUID> lends its name and options); without, every sealtab entry.
# rd.seal=0 disables the module; rd.seal.sealtab=0 ignores /etc/sealtab.

SEAL_RUN=/run/seal
SEAL_SEALTAB=${SEAL_SEALTAB:-/etc/sealtab}
# the network for tang bindings (seal_tang_urls, seal_net_ready)
type seal_net_ready >/dev/null 2>&1 || ! [ -r /lib/dracut-seal-net.sh ] || . /lib/dracut-seal-net.sh

# seal_dev_path SPEC: the device node a sealtab DEVICE or a UUID names.
seal_dev_path()
{
	case "$1" in
	UUID=*) echo "/dev/disk/by-uuid/${1#UUID=}" ;;
	PARTUUID=*) echo "/dev/disk/by-partuuid/${1#PARTUUID=}" ;;
	LABEL=*) echo "/dev/disk/by-label/${1#LABEL=}" ;;
	PARTLABEL=*) echo "/dev/disk/by-partlabel/${1#PARTLABEL=}" ;;
	ID=*) echo "/dev/disk/by-id/${1#ID=}" ;;
	/*) echo "$1" ;;
	*) echo "/dev/disk/by-uuid/$1" ;;
	esac
}

# seal_valid_name NAME: usable as a device-mapper name, a file name and a unit instance.
seal_valid_name()
{
	case "$1" in
	'' | . | .. | *[!A-Za-z0-9_.:+-]*) return 1 ;;
	esac
	[ ${#1} -le 127 ]
}

# seal_sealtab: the sealtab's entries as "NAME DEVICE OPTIONS", those the initramfs opens.
# The format (Documentation/admin-guide.md section 5) is read in the booted system by
# userspace/sealtab.c (sealctl open NAME, seal-sealtab-generator): change both or neither.
# NAME DEVICE [KEYFILE] [OPTIONS]: a third field of four is a key file, "none" or "-"; of
# three, a key file if it starts with /, else the options. Entries with a key file (on the
# root, not in the initramfs) or noauto are left to the booted system.
seal_sealtab()
{
	local _n _d _a _b _rest _seen=" "
	[ -r "$SEAL_SEALTAB" ] || return 0
	while read -r _n _d _a _b _rest || [ -n "$_n" ]; do
		case "$_n" in
		'' | '#'*) continue ;;
		esac
		if [ -z "$_d" ] || [ -n "$_rest" ]; then
			warn "seal: $SEAL_SEALTAB: cannot parse the entry for '$_n'; ignored"
			continue
		fi
		if [ -n "$_b" ]; then
			case "$_a" in
			none | -) _a=$_b ;;
			/*) _a=key-file ;;
			*)
				warn "seal: $SEAL_SEALTAB: $_n: the key file must be an absolute path, not '$_a'; entry ignored"
				continue
				;;
			esac
		fi
		case "$_seen" in
		*" $_n "*)
			warn "seal: $SEAL_SEALTAB: $_n is named twice (the first entry wins); ignored"
			continue
			;;
		esac
		_seen="$_seen$_n "
		case "$_a" in
		/* | key-file)
			info "seal: $SEAL_SEALTAB: $_n has a key file: left to the booted system"
			continue
			;;
		esac
		if seal_opt "${_a:--}" noauto >/dev/null; then
			info "seal: $SEAL_SEALTAB: $_n is noauto: left to the booted system"
			continue
		fi
		printf '%s %s %s\n' "$_n" "$_d" "${_a:--}"
	done < "$SEAL_SEALTAB"
}

# seal_volumes: every volume to unlock, one "NAME DEVICE OPTIONS" line each.
seal_volumes()
{
	local _tab="" _uuids="" _plain="" _u _n _spec _o _name _opts _seen
	getargbool 1 rd.seal || return 0
	getargbool 1 rd.seal.sealtab && _tab=$(seal_sealtab)

	# rd.seal.uuid=UUID and rd.seal.name=UUID=NAME name volumes; rd.seal.name=NAME names one.
	for _u in $(getargs rd.seal.uuid=) $(getargs rd.seal.name= | tr ' ' '\n' | sed -n 's/=.*//p'); do
		_u=${_u#UUID=}
		case " $_uuids " in
		*" $_u "*) ;;
		*) _uuids="${_uuids:+$_uuids }$_u" ;;
		esac
	done
	for _n in $(getargs rd.seal.name=); do
		case "$_n" in
		*=*) ;;
		*) _plain=$_n ;;
		esac
	done
	if [ -z "$_uuids" ]; then
		[ -n "$_plain" ] && warn "seal: rd.seal.name=$_plain without rd.seal.uuid=; ignored"
		printf '%s\n' "$_tab" | while read -r _n _spec _o; do
			[ -n "$_n" ] || continue
			if ! seal_valid_name "$_n"; then
				warn "seal: $SEAL_SEALTAB: '$_n' is not a valid mapping name; ignored"
				continue
			fi
			echo "$_n $(seal_dev_path "$_spec") $_o"
		done
		return 0
	fi

	# shellcheck disable=SC2086
	set -- $_uuids
	if [ -n "$_plain" ] && [ $# -ne 1 ]; then
		warn "seal: rd.seal.name=$_plain is ambiguous with $# volumes (use rd.seal.name=UUID=NAME); ignored"
		_plain=""
	fi
	_seen=" "
	for _u in "$@"; do
		_name="" _opts="-"
		_o=$(printf '%s\n' "$_tab" | while read -r _n _spec _o; do
			case "$_spec" in
			"UUID=$_u" | "/dev/disk/by-uuid/$_u") echo "$_n $_o"; break ;;
			esac
		done)
		if [ -n "$_o" ]; then
			_name=${_o%% *}
			_opts=${_o#* }
		fi
		[ -n "$_plain" ] && _name=$_plain
		for _n in $(getargs rd.seal.name=); do
			case "$_n" in
			"$_u="*) _name=${_n#*=} ;;
			esac
		done
		[ -n "$_name" ] || _name="seal-$_u"
		if ! seal_valid_name "$_name"; then
			warn "seal: '$_name' is not a valid mapping name; volume $_u ignored"
			continue
		fi
		case "$_seen" in
		*" $_name "*)
			warn "seal: mapping name $_name is given twice; volume $_u ignored"
			continue
			;;
		esac
		_seen="$_seen$_name "
		echo "$_name /dev/disk/by-uuid/$_u $_opts"
	done
}

# seal_volume NAME: "DEVICE OPTIONS" of the volume NAME.
seal_volume()
{
	local _n _d _o
	# read to the end: leaving early would break seal_volumes' pipe ("write error")
	seal_volumes | {
		_rc=1
		while read -r _n _d _o; do
			if [ "$_n" = "$1" ] && [ $_rc = 1 ]; then
				echo "$_d $_o"
				_rc=0
			fi
		done
		exit $_rc
	}
}

# seal_opt OPTIONS KEY: succeeds if OPTIONS has KEY or KEY=VALUE, printing VALUE.
seal_opt()
{
	local _key=$2 _o _ifs=$IFS
	IFS=,
	# shellcheck disable=SC2086
	set -- $1
	IFS=$_ifs
	for _o in "$@"; do
		case "$_o" in
		"$_key")
			return 0
			;;
		"$_key="*)
			echo "${_o#*=}"
			return 0
			;;
		esac
	done
	return 1
}

# seal_check_options NAME OPTIONS: warn once about options this module does not know.
seal_check_options()
{
	local _name=$1 _o _ifs=$IFS
	IFS=,
	# shellcheck disable=SC2086
	set -- $2
	IFS=$_ifs
	for _o in "$@"; do
		case "$_o" in
		tries=0 | tries=*[!0-9]* | tries= | timeout=*[!0-9]* | timeout= | \
			device-timeout=*[!0-9]* | device-timeout= | \
			x-systemd.device-timeout=*[!0-9]* | x-systemd.device-timeout=)
			warn "seal: $_name: invalid '$_o' ignored (a whole number of tries or seconds)" ;;
		# the list of options: userspace/sealtab.c's known_options has the same
		- | tries=* | timeout=* | device-timeout=* | x-systemd.device-timeout=* | tpm2-pcrs=* | \
			tcti=* | nofail | noauto | _netdev | readonly | read-only | force) ;;
		*) warn "seal: $_name: unknown option '$_o' ignored" ;;
		esac
	done
}

# seal_pcr_list_covers HAVE WANT: every PCR in WANT (PCR lists joined by + or ,) is in HAVE.
seal_pcr_list_covers()
{
	local _have _w _ifs=$IFS
	_have="+$(echo "$1" | tr , +)+"
	IFS=+,
	# shellcheck disable=SC2086
	set -- $2
	IFS=$_ifs
	for _w in "$@"; do
		case "$_have" in
		*"+$_w+"*) ;;
		*) return 1 ;;
		esac
	done
	return 0
}

# seal_tpm2_pcrs_ok DEV WANT: some tpm2 keyslot of DEV is bound to at least the PCRs WANT.
# The PCR lists come from sealctl's JSON (Documentation/sealctl-json.schema.json), one line
# per tpm2 keyslot with its PCRs joined by +.
seal_tpm2_pcrs_ok()
{
	local _pcrs
	for _pcrs in $(sealctl list --json "$1" 2>/dev/null | jq -r \
		'.keyslots[] | select(.type == "tpm2" and .tpm2) | .tpm2.pcrs | map(tostring) | join("+")'); do
		seal_pcr_list_covers "$_pcrs" "$2" && return 0
	done
	return 1
}

# seal_exit_reason CODE: what a sealctl exit code (userspace/exitcode.h) means, for the one
# line a failure earns.
seal_exit_reason()
{
	case "$1" in
	1) echo "sealctl failed unexpectedly (out of memory, I/O error)" ;;
	2) echo "sealctl refused its command line (an option in /etc/sealtab or rd.seal.*?)" ;;
	3) echo "the device is missing, unreadable or too small" ;;
	4) echo "it is not a LUKS2 volume" ;;
	5) echo "both copies of its LUKS2 header are damaged" ;;
	6) echo "seal cannot handle this LUKS volume (cipher, key size, LUKS1 or reencryption)" ;;
	8) echo "the mapping name is already in use" ;;
	9) echo "no keyslot accepts the passphrase" ;;
	10) echo "no token unlocked it and no passphrase could be asked for" ;;
	11) echo "no TPM2 was found and no passphrase could be asked for" ;;
	12) echo "the PCR values differ from the sealed policy and no passphrase could be asked for" ;;
	13) echo "the TPM2 is in dictionary-attack lockout" ;;
	14) echo "the TPM2 is not the one the volume was enrolled with" ;;
	15) echo "the TPM2 PIN was wrong or missing" ;;
	16) echo "the TPM2 failed" ;;
	17) echo "its seal-tpm2 or clevis token is malformed" ;;
	19) echo "device-mapper refused the seal table (is dm-seal.ko loaded?)" ;;
	20) echo "the kernel keyring refused the key" ;;
	7) echo "the device already carries a signature" ;;
	18) echo "sealctl refused the request" ;;
	21) echo "the TPM2 did not confirm the PCR 15 extend (a forged answer on the TPM bus?)" ;;
	22) echo "the device is in use (mounted, mapped or opened exclusively)" ;;
	23) echo "no such volume" ;;
	24) echo "its key file is refused (not a regular file of root's, or group or others may access it)" ;;
	25) echo "its clevis token failed (tang servers unreachable?) and no passphrase could be asked for" ;;
	26) echo "the tang server's advertisement is not trusted" ;;
	27) echo "sealctl open --defer-lock found no /etc/initrd-release" ;;
	28) echo "sealctl was stopped by a signal" ;;
	29) echo "a DEK rotation of this volume is unfinished: sealctl reencrypt --resume DEVICE NAME finishes it" ;;
	124) echo "no passphrase was entered in time" ;;
	126 | 127) echo "sealctl cannot run" ;;
	*) echo "sealctl failed with exit code $1" ;;
	esac
}

# seal_console_tty: the terminal behind /dev/console (as dracut's emergency shell finds it).
seal_console_tty()
{
	local _c=console
	while [ -f "/sys/class/tty/$_c/active" ]; do
		read -r _c < "/sys/class/tty/$_c/active"
		_c=${_c##* }
	done
	if [ "$_c" != console ] && [ -c "/dev/$_c" ]; then
		echo "/dev/$_c"
	else
		echo /dev/console
	fi
}

# seal_uptime_cs: the time since boot in hundredths of a second.
seal_uptime_cs()
{
	local _up _rest
	read -r _up _rest < /proc/uptime
	_up=${_up%.*}${_up#*.}
	# no leading zero, which sh arithmetic would read as octal
	_up=${_up#"${_up%%[!0]*}"}
	echo "${_up:-0}"
}

# seal_tpm_wait SECONDS: load the TPM drivers (a no-op when they are built in) and wait up
# to SECONDS for /dev/tpmrm0; fails if it did not appear. bookworm's systemd 252 has no
# tpm2.target to order after, so both initramfs flavours poll. The bound is on the clock,
# not on a count of polls: on a slow or busy machine each poll's sleep took several times
# its 0.1 s, and a 60 s wait lasted minutes.
seal_tpm_wait()
{
	local _end
	[ -e /dev/tpmrm0 ] && return 0
	_end=$(($(seal_uptime_cs) + $1 * 100))
	modprobe -q tpm_tis 2>/dev/null
	modprobe -q tpm_crb 2>/dev/null
	while [ ! -e /dev/tpmrm0 ] && [ "$(seal_uptime_cs)" -lt $_end ]; do
		sleep 0.1
	done
	[ -e /dev/tpmrm0 ]
}

# seal_seconds_arg ARG DEFAULT: the whole number of seconds ARG= gives on the kernel command
# line, else DEFAULT.
seal_seconds_arg()
{
	local _t
	_t=$(getarg "$1=")
	case $_t in
	'') echo "$2" ;;
	*[!0-9]*)
		warn "seal: invalid $1=$_t ignored (a whole number of seconds)" >&2
		echo "$2"
		;;
	*) echo "$_t" ;;
	esac
}

# seal_tpm_timeout: rd.seal.tpm-timeout= (seconds to wait for the TPM before a tpm2 unlock),
# default 10.
seal_tpm_timeout() { seal_seconds_arg rd.seal.tpm-timeout 10; }

# seal_has_tpm2_slot DEV: some keyslot of DEV is unlocked by a TPM2 (ours or systemd's),
# by its type in sealctl's JSON (Documentation/sealctl-json.schema.json); a malformed tpm2
# token still counts. Fails when sealctl cannot list DEV (jq 1.6's -e succeeds on no input,
# hence the comparison).
seal_has_tpm2_slot()
{
	[ "$(sealctl list --json "$1" 2>/dev/null |
		jq 'any(.keyslots[]; .type == "tpm2" or .type == "systemd-tpm2")' 2>/dev/null)" = true ]
}

# seal_unseal_pending: an unseal of this boot (sealctl open --defer-lock) is not measured
# yet: its record in $SEAL_RUN/pending (sealctl lock-tpm extends and removes them).
seal_unseal_pending()
{
	local _f
	for _f in "$SEAL_RUN"/pending/*.unsealed; do
		[ -e "$_f" ] && return 0
	done
	return 1
}

# seal_poweroff: off at once, no shutdown sequence; never returns.
seal_poweroff()
{
	sync
	echo o > /proc/sysrq-trigger 2>/dev/null
	poweroff -f 2>/dev/null
	while :; do sleep 60; done
}

# seal_fail_closed WHAT: PCR 15 could not be extended where it must be: after this boot
# unsealed a KEK (a system booted on would have a TPM willing to unseal again), or before a
# shell while a TPM2 is there (whoever gets the shell could unseal). One line on the
# console, then power off (no shell, no switch to the root). Never returns.
seal_fail_closed()
{
	local _line="seal: PCR 15 NOT extended $1: powering off"
	echo "$_line" > "${SEAL_CONSOLE:-/dev/console}" 2>/dev/null || echo "$_line" >&2
	seal_poweroff
}

# seal_lock_tpm REASON: extend PCR 15 with the measurements of this boot's unseals
# ($SEAL_RUN/pending) and then "seal:lock:REASON", so that no tpm2 keyslot bound to its
# reset value unseals again until the next reboot: PCR 15 moves once all of this boot's
# unseals are done. Runs before every shell (the emergency hook: failures and rd.break
# points), rescue or debug shell (systemd units) and at the end of the initramfs, whether
# or not anything was unsealed; if it fails while an unseal is pending, or before a shell
# while a TPM2 is there, the boot stops (seal_fail_closed). At the end of the initramfs
# with nothing unsealed (a passphrase unlock) a failure is a warning: booting on hands no
# console a shell, and a TPM that refuses the extend is one an interposer speaks for,
# which can unseal on its own (Documentation/threat-model.md). The TPM driver may not be
# loaded yet (rd.break=pre-trigger comes before udev): load it and wait a little.
# With no TPM, $SEAL_RUN/tpm-not-locked tells the booted system (/run survives the switch
# to the root): a udev rule there (90-seal-tpm-late.rules, make install) extends PCR 15 of
# a TPM2 that appears later, before anyone can unseal with it.
seal_lock_tpm()
{
	local _out
	mkdir -p "$SEAL_RUN"
	if ! seal_tpm_wait 5; then
		seal_unseal_pending && seal_fail_closed "after this boot's TPM unseal ($1: the TPM2 is gone)"
		: > "$SEAL_RUN/tpm-not-locked"
		info "seal: no TPM2: PCR 15 not extended ($1); a TPM2 that appears later will be"
		return 0
	fi
	if ! _out=$(sealctl lock-tpm "$1" 2>&1); then
		seal_unseal_pending && seal_fail_closed "after this boot's TPM unseal ($1: $_out)"
		[ "$1" = initramfs-done ] || seal_fail_closed "before the shell, with a TPM2 present ($1: $_out)"
		warn "seal: PCR 15 NOT extended ($1): tpm2 keyslots may still unseal this boot: $_out"
		return 1
	fi
	rm -f "$SEAL_RUN/tpm-not-locked"
	info "seal: PCR 15 extended ($1): no tpm2 keyslot unseals again until reboot"
	return 0
}

# seal_unlock's answer when the device, or a tang-bound volume's network, is not there yet
# (dracut's initqueue calls again): none of sealctl's exit codes
SEAL_NOT_YET=100

# seal_systemd: the initramfs runs systemd (else dracut's own init and its initqueue).
seal_systemd() { [ -d /run/systemd/system ]; }

# seal_unlock NAME DEVICE OPTIONS: open the volume as /dev/mapper/NAME with sealctl: TPM2
# tokens first, then a passphrase prompt (systemd-ask-password in a systemd initramfs, the
# console otherwise). Returns 0 when the mapping exists, $SEAL_NOT_YET when DEVICE (or the
# network of a tang-bound one, in dracut's own init) is not there yet, and otherwise sealctl's exit code; SEAL_REASON is one line saying why.
seal_unlock()
{
	local _name=$1 _dev=$2 _opts=$3 _tries _timeout _v _rc _tty
	SEAL_REASON=""
	mkdir -p "$SEAL_RUN"
	if [ -e "/dev/mapper/$_name" ]; then
		: > "$SEAL_RUN/$_name.done"
		return 0
	fi
	if [ ! -b "$_dev" ]; then
		SEAL_REASON="seal: cannot unlock $_name: $_dev is not a block device"
		return $SEAL_NOT_YET
	fi

	_tries=$(seal_opt "$_opts" tries) || _tries=3
	_timeout=$(seal_opt "$_opts" timeout) || _timeout=0
	# invalid values were named by seal_check_options; the defaults stand for them
	case $_tries in '' | 0 | *[!0-9]*) _tries=3 ;; esac
	case $_timeout in '' | *[!0-9]*) _timeout=0 ;; esac
	set -- open --tries "${_tries:-3}"
	if _v=$(seal_opt "$_opts" tcti) && [ -n "$_v" ]; then
		set -- "$@" --tcti "$_v"
	fi
	# PCR 15 moves once every volume of this boot is unlocked (seal_lock_tpm); a volume with
	# its own TPM (tcti=) is measured at once
	seal_opt "$_opts" tcti >/dev/null || set -- "$@" --defer-lock
	if seal_opt "$_opts" readonly >/dev/null || seal_opt "$_opts" read-only >/dev/null; then
		set -- "$@" --readonly
	fi
	if _v=$(seal_opt "$_opts" tpm2-pcrs) && [ -n "$_v" ] && ! seal_tpm2_pcrs_ok "$_dev" "$_v"; then
		warn "seal: $_name: no tpm2 keyslot is bound to PCRs $_v (sealtab tpm2-pcrs=); asking for a passphrase"
		set -- "$@" --no-tokens
	fi
	set -- "$@" "$_dev" "$_name"

	if ! [ -d /sys/module/dm_seal ] && ! modprobe dm-seal; then
		SEAL_REASON="seal: cannot unlock $_name ($_dev): the dm-seal kernel module does not load"
		echo "$SEAL_REASON" > "$SEAL_RUN/$_name.failed"
		return 19
	fi

	# The TPM may still be on its way (a driver module, a slow probe): wait for it, bounded,
	# when the volume has a tpm2 keyslot and the TPM is the default device. Once per boot:
	# a TPM that did not come for one volume is not waited for again.
	if [ ! -e /dev/tpmrm0 ] && [ ! -e "$SEAL_RUN/tpm-absent" ] &&
	   ! seal_opt "$_opts" tcti >/dev/null && seal_has_tpm2_slot "$_dev"; then
		_v=$(seal_tpm_timeout)
		if ! seal_tpm_wait "$_v"; then
			: > "$SEAL_RUN/tpm-absent"
			warn "seal: NO TPM2 within ${_v}s, though $_name has a tpm2 keyslot: asking for a passphrase; a TPM2 appearing later gets PCR 15 extended at once"
		fi
	fi

	# A tang binding: the network first (bounded, seal_net_ready), polled here in a systemd
	# initramfs; dracut's initqueue calls again (not yet) while it brings the network up.
	_v=$(seal_tang_urls "$_dev")
	if [ -n "$_v" ]; then
		while ! seal_net_ready "$_name" "$_v"; do
			seal_systemd || return $SEAL_NOT_YET
			sleep 0.5
		done
		info "seal: $_name: asking tang server(s) $_v (at most $(seal_tang_timeout)s)"
		set -- "$@" --clevis-timeout "$(seal_tang_timeout)"
	fi

	if seal_systemd; then
		# sealctl asks through systemd-ask-password; the shim adds --timeout (its default
		# is 90 s, ours is to wait until someone answers). One volume at a time: a
		# prompt should not race another.
		{
			flock 9
			SEAL_ASKPASS_TIMEOUT=$_timeout PATH="/usr/lib/dracut-seal:$PATH" sealctl "$@"
			_rc=$?
		} 9>"$SEAL_RUN/.lock"
	else
		# sealctl prompts on its controlling terminal: give it the console's, one prompt
		# on the console at a time, not behind a splash screen.
		_tty=$(seal_console_tty)
		command -v plymouth >/dev/null && plymouth --ping 2>/dev/null && plymouth hide-splash
		{
			flock 9
			if [ "$_timeout" != 0 ] && command -v timeout >/dev/null; then
				setsid -c -w timeout --foreground "$_timeout" sealctl "$@" \
					0<>"$_tty" 1<>"$_tty" 2<>"$_tty"
				_rc=$?
				[ $_rc = 124 ] && stty echo 0<>"$_tty" 2>/dev/null
			else
				setsid -c -w sealctl "$@" 0<>"$_tty" 1<>"$_tty" 2<>"$_tty"
				_rc=$?
			fi
		} 9>/.console_lock
	fi

	if [ $_rc = 0 ] && [ -e "/dev/mapper/$_name" ]; then
		rm -f "$SEAL_RUN/$_name.failed"
		: > "$SEAL_RUN/$_name.done"
		return 0
	fi
	[ $_rc = 0 ] && _rc=1
	SEAL_REASON="seal: cannot unlock $_name ($_dev): $(seal_exit_reason $_rc)"
	echo "$SEAL_REASON" > "$SEAL_RUN/$_name.failed"
	return $_rc
}
