#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# dkms.conf works: DKMS (Debian's dkms) adds the sources as `make install-dkms` lays them out
# in /usr/src/dm-seal-VERSION (and so the package dm-seal-dkms), builds dm-seal.ko against the
# installed header package of each pinned kernel,
# installs it into a scratch module tree, and removes it again. Everything happens in
# scratch trees (--sourcetree, --dkmstree, --installtree): the host's /var/lib/dkms and
# /lib/modules are left as they were. `make dkms-check` runs this file.
. "$SEAL_ROOT/tests/lib/ktap.sh"
. "$SEAL_ROOT/mk/kernels.env"

if ! command -v dkms >/dev/null; then
	ktap_begin 1
	ktap_fail "dkms builds dm-seal.ko" "dkms is not installed (make deps)"
	ktap_end
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
name=$(sed -n 's/^PACKAGE_NAME="\(.*\)"/\1/p' "$SEAL_ROOT/dkms.conf")
version=$("$SEAL_ROOT/mk/version")
dkms_opts=(--sourcetree "$tmp/src" --dkmstree "$tmp/dkms" --installtree "$tmp/modules")
host_before=$(ls -R /var/lib/dkms 2>/dev/null; find /lib/modules -path '*/updates/*' 2>/dev/null)

# DKMS signs what it builds with a machine key it creates in /var/lib/dkms on first use; a
# signing tool that is not there makes it skip signing instead (nothing here loads the module)
export sign_file=$tmp/no-sign-file

# dkms MODULE-ARGS...: run dkms on our scratch trees, output to the log
dkms_run() { dkms "$@" "${dkms_opts[@]}" >>"$tmp/dkms.log" 2>&1; }

ktap_begin 9
mkdir -p "$tmp/dkms" "$tmp/modules/$KVER_6_1" "$tmp/modules/$KVER_6_12"
make -C "$SEAL_ROOT" install-dkms DESTDIR="$tmp/root" >"$tmp/dkms.log" 2>&1 &&
	ln -s "$tmp/root/usr/src" "$tmp/src" || ktap_diag "$(cat "$tmp/dkms.log")"
ktap_check "dkms add $name/$version" dkms add -m "$name" -v "$version" "${dkms_opts[@]}"
for kver in "$KVER_6_1" "$KVER_6_12"; do
	: > "$tmp/dkms.log"
	dkms_run build -m "$name" -v "$version" -k "$kver" && dkms_run install -m "$name" -v "$version" -k "$kver" --no-depmod
	rc=$?
	[ $rc != 0 ] && ktap_diag "$(tail -20 "$tmp/dkms.log")" \
		"$(cat "$tmp/dkms/$name/$version/build/make.log" 2>/dev/null | tail -20)"
	ktap_result "dkms build and install for $kver" $rc
	ko=$(find "$tmp/modules/$kver" -name 'dm-seal.ko*' 2>/dev/null | head -1)
	# compressed like the kernel's own modules (6.12: .ko.xz)
	rel=${ko#"$tmp/modules/$kver/"}
	rel=${rel%.xz} rel=${rel%.zst} rel=${rel%.gz}
	ktap_same "$kver: installed as updates/dkms/dm-seal.ko, built for $kver" \
		"$rel $(modinfo -F vermagic "$ko" 2>/dev/null | cut -d' ' -f1)" \
		"updates/dkms/dm-seal.ko $kver"
done
status=$(dkms status -m "$name" -v "$version" "${dkms_opts[@]}" 2>&1)
ktap_check "dkms status shows it installed for both kernels" \
	test "$(grep -c ': installed' <<<"$status")" = 2
ktap_check "dkms remove --all" dkms remove -m "$name" -v "$version" --all "${dkms_opts[@]}"
ktap_same "nothing left in the scratch module tree" \
	"$(find "$tmp/modules" -name 'dm-seal.ko*' 2>/dev/null)" ""
ktap_same "the host's /var/lib/dkms and /lib/modules/*/updates are untouched" \
	"$(ls -R /var/lib/dkms 2>/dev/null; find /lib/modules -path '*/updates/*' 2>/dev/null)" "$host_before"
ktap_end
