#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install everything the project needs from Debian's packages, and unpack the two guest
# kernels into the cache. Idempotent: prints nothing when there is nothing to do.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/mk/kernels.env"
cache=${SEAL_CACHE:-/var/cache/dm-seal}

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

say() { echo "deps: $*" >&2; }

wanted_packages()
{
	local f
	for f in "$top/mk/packages" "$top"/*/DEPS; do
		[ -f "$f" ] && sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$f"
	done
	local k
	for k in 6_1 6_12; do
		local kver=KVER_$k kpkg=KPKG_$k
		echo "linux-headers-${!kver}=${!kpkg}"
	done
	echo "$KSRC_6_1=$KPKG_6_1"
}

# A package is missing when it is not installed, or installed at another version than pinned.
missing_packages()
{
	local spec name ver have
	while read -r spec; do
		name=${spec%%=*}
		ver=
		[ "$name" != "$spec" ] && ver=${spec#*=}
		have=$(dpkg-query -W -f='${db:Status-Abbrev}${Version}' "$name" 2>/dev/null || true)
		case "$have" in
		ii*) [ -z "$ver" ] || [ "${have#ii }" = "$ver" ] || [ "${have:3}" = "$ver" ] || echo "$spec" ;;
		*) echo "$spec" ;;
		esac
	done < <(wanted_packages | sort -u)
}

install_packages()
{
	local missing
	missing=$(missing_packages)
	[ -z "$missing" ] && return 0
	say "installing from Debian: $(echo $missing)"
	$SUDO apt-get update -qq
	# --allow-downgrades: a pinned package (linux-source, the headers) that another install
	# upgraded goes back to the pinned version
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends --allow-downgrades \
		-o Dpkg::Use-Pty=0 $missing >/dev/null
}

# The guest kernels are unpacked, never installed as the host's kernel.
unpack_kernel()
{
	local kver=$1 pkgver=$2 dest=$cache/kernels/$1 tmp
	if [ -f "$dest/boot/vmlinuz-$kver" ] && [ -f "$dest/lib/modules/$kver/modules.dep" ]; then
		[ -f "$dest/boot/vmlinux-$kver" ] || extract_vmlinux "$kver"
		return 0
	fi
	say "unpacking guest kernel $kver ($pkgver)"
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' RETURN
	(cd "$tmp" && apt-get download -qq "linux-image-$kver=$pkgver" 2>/dev/null)
	$SUDO rm -rf "$dest"
	$SUDO mkdir -p "$dest"
	$SUDO dpkg -x "$tmp"/linux-image-*.deb "$dest"
	$SUDO depmod -b "$dest" "$kver"
	extract_vmlinux "$kver"
}

# The guests boot the ELF image inside vmlinuz through its PVH entry point (mk/vmlinux-extract)
extract_vmlinux()
{
	say "extracting vmlinux-$1 for the guests' PVH boot"
	$SUDO "$top/mk/vmlinux-extract" "$cache/kernels/$1/boot/vmlinuz-$1" "$cache/kernels/$1/boot/vmlinux-$1"
}

# From Debian's kernel source package, unpacked at deps time, never committed, in one pass
# over the 130 MB tarball (12 s of xz each): the kselftest headers and runner
# (run_kselftest.sh and the kselftest/ directory it sources, for `make -C tests/kernel
# install`; 6.1 has no ktap_helpers.sh), checkpatch and its data files, and crypto/testmgr.h
# (the IEEE 1619 XTS vectors the known-answer test reads).
unpack_kernel_source_files()
{
	local dest=$cache/linux-source tarball=/usr/src/$KSRC_6_1.tar.xz
	[ -f "$dest/.done-all-$KPKG_6_1" ] && return 0
	say "unpacking kselftest, checkpatch and testmgr.h from $tarball"
	$SUDO rm -rf "$dest"
	$SUDO mkdir -p "$dest"
	$SUDO tar -xJf "$tarball" -C "$dest" --strip-components=1 --wildcards \
		'*/tools/testing/selftests/kselftest.h' \
		'*/tools/testing/selftests/kselftest_harness.h' \
		'*/tools/testing/selftests/run_kselftest.sh' \
		'*/tools/testing/selftests/kselftest/runner.sh' \
		'*/tools/testing/selftests/kselftest/prefix.pl' \
		'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch' \
		'*/crypto/testmgr.h'
	$SUDO touch "$dest/.done-all-$KPKG_6_1"
}

install_packages
unpack_kernel "$KVER_6_1" "$KPKG_6_1"
unpack_kernel "$KVER_6_12" "$KPKG_6_12"
unpack_kernel_source_files
