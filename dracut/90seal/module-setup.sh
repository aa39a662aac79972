#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# dracut module 90seal: unlock dm-seal volumes (LUKS2 headers, seal target) before the root
# file system mounts: unattended through the TPM2, else by asking for a passphrase or
# recovery key. Documentation/admin-guide.md describes the configuration.
#
# Settings for dracut.conf.d (all optional):
#   seal_sealctl=PATH       the sealctl binary to install (default: sealctl in PATH)
#   seal_token_plugin=PATH  libcryptsetup-token-seal-tpm2.so to install (default: from
#                           libcryptsetup's plugin directory)
#   seal_module=PATH        dm-seal.ko to install for the image's kernel (default: the one in
#                           its module tree, where DKMS (package dm-seal-dkms) or
#                           `make install` put it)
#   seal_sealtab=PATH       install this file as /etc/sealtab whatever the mode (default:
#                           hostonly images get this host's /etc/sealtab entries, generic
#                           images none)
#   seal_tctis="device"     tpm2-tss TCTI modules to install (libtss2-tcti-<name>.so.0)
#   seal_network=yes|no     for volumes bound to tang servers: dracut's network module and
#                           clevis's tang and sss pins (clevis, jose, curl) in the image
#                           (default: yes when a seal volume of this host the image is for
#                           has a tang binding, hostonly; else no). The network comes up
#                           only with rd.neednet=1 (built in for such a host) and ip=.

# The sealctl to install, or nothing.
seal_sealctl_path()
{
	if [[ $seal_sealctl ]]; then
		[[ -x $seal_sealctl ]] && echo "$seal_sealctl"
	else
		find_binary sealctl
	fi
}

# "DEVICE NAME" for every active seal mapping on this host whose backing device holds one
# of the file systems the image is built for.
seal_host_volumes()
{
	local _name _majmin _dev
	command -v dmsetup >/dev/null || return 0
	# NAME: START LEN seal CIPHER KEY IV_OFFSET MAJ:MIN OFFSET [OPTIONS]
	dmsetup table --target seal 2>/dev/null | while read -r _name _ _ _ _ _ _ _majmin _; do
		[[ $_majmin == *:* ]] || continue
		_dev=$(readlink -f "/dev/block/$_majmin") || continue
		[[ ${host_fs_types[$_dev]+_} ]] || continue
		echo "$_dev ${_name%:}"
	done
}

# The host volumes (seal_host_volumes) bound to a tang server, one "DEVICE NAME" a line.
# Compared with true: jq 1.6's -e succeeds on no input (sealctl failing to read the volume).
seal_host_tang_volumes()
{
	local _dev _name _sealctl
	_sealctl=$(seal_sealctl_path)
	seal_host_volumes | while read -r _dev _name; do
		[[ $("$_sealctl" list --json "$_dev" 2>/dev/null | jq '[.keyslots[] | select(.type == "clevis")
			| .clevis | .. | objects | select(.pin == "tang")] | length > 0' 2>/dev/null) == true ]] &&
			echo "$_dev $_name"
	done
}

# Does the image get the network and clevis (seal_network)?
seal_wants_network()
{
	case "${seal_network:-auto}" in
	yes) return 0 ;;
	no) return 1 ;;
	esac
	[[ $hostonly ]] && [[ $(seal_host_tang_volumes) ]]
}

check()
{
	local _sealctl
	_sealctl=$(seal_sealctl_path)
	if [[ ! $_sealctl ]]; then
		dinfo "90seal: sealctl not found${seal_sealctl:+ at $seal_sealctl}"
		return 1
	fi
	# seal-lib.sh reads sealctl's JSON with it
	require_binaries jq || return 1
	if [[ $hostonly ]] || [[ $mount_needs ]]; then
		[[ $(seal_host_volumes) ]] && return 0
		[[ -s $dracutsysrootdir/etc/sealtab ]] && grep -qE '^[^#].*[[:space:],]force(,|$)' \
			"$dracutsysrootdir/etc/sealtab" && return 0
		return 255
	fi
	return 0
}

depends()
{
	local _deps="dm"
	# the prompt goes through systemd-ask-password in a systemd initramfs
	dracut_module_included "systemd" && _deps+=" systemd-ask-password"
	# dracut's network (brought up with rd.neednet=1 ip=) for tang bindings
	seal_wants_network && _deps+=" network"
	echo "$_deps"
	return 0
}

