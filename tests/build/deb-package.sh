#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make deb` builds the Debian packages dm-seal-dkms and sealctl with dpkg-buildpackage
# (debian/: debhelper 13, dh-dkms), lintian finds no error in them (its warnings are shown
# as diagnostics), both carry the one version (debian/changelog, mk/version), and unpacked
# into a scratch root they hold what `make install-userspace` / `make install-dkms` lay out:
# sealctl (printing that version), the token plugin in libcryptsetup's plugin directory, the
# dracut module, the udev rule naming /usr/sbin/sealctl, the documents; the module's source
# in /usr/src/dm-seal-VERSION with a dkms.conf for that version, which the package's postinst
# hands to DKMS. Nothing is installed on the host.
# The build goes to a directory of its own: the shared build/ may be in use by guest tests.
. "$SEAL_ROOT/tests/lib/ktap.sh"
. "$SEAL_ROOT/tests/lib/installed-files.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
version=$("$SEAL_ROOT/mk/version")
debs=$tmp/build/deb
dkms_deb=$debs/dm-seal-dkms_${version}_all.deb

# files PKG.deb: the regular files it holds, one a line, without the leading ./ and with
# dh_compress's .gz taken off
files() { dpkg-deb -c "$1" 2>/dev/null | awk '$1 ~ /^-/ {print $6}' | sed -e 's|^\./||' -e 's|\.gz$||' | sort; }

ktap_begin 12
log=$(make -C "$SEAL_ROOT" deb BUILD="$tmp/build" 2>&1)
rc=$?
[ $rc != 0 ] && ktap_diag "$(echo "$log" | tail -30)"
ktap_result "make deb succeeds" $rc
sealctl_deb=$(ls "$debs"/sealctl_"${version}"_*.deb 2>/dev/null)

lintian_log=$(cat "$debs/lintian.log" 2>/dev/null)
[ -n "$lintian_log" ] && ktap_diag "lintian:" "$lintian_log"
no_lintian_error() { [ -f "$debs/lintian.log" ] && ! grep -q '^E:' "$debs/lintian.log"; }
ktap_check "lintian reports no error" no_lintian_error

ktap_same "both packages are version $version (debian/changelog)" \
	"$(dpkg-deb -f "$dkms_deb" Version 2>/dev/null) $(dpkg-deb -f "$sealctl_deb" Version 2>/dev/null)" \
	"$version $version"

root=$tmp/root
mkdir -p "$root"
dpkg-deb -x "$dkms_deb" "$root" 2>/dev/null
dpkg-deb -x "$sealctl_deb" "$root" 2>/dev/null
ktap_same "the packaged sealctl --version prints $version" \
	"$("$root/usr/sbin/sealctl" --version 2>&1)" "sealctl $version"

# what the Makefile lays out, without building anything
make -C "$SEAL_ROOT" install-dkms DESTDIR="$tmp/dkms-ref" >/dev/null 2>&1
ktap_same "dm-seal-dkms holds what make install-dkms lays out, and its copyright and changelog" \
	"$(files "$dkms_deb")" \
	"$( (cd "$tmp/dkms-ref" && find . -type f | sed 's|^\./||'
	    printf 'usr/share/doc/dm-seal-dkms/%s\n' changelog copyright) | sort)"
ktap_check "its dkms.conf is for dm-seal $version" \
	grep -qx "PACKAGE_VERSION=\"$version\"" "$root/usr/src/dm-seal-$version/dkms.conf"
postinst=$(dpkg-deb -I "$dkms_deb" postinst 2>/dev/null)
hands_to_dkms()
{
	grep -qx "DKMS_NAME=dm-seal" <<<"$postinst" && grep -qx "DKMS_VERSION=$version" <<<"$postinst" &&
		grep -q /usr/lib/dkms/common.postinst <<<"$postinst" &&
		dpkg-deb -f "$dkms_deb" Depends | grep -qw dkms
}
ktap_check "its postinst hands dm-seal $version to DKMS, which it depends on" hands_to_dkms

ktap_same "sealctl holds what make install-userspace lays out, and its copyright and changelog" \
	"$(files "$sealctl_deb")" \
	"$( (installed_userspace_files usr usr/share/doc/sealctl
	    printf 'usr/share/doc/sealctl/%s\n' changelog copyright) | sort)"
ktap_check "the token plugin is in libcryptsetup's plugin directory $(seal_tokendir)" \
	test -f "$root$(seal_tokendir)/libcryptsetup-token-seal-tpm2.so"
ktap_check "the late-TPM udev rule runs /usr/sbin/sealctl lock-tpm" \
	grep -q 'RUN+="/usr/sbin/sealctl lock-tpm ' "$root/lib/udev/rules.d/90-seal-tpm-late.rules"
depends=$(dpkg-deb -f "$sealctl_deb" Depends 2>/dev/null)
ktap_diag "sealctl Depends: $depends"
links_deps() { grep -q libcryptsetup12 <<<"$depends" && grep -q libtss2-esys <<<"$depends" &&
	grep -q libjson-c <<<"$depends"; }
ktap_check "sealctl depends on the libraries it links (libcryptsetup12, libtss2-esys, libjson-c)" links_deps
# the dracut module refuses to go into an image without jq (module-setup.sh), so a Recommends
# that --no-install-recommends or an earlier removal drops is not enough
depends_jq() { tr -d ' ' <<<"$depends" | tr ',' '\n' | grep -qx 'jq'; }
ktap_check "sealctl depends on jq (the dracut module reads sealctl list --json with it)" depends_jq
ktap_end
