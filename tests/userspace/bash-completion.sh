#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The bash completion for sealctl (userspace/sealctl.bash-completion), sourced into this
# shell and asked as bash asks it: commands and long options equal sealctl --help's, option
# arguments are skipped, block devices for a volume, sealtab names for open and close, seal
# mappings (and no others) for close and status, the keyslots of a real volume for remove-slot.
. "$(dirname "$0")/helpers/common.sh"
require
completion=$TOP/userspace/sealctl.bash-completion

ktap_begin 16
# shellcheck source=/dev/null
. "$completion"
ktap_check "it defines the completion for sealctl" grep -q '_sealctl' <(complete -p sealctl 2>&1)

# complete LINE: what TAB offers at the end of LINE (one a line, sorted)
complete_line()
{
	local COMP_WORDS COMP_CWORD COMPREPLY
	read -r -a COMP_WORDS <<<"$1"
	[[ $1 == *" " ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	_sealctl
	printf '%s\n' "${COMPREPLY[@]}" | sort
}

ktap_same "commands: those of sealctl --help" "$(complete_line "sealctl ")" \
	"$("$SEALCTL" --help | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p' | sort)"
ktap_same "long options: those of sealctl --help" "$(complete_line "sealctl --" | grep -- '^--')" \
	"$("$SEALCTL" --help | grep -oE -- '--[a-z-]+' | sort -u)"
ktap_same "a prefix: st is status" "$(complete_line "sealctl -v st")" status
ktap_same "enroll DEV: the keyslot types, after options with arguments" \
	"$(complete_line "sealctl -d key --pcrs 7+15 enroll /dev/sdb " | tr '\n' ' ')" "clevis passphrase recovery tang tpm2 "
ktap_same "--sector-size: 512 and 4096" "$(complete_line "sealctl --sector-size " | sort -n | tr "\n" " ")" "512 4096 "
touch "$WORK/passphrase-file"
ktap_same "--key-file: files" "$(complete_line "sealctl format --key-file $WORK/pass")" "$WORK/passphrase-file"

# block devices and mappings from a sysfs tree made here
blk=$(find /dev -maxdepth 1 -type b | sort | head -1)
sys=$WORK/sys
mkdir -p "$sys/class/block/${blk#/dev/}" "$sys/class/block/nodevnode0" "$sys/block/dm-0/dm" "$sys/block/dm-1/dm"
echo data >"$sys/block/dm-0/dm/name"
echo SEAL-0e3b1c1a6d524b8e9e4f111111111111-data >"$sys/block/dm-0/dm/uuid"
echo cryptroot >"$sys/block/dm-1/dm/name"
echo CRYPT-LUKS2-0e3b1c1a6d524b8e9e4f222222222222-cryptroot >"$sys/block/dm-1/dm/uuid"
_sealctl_sys=$sys
_sealctl_sealtab=$WORK/no-sealtab
ktap_same "format /dev/: block devices that have a node (${blk:-none here})" \
	"$(complete_line "sealctl format /dev/")" "$blk"
ktap_same "close: seal mappings only (not dm-crypt's)" "$(complete_line "sealctl close ")" data
printf '# name device\ndata /dev/sdb\nbackup UUID=41c7 /etc/k nofail\n\n' >"$WORK/sealtab"
ktap_same "open: sealtab names and block devices" \
	"$(complete_line "sealctl --sealtab $WORK/sealtab open " | tr '\n' ' ')" \
	"$(printf '%s\n' backup data $blk | sort | tr '\n' ' ')"
ktap_same "open b: the sealtab name" "$(complete_line "sealctl open --sealtab $WORK/sealtab b")" backup
ktap_same "close: seal mappings and sealtab names, once each" \
	"$(complete_line "sealctl --sealtab $WORK/sealtab close " | tr '\n' ' ')" "backup data "
ktap_same "status: seal mappings and block devices" "$(complete_line "sealctl status " | tr '\n' ' ')" \
	"$(printf '%s\n' data $blk | sort | tr '\n' ' ')"

# the keyslots of a real volume (an image file: completed as a file too)
new_image "$WORK/img"
printf 'first passphrase' >"$WORK/p1"
"$SEALCTL" format "$WORK/img" -d "$WORK/p1" >/dev/null 2>&1 &&
	"$SEALCTL" enroll "$WORK/img" passphrase -d "$WORK/p1" --new-key-file "$WORK/p1" >/dev/null 2>&1
ktap_result "a volume with keyslots 0 and 1" $?
ktap_same "list IMAGE-PREFIX: the image file" "$(complete_line "sealctl list $WORK/im")" "$WORK/img"
ktap_same "remove-slot DEV: its keyslots" \
	"$(PATH=$UBUILD:$PATH complete_line "sealctl remove-slot $WORK/img " | tr '\n' ' ')" "0 1 "
ktap_end