cmdline()
{
	local _dev _name _uuid
	while read -r _dev _name; do
		_uuid=$(blkid -s UUID -o value "$_dev") || continue
		[[ $_uuid ]] || continue
		printf ' rd.seal.uuid=%s rd.seal.name=%s=%s' "$_uuid" "$_uuid" "$_name"
	done < <(seal_host_volumes)
}

installkernel()
{
	local _ko _dep
	# the target, what it needs, and the TPM drivers (not filtered by hostonly: the TPM
	# need not be in use on the build host)
	hostonly='' instmods dm-mod xts ecb aesni_intel aes_generic
	hostonly='' instmods '=drivers/char/tpm'
	if [[ $seal_module ]]; then
		if [[ ! -f $seal_module ]]; then
			derror "90seal: seal_module=$seal_module does not exist"
			return 1
		fi
		_ko=/lib/modules/$kernel/updates/$(basename "$seal_module")
		inst_simple "$seal_module" "$_ko" || return 1
		for _dep in $(modinfo -F depends "$seal_module" | tr ',' ' '); do
			hostonly='' instmods "$_dep"
		done
	elif ! hostonly='' instmods -c dm-seal; then
		derror "90seal: no dm-seal.ko for kernel $kernel in ${srcmods:-/lib/modules/$kernel}" \
			"(with dm-seal-dkms installed, DKMS builds it once linux-headers-$kernel is;" \
			"from a checkout: \`make install KVER=$kernel\`)"
		return 1
	fi
	return 0
}

# The directory libcryptsetup loads token plugins from (next to libcryptsetup itself).
seal_plugin_dir()
{
	local _lib
	_lib=$(ldd "$1" 2>/dev/null | sed -n 's/^[[:space:]]*libcryptsetup\.so[^ ]* => \([^ ]*\) .*/\1/p')
	[[ $_lib ]] || return 1
	echo "$(dirname "$_lib")/cryptsetup"
}

