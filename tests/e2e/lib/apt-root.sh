#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The Debian packages installed as an administrator installs them, without touching the
# host: in a private mount namespace (its mounts go with its last process), an overlay whose
# lower layer is the host's / (Debian bookworm with what `make deps` installed, every
# dependency of the packages among it) and whose upper layer is ROOT, a directory under
# build/, with /proc, /sys and /dev bound into it; chrooted there, real apt-get and the
# packages' maintainer scripts (dm-seal-dkms's postinst hands the source to DKMS). Afterwards
# ROOT holds exactly what installing changed: the overlay's upper layer.
#
#   apt-root.sh install ROOT DEB... -- KVER...
#       apt-get install the DEBs into the empty directory ROOT (nothing is downloaded: a
#       dependency the host lacks is a failure, one line naming it), then DKMS for each KVER
#   apt-root.sh run ROOT CMD...
#       CMD in the system installed there, ROOT over the host's /; its writes are discarded
#
# Nothing leaves build/: the overlay's work directory and mount point are ROOT's siblings,
# removed at the end. Failures end with one line "apt-root: ..." on stderr.
set -euo pipefail

die() { echo "apt-root: $*" >&2; exit 1; }

[ $# -ge 2 ] || die "usage: $0 install ROOT DEB... -- KVER... | run ROOT CMD..."
mode=$1 root=$(realpath -m "$2")
shift 2
# the mounts live in a namespace of this process's own
if [ -z "${SEAL_APT_ROOT_NS:-}" ]; then
	exec env SEAL_APT_ROOT_NS=1 unshare --mount --propagation private -- "$0" "$mode" "$root" "$@"
fi

dir=$(mktemp -d "$root.mnt.XXXXXX")
mnt=$dir work=""
trap 'umount -R "$dir" 2>/dev/null; rmdir "$dir"; [ -z "$work" ] || rm -rf "$work"' EXIT

case "$mode" in
install)
	[ -d "$root" ] && [ -z "$(ls -A "$root")" ] || die "$root: not an empty directory"
	work=$root.work
	rm -rf "$work" && mkdir -p "$work"
	mount -t overlay dm-seal-apt-root -o "lowerdir=/,upperdir=$root,workdir=$work" "$mnt"
	;;
run)
	[ -d "$root" ] || die "$root: no such directory"
	# ROOT over /, and an upper layer on a tmpfs that takes CMD's writes and goes with it.
	# ROOT, inside /, cannot be a lower layer above / ("overlapping layers"): a copy of it
	# on that tmpfs can (a few MiB).
	mount -t tmpfs -o mode=700 dm-seal-apt-root "$dir"
	mkdir "$dir/view" "$dir/upper" "$dir/work"
	cp -a "$root" "$dir/root"
	mnt=$dir/view
	mount -t overlay dm-seal-apt-root \
		-o "lowerdir=$dir/root:/,upperdir=$dir/upper,workdir=$dir/work" "$mnt"
	;;
*) die "unknown mode $mode" ;;
esac
for d in proc sys dev; do
	mount --rbind "/$d" "$mnt/$d"
done

# in_root CMD...: CMD chrooted in the overlay, with a clean environment
in_root()
{
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
		DEBIAN_FRONTEND=noninteractive chroot "$mnt" "$@"
}

if [ "$mode" = run ]; then
	set +e
	in_root "$@"
	exit
fi

debs=() names=() kvers=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
	debs+=("$(realpath "$1")")
	names+=("$(dpkg-deb -f "$1" Package)")
	shift
done
[ $# -gt 0 ] && shift
kvers=("$@")
[ ${#debs[@]} -gt 0 ] || die "no package to install"

# What apt would install besides the packages: on the host already, or a failure. (A
# simulation downloads nothing; with --no-download it fails without naming what it lacks.)
sim=$(in_root apt-get install -s "${debs[@]}" 2>&1) ||
	{ echo "$sim" >&2; die "apt-get cannot install ${names[*]} (above)"; }
echo "$sim"
extra=$(awk -v ours=" ${names[*]} " '$1 == "Inst" && index(ours, " " $2 " ") == 0 { print $2 }' <<<"$sim" |
	tr '\n' ' ')
[ -z "$extra" ] ||
	die "apt-get would download ${extra% } for ${names[*]}: a dependency mk/packages lacks (make deps installs what it lists)"

# (the simulation above has shown that nothing comes from a repository; apt 2.6 cannot take
# local .debs with --no-download: "Internal Error, Pathname to install is not absolute")
in_root apt-get install -y -o Dpkg::Use-Pty=0 "${debs[@]}" ||
	die "apt-get install ${names[*]} failed (above)"

# dm-seal-dkms's postinst builds for the running kernel and the newest one in /boot, or,
# when the running kernel is not installed here (a chroot: uname -r is the host's, which
# has no modules tree), for every kernel in /lib/modules. Which kernels those are depends on
# the machine; the guests need theirs: what an administrator does after installing a
# kernel's headers (DKMS's kernel hook does the same), for each of them. A no-op for the
# kernels the postinst built for.
for k in "${kvers[@]}"; do
	in_root dkms autoinstall -k "$k" || die "dkms autoinstall -k $k failed (above)"
	compgen -G "$mnt/lib/modules/$k/updates/dkms/dm-seal.ko*" >/dev/null ||
		die "DKMS installed no dm-seal.ko for $k (dkms status: $(in_root dkms status dm-seal -k "$k" | tr '\n' ' '))"
done
# DKMS signed the modules with a machine key it made (/var/lib/dkms/mok.key, in ROOT): of no
# use once the modules are built, and a private key has no business lying in build/
rm -f "$mnt/var/lib/dkms/mok.key"
in_root dkms status
