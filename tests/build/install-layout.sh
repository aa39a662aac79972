#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make install DESTDIR=...` lays out the tree the admin guide describes: the module in the
# kernel's updates/ directory, sealctl, its man page and bash completion under PREFIX, the
# token plugin where libcryptsetup looks for plugins, the udev rule that locks a TPM
# appearing late (naming PREFIX's sealctl), the sealtab generator where systemd looks for
# generators, the dracut module where dracut looks for
# modules, and the documents (with the --json schema). PREFIX moves what is under it and
# nothing else. Nothing lands outside DESTDIR.
# The build goes to a directory of its own: the shared build/ may be in use by guest tests.
. "$SEAL_ROOT/tests/lib/ktap.sh"
. "$SEAL_ROOT/mk/kernels.env"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tokendir=$(cryptsetup --help 2>/dev/null | sed -n 's/^LUKS2 external token plugin path: \(.*\)\.$/\1/p')
tokendir=${tokendir:-/lib/x86_64-linux-gnu/cryptsetup}

# expected PREFIX: the files install must create, one a line
expected()
{
	cat <<EOF
lib/modules/$KVER_6_1/updates/dm-seal.ko
$1/sbin/sealctl
$1/share/man/man8/sealctl.8
$1/share/bash-completion/completions/sealctl
${tokendir#/}/libcryptsetup-token-seal-tpm2.so
lib/udev/rules.d/90-seal-tpm-late.rules
usr/lib/systemd/system-generators/seal-sealtab-generator
usr/lib/dracut/modules.d/90seal/module-setup.sh
usr/lib/dracut/modules.d/90seal/parse-seal.sh
usr/lib/dracut/modules.d/90seal/seal-askpass.sh
usr/lib/dracut/modules.d/90seal/seal-emergency.sh
usr/lib/dracut/modules.d/90seal/seal-generator.sh
usr/lib/dracut/modules.d/90seal/seal-lib.sh
usr/lib/dracut/modules.d/90seal/seal-lock-tpm.service
usr/lib/dracut/modules.d/90seal/seal-pivot.sh
usr/lib/dracut/modules.d/90seal/seal-unlock.sh
usr/lib/dracut/modules.d/90seal/seal-unlock@.service
$1/share/doc/dm-seal/README.md
$1/share/doc/dm-seal/admin-guide.md
$1/share/doc/dm-seal/format.md
$1/share/doc/dm-seal/seal.rst
$1/share/doc/dm-seal/threat-model.md
$1/share/doc/dm-seal/sealctl-json.schema.json
EOF
}

# mode PATH: octal permission bits
mode() { stat -c %a "$1" 2>/dev/null; }

ktap_begin 12
for prefix in usr usr/local; do
	root=$tmp/root-${prefix//\//-}
	log=$(make -C "$SEAL_ROOT" install DESTDIR="$root" PREFIX="/$prefix" \
		BUILD="$tmp/build" 2>&1)
	rc=$?
	[ $rc != 0 ] && ktap_diag "$(echo "$log" | tail -15)"
	ktap_result "make install DESTDIR=... PREFIX=/$prefix succeeds" $rc

	got=$(cd "$root" 2>/dev/null && find . -type f -o -type l | sed 's|^\./||' | sort)
	ktap_same "PREFIX=/$prefix: exactly the expected files" "$got" "$(expected "$prefix" | sort)"
	ktap_check "PREFIX=/$prefix: the late-TPM udev rule runs /$prefix/sbin/sealctl lock-tpm" \
		grep -q "RUN+=\"/$prefix/sbin/sealctl lock-tpm " "$root/lib/udev/rules.d/90-seal-tpm-late.rules"
done

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