# Host sealtab entries whose device backs a file system the image needs, or marked force.
seal_filter_sealtab()
{
	local _name _spec _a _b _dev _hdev _opts
	while read -r _name _spec _a _b || [[ $_name ]]; do
		[[ $_name == \#* || ! $_spec ]] && continue
		_opts=${_b:-$_a}
		if [[ ,$_opts, == *,force,* ]]; then
			echo "$_name $_spec $_a${_b:+ $_b}"
			continue
		fi
		case "$_spec" in
		UUID=*) _dev=/dev/disk/by-uuid/${_spec#UUID=} ;;
		PARTUUID=*) _dev=/dev/disk/by-partuuid/${_spec#PARTUUID=} ;;
		LABEL=*) _dev=/dev/disk/by-label/${_spec#LABEL=} ;;
		PARTLABEL=*) _dev=/dev/disk/by-partlabel/${_spec#PARTLABEL=} ;;
		ID=*) _dev=/dev/disk/by-id/${_spec#ID=} ;;
		*) _dev=$_spec ;;
		esac
		for _hdev in "${!host_fs_types[@]}"; do
			if [[ $_hdev -ef $_dev ]]; then
				echo "$_name $_spec $_a${_b:+ $_b}"
				break
			fi
		done
	done < "$dracutsysrootdir/etc/sealtab"
}

# 90crypt announces every LUKS device of the host (rd.luks.uuid=); a seal volume is one, and
# systemd-cryptsetup racing sealctl for it would open it with dm-crypt. Take ours out.
seal_untangle_crypt()
{
	local _conf="$initdir/etc/cmdline.d/90crypt.conf" _dev _name _uuid
	[[ -f $_conf ]] || return 0
	while read -r _dev _name; do
		_uuid=$(blkid -s UUID -o value "$_dev") || continue
		[[ $_uuid ]] && sed -i "s/ *rd\.luks\.uuid=luks-$_uuid//g" "$_conf"
	done < <(seal_host_volumes)
}

install()
{
	local _sealctl _plugin _plugindir _t _conf

	_sealctl=$(seal_sealctl_path)
	inst_binary "$_sealctl" /usr/sbin/sealctl || {
		derror "90seal: cannot install $_sealctl"
		return 1
	}

	# Token plugins: ours (stock cryptsetup unlocks seal-tpm2 keyslots through it), and any
	# other the host has, since sealctl tries every token a plugin handles.
	_plugindir=$(seal_plugin_dir "$_sealctl") || {
		derror "90seal: $_sealctl is not linked with libcryptsetup"
		return 1
	}
	if [[ $seal_token_plugin ]]; then
		inst_library "$seal_token_plugin" "$_plugindir/libcryptsetup-token-seal-tpm2.so"
	fi
	for _plugin in "$dracutsysrootdir$_plugindir"/libcryptsetup-token-*.so; do
		[[ -e $_plugin ]] && inst_library "${_plugin#"$dracutsysrootdir"}"
	done

	# tpm2-tss opens its TCTI modules with dlopen(): ldd does not see them.
	for _t in ${seal_tctis:-device}; do
		inst_libdir_file "libtss2-tcti-$_t.so*" ||
			dwarn "90seal: no libtss2-tcti-$_t.so: TCTI $_t will not work in the initramfs"
	done
	inst_libdir_file -o "libgcc_s.so*"

	inst_multiple modprobe setsid flock tr sed blkid udevadm jq
	inst_multiple -o timeout stty sync poweroff
	inst_simple "$moddir/seal-lib.sh" /lib/dracut-seal-lib.sh
	inst_simple "$moddir/seal-net.sh" /lib/dracut-seal-net.sh
	if seal_wants_network; then
		# sealctl runs `clevis decrypt` for clevis tokens; the tang pin asks its servers
		# with curl, the sss pin combines shares (clevis's own dracut unlock is not needed)
		inst_multiple clevis clevis-decrypt clevis-decrypt-tang jose curl ip || {
			derror "90seal: seal_network: clevis, its tang pin, jose or curl is missing (apt install clevis jose curl)"
			return 1
		}
		inst_multiple -o clevis-decrypt-sss cat
		# a hostonly image for a host whose seal volume is bound to tang asks for the network
		if [[ $hostonly_cmdline == "yes" ]] && [[ $(seal_host_tang_volumes) ]]; then
			echo "rd.neednet=1" > "$initdir/etc/cmdline.d/90seal-net.conf"
		fi
	fi
	inst_script "$moddir/seal-unlock.sh" /sbin/seal-unlock
	inst_hook emergency 50 "$moddir/seal-emergency.sh"
	inst_hook pre-pivot 90 "$moddir/seal-pivot.sh"

	# Configuration: a hostonly image gets this host's volumes, any image the sealtab named
	# by seal_sealtab.
	if [[ $seal_sealtab ]]; then
		inst_simple "$seal_sealtab" /etc/sealtab || {
			derror "90seal: cannot install seal_sealtab=$seal_sealtab"
			return 1
		}
	elif [[ $hostonly ]] && [[ -f $dracutsysrootdir/etc/sealtab ]]; then
		seal_filter_sealtab > "$initdir/etc/sealtab"
		mark_hostonly /etc/sealtab
	fi
	if [[ $hostonly_cmdline == "yes" ]]; then
		_conf=$(cmdline)
		[[ $_conf ]] && printf '%s\n' "$_conf" >> "$initdir/etc/cmdline.d/90seal.conf"
	fi
	[[ $hostonly ]] && seal_untangle_crypt

	if dracut_module_included "systemd"; then
		inst_simple "$moddir/seal-unlock@.service" "$systemdsystemunitdir/seal-unlock@.service"
		inst_script "$moddir/seal-generator.sh" \
			"$systemdutildir/system-generators/dracut-seal-generator"
		inst_script "$moddir/seal-askpass.sh" /usr/lib/dracut-seal/systemd-ask-password
		inst_simple "$moddir/seal-lock-tpm.service" "$systemdsystemunitdir/seal-lock-tpm.service"
		for _t in emergency rescue debug-shell dracut-emergency; do
			mkdir -p "$initdir$systemdsystemunitdir/$_t.service.d"
			printf '[Unit]\nWants=seal-lock-tpm.service\nAfter=seal-lock-tpm.service\n' \
				> "$initdir$systemdsystemunitdir/$_t.service.d/90-seal-lock-tpm.conf"
		done
		inst_multiple -o "$systemdsystemunitdir/cryptsetup.target" \
			"$systemdsystemunitdir/cryptsetup-pre.target"
		mkdir -p "$initdir$systemdsystemunitdir/sysinit.target.wants"
		ln_r "$systemdsystemunitdir/cryptsetup.target" \
			"$systemdsystemunitdir/sysinit.target.wants/cryptsetup.target"
	else
		inst_hook cmdline 40 "$moddir/parse-seal.sh"
		dracut_need_initqueue
	fi
}
