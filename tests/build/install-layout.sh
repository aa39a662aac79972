#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make install DESTDIR=...` lays out the tree the admin guide describes: the module in the
# kernel's updates/ directory, sealctl, its man page and bash completion under PREFIX, the
# token plugin where libcryptsetup looks for plugins, the udev rule that locks a TPM
# appearing late (naming PREFIX's sealctl), the sealtab generator where systemd looks for
# generators, the dracut module where dracut looks for
# modules, and the documents (with the --json schema). PREFIX moves what is under it and
# nothing else. Nothing lands outside DESTDIR. Without KVER= the module is for the running
# kernel (`uname -r`, faked here by a uname on PATH); with no headers for it, one line says
# what to do and nothing is installed.
# The build goes to a directory of its own: the shared build/ may be in use by guest tests.
. "$SEAL_ROOT/tests/lib/ktap.sh"
. "$SEAL_ROOT/mk/kernels.env"
. "$SEAL_ROOT/tests/lib/installed-files.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tokendir=$(seal_tokendir)

# uname -r prints $FAKE_KVER
mkdir "$tmp/bin"
printf '#!/bin/sh\n[ "$1" = -r ] && echo "$FAKE_KVER" && exit 0\nexec /bin/uname "$@"\n' >"$tmp/bin/uname"
chmod +x "$tmp/bin/uname"

# expected PREFIX KVER: the files install must create, one a line
expected()
{
	echo "lib/modules/$2/updates/dm-seal.ko"
	installed_userspace_files "$1" "$1/share/doc/dm-seal"
}

# mode PATH: octal permission bits
mode() { stat -c %a "$1" 2>/dev/null; }

ktap_begin 16
# PREFIX=/usr with KVER=6.1; PREFIX=/usr/local for the running kernel (6.12)
for prefix in usr usr/local; do
	root=$tmp/root-${prefix//\//-}
	kver=$KVER_6_1 kver_arg=KVER=$KVER_6_1
	[ $prefix = usr/local ] && kver=$KVER_6_12 kver_arg=
	log=$(PATH=$tmp/bin:$PATH FAKE_KVER=$KVER_6_12 make -C "$SEAL_ROOT" install \
		DESTDIR="$root" PREFIX="/$prefix" BUILD="$tmp/build" $kver_arg 2>&1)
	rc=$?
	[ $rc != 0 ] && ktap_diag "$(echo "$log" | tail -15)"
	ktap_result "make install DESTDIR=... PREFIX=/$prefix ${kver_arg:-(running kernel $kver)} succeeds" $rc

	got=$(cd "$root" 2>/dev/null && find . -type f -o -type l | sed 's|^\./||' | sort)
	ktap_same "PREFIX=/$prefix: exactly the expected files" "$got" "$(expected "$prefix" "$kver" | sort)"
	ktap_check "PREFIX=/$prefix: the late-TPM udev rule runs /$prefix/sbin/sealctl lock-tpm" \
		grep -q "RUN+=\"/$prefix/sbin/sealctl lock-tpm " "$root/lib/udev/rules.d/90-seal-tpm-late.rules"
done
ktap_check "without KVER=, the module is built for the running kernel $KVER_6_12" \
	grep -qx "$KVER_6_12" <(modinfo -F vermagic "$tmp/root-usr-local/lib/modules/$KVER_6_12/updates/dm-seal.ko" |
		cut -d' ' -f1)

# a running kernel without headers: one line naming the package, nothing installed
log=$(PATH=$tmp/bin:$PATH FAKE_KVER=6.99.0-1-amd64 make -C "$SEAL_ROOT" install \
	DESTDIR="$tmp/root-none" BUILD="$tmp/build" 2>&1)
rc=$?
ktap_same "no headers for the running kernel: make install fails" "$rc" 2
ktap_check "... with one line: install linux-headers-6.99.0-1-amd64 or pass KVER=" \
	grep -q "^make install: no headers for kernel 6.99.0-1-amd64: apt install linux-headers-6.99.0-1-amd64, or pass KVER=" <<<"$log"
ktap_same "... and installs nothing" "$(find "$tmp/root-none" -type f 2>/dev/null)" ""

root=$tmp/root-usr
ktap_same "sealctl is executable (0755)" "$(mode "$root/usr/sbin/sealctl")" 755
ktap_same "the dracut module's scripts are executable (0755)" \
	"$(mode "$root/usr/lib/dracut/modules.d/90seal/module-setup.sh")" 755
ktap_same "the module and documents are 0644" \
	"$(mode "$root/lib/modules/$KVER_6_1/updates/dm-seal.ko") $(mode "$root/usr/share/doc/dm-seal/README.md")" \
	"644 644"
ktap_check "the installed module is for $KVER_6_1" \
	grep -qx "vermagic=$KVER_6_1 .*" <(modinfo -F vermagic "$root/lib/modules/$KVER_6_1/updates/dm-seal.ko" |
		sed 's/^/vermagic=/')
ktap_check "the installed sealctl runs" "$root/usr/sbin/sealctl" --version
ktap_check "the installed plugin exports cryptsetup_token_open at CRYPTSETUP_TOKEN_1.0" \
	grep -q 'CRYPTSETUP_TOKEN_1.0 *cryptsetup_token_open$' \
	<(objdump -T "$root/${tokendir#/}/libcryptsetup-token-seal-tpm2.so")
ktap_end
