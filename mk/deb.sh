#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make deb: the Debian packages dm-seal-dkms and sealctl, built by dpkg-buildpackage from a
# copy of the checkout (the worktree stays clean, and dpkg-buildpackage's results, written
# next to the source directory, land in $BUILD/deb/), then checked by lintian.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
out=$build/deb
version=$("$top/mk/version")
src=$out/dm-seal-$version

rm -rf "$out"
mkdir -p "$src"
# What git tracks, plus new files it does not ignore; without git, everything but build/.
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$top" && git ls-files -z --cached --others --exclude-standard |
		xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
		tar --null -T - -cf -) | tar -xf - -C "$src"
else
	tar -C "$top" --exclude=./build --exclude=./.cache -cf - . | tar -xf - -C "$src"
fi

log=$out/build.log
echo "deb: dpkg-buildpackage -us -uc -b (log: $log)"
if ! (cd "$src" && DEB_BUILD_OPTIONS="parallel=$(nproc) ${DEB_BUILD_OPTIONS:-}" \
	dpkg-buildpackage -us -uc -b) >"$log" 2>&1; then
	tail -30 "$log" >&2
	echo "deb: dpkg-buildpackage failed (full log: $log)" >&2
	exit 1
fi
rm -rf "$src"
changes=$(ls "$out"/dm-seal_"$version"_*.changes)
ls "$out"/*.deb
# lintian's errors fail the build; its warnings are printed (and kept in lintian.log).
# SEAL_DEB_LINTIAN=no: not at all (the e2e tests' build of the packages).
[ "${SEAL_DEB_LINTIAN:-yes}" = no ] && exit 0
as_root=
[ "$(id -u)" = 0 ] && as_root=--allow-root
if ! lintian $as_root --fail-on error "$changes" >"$out/lintian.log" 2>&1; then
	cat "$out/lintian.log" >&2
	echo "deb: lintian reports errors" >&2
	exit 1
fi
cat "$out/lintian.log"
