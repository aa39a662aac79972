# SPDX-License-Identifier: GPL-2.0
# Our LUKS2 token plugin under stock cryptsetup, for host and guest tests alike. Set PLUGIN
# (the built .so) before sourcing, and PLUGIN_COPY (a directory of the test's own) before
# the first with_plugin.

# where libcryptsetup looks for token plugins
TOKEN_DIR=$(cryptsetup --help 2>/dev/null | sed -n 's/^LUKS2 external token plugin path: \(.*\)\.$/\1/p')

# with_plugin CMD...: run CMD with our token plugin in libcryptsetup's plugin directory.
# libcryptsetup 2.6.1 has no run-time plugin path (no crypt_token_set_external_path before
# 2.7), so a private mount namespace bind-mounts a copy of the directory with the plugin added.
with_plugin()
{
	local dir=${PLUGIN_COPY:?}
	if [ ! -d "$dir" ]; then
		mkdir -p "$dir"
		cp -a "$TOKEN_DIR"/. "$dir"/ 2>/dev/null
		cp "$PLUGIN" "$dir"/
	fi
	unshare -m bash -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' - "$dir" "$TOKEN_DIR" "$@"
}
