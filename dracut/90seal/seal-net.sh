#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# dm-seal in the initramfs: the network for volumes bound to tang servers (clevis tokens).
# Installed as /lib/dracut-seal-net.sh; sourced by /lib/dracut-seal-lib.sh. POSIX sh.
#
# The initramfs brings a network up only when its command line asks for one: rd.neednet=1
# with ip= (dracut.cmdline(7); a hostonly image of a host with a tang-bound seal volume
# has rd.neednet=1 built in, module-setup.sh). This file never starts a network: before a
# volume with a tang binding is unlocked it waits for the network dracut brings up, at most
# rd.seal.tang-timeout= seconds (default 10), and each clevis token then gets as long in
# sealctl (--clevis-timeout). A volume without a tang binding never waits.

# seal_tang_urls DEV: the tang servers DEV's clevis keyslots are bound to (sss shares
# included), space-separated; empty for a volume without.
seal_tang_urls()
{
	sealctl list --json "$1" 2>/dev/null | jq -r '.keyslots[] | select(.type == "clevis" and .clevis)
		| .clevis | .. | objects | select(.pin == "tang") | .url // empty' 2>/dev/null | tr '\n' ' ' |
		sed 's/ $//'
}

# seal_tang_timeout: rd.seal.tang-timeout=, default 10.
seal_tang_timeout() { seal_seconds_arg rd.seal.tang-timeout 10; }

# seal_net_up: an interface has an address beyond the host (dracut's ifup, or systemd-networkd).
seal_net_up()
{
	[ -n "$(ip -o addr show scope global 2>/dev/null)" ]
}

# seal_net_ready NAME URLS: 0 when the volume NAME, bound to the tang servers URLS, may be
# unlocked now: the network is up, none was asked for (rd.neednet), or the wait for it is
# over (then one line names the servers that will not be reached); 1 while it is awaited,
# at most rd.seal.tang-timeout= seconds from the first call for NAME.
seal_net_ready()
{
	local _name=$1 _urls=$2 _t _now _start
	seal_net_up && return 0
	if ! getargbool 0 rd.neednet; then
		[ -e "$SEAL_RUN/$_name.no-net" ] ||
			warn "seal: $_name is bound to tang ($_urls) but the initramfs has no network (rd.neednet=1 ip=...); trying without"
		: > "$SEAL_RUN/$_name.no-net"
		return 0
	fi
	_t=$(seal_tang_timeout)
	read -r _now _ < /proc/uptime
	_now=${_now%.*}
	[ -e "$SEAL_RUN/$_name.net-wait" ] || echo "$_now" > "$SEAL_RUN/$_name.net-wait"
	read -r _start < "$SEAL_RUN/$_name.net-wait"
	[ $((_now - _start)) -lt "$_t" ] && return 1
	[ -e "$SEAL_RUN/$_name.no-net" ] ||
		warn "seal: NO network within ${_t}s for $_name: tang server(s) $_urls not reached"
	: > "$SEAL_RUN/$_name.no-net"
	return 0
}
