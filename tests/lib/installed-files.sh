# SPDX-License-Identifier: GPL-2.0
# The files `make install-userspace` lays out (and so `make install` and the sealctl package),
# for tests/build/install-layout.sh and tests/build/deb-package.sh.

# seal_tokendir: libcryptsetup's token plugin directory, as cryptsetup reports it
seal_tokendir()
{
	local d
	d=$(cryptsetup --help 2>/dev/null | sed -n 's/^LUKS2 external token plugin path: \(.*\)\.$/\1/p')
	echo "${d:-/lib/x86_64-linux-gnu/cryptsetup}"
}

# installed_userspace_files PREFIX DOCDIR (both without the leading /): one file a line
installed_userspace_files()
{
	local tokendir
	tokendir=$(seal_tokendir)
	cat <<EOF
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
usr/lib/dracut/modules.d/90seal/seal-net.sh
usr/lib/dracut/modules.d/90seal/seal-lock-tpm.service
usr/lib/dracut/modules.d/90seal/seal-pivot.sh
usr/lib/dracut/modules.d/90seal/seal-unlock.sh
usr/lib/dracut/modules.d/90seal/seal-unlock@.service
$2/README.md
$2/admin-guide.md
$2/format.md
$2/seal.rst
$2/threat-model.md
$2/sealctl-json.schema.json
EOF
}
