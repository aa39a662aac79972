#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# sealctl(8) documents what the code does: the exit-code table equals
# userspace/exitcode.h, every command and long option of sealctl --help is
# described, every field of the --json schema is named, the sealtab options the code knows
# (booted system and initramfs) are the documented ones, and the token plugin exports exactly
# the documented symbols at CRYPTSETUP_TOKEN_1.0.
. "$(dirname "$0")/helpers/common.sh"
require man objdump jq

ktap_begin 8
page=$TOP/Documentation/sealctl.8

code=$(sed -n 's/.*X(\([A-Z_]*\), *\([0-9]*\), "\(.*\)").*/\2\t\3/p' "$TOP/userspace/exitcode.h")
doc=$(sed -n '/^\.TS/,/^\.TE/p' "$page" | grep -E '^[0-9]+	' | sed 's/\\-/-/g')
ktap_same "exit-code table in sealctl(8) equals exitcode.h" "$doc" "$code"

rendered=$(MANWIDTH=200 man -l "$page" 2>/dev/null)
missing=
for opt in $("$SEALCTL" --help | grep -oE -- '--[a-z-]+' | sort -u); do
	printf '%s\n' "$rendered" | grep -q -- "$opt" || missing="$missing $opt"
done
ktap_same "every option of --help is in sealctl(8)" "${missing:-none}" none
missing=
for cmd in $("$SEALCTL" --help | sed -n 's/^  \([a-z-]*\) .*/\1/p'); do
	printf '%s\n' "$rendered" | grep -qE "^       $cmd " || missing="$missing $cmd"
done
ktap_same "every command is described in sealctl(8)" "${missing:-none}" none

missing=
for field in $(jq -r '.. | objects | .properties? // empty | keys[]' \
	"$TOP/Documentation/sealctl-json.schema.json" | sort -u); do
	printf '%s\n' "$rendered" | grep -qw -- "$field" || missing="$missing $field"
done
ktap_same "every field of sealctl-json.schema.json is named in sealctl(8)" "${missing:-none}" none

# sealtab options: the booted system's parser, the initramfs's and the admin guide's table
# (section 5) name the same ones (KEY= for those with a value)
c_opts=$(sed -n 's/^\t{ "\([a-z0-9_.-]*\)", \(true\|false\), .*/\1 \2/p' "$TOP/userspace/sealtab.c" |
	sed 's/ true$/=/; s/ false$//' | sort | tr '\n' ' ')
sh_opts=$(sed -n '/# the list of options/,/;;/{/#/d;p}' "$TOP/dracut/90seal/seal-lib.sh" |
	grep -oE '[a-z_][a-z0-9_.-]*=?\*?' |
	sed 's/\*$//' | sort -u | tr '\n' ' ')
doc_opts=$(sed -n '/^## 5\./,/^## 6\./p' "$TOP/Documentation/admin-guide.md" |
	sed -n 's/^| `\([a-z_][a-z0-9_.-]*=\?\)[^`]*` |.*/\1/p' | sort -u | tr '\n' ' ')
ktap_same "sealtab options: seal-lib.sh accepts those sealtab.c knows" "$sh_opts" "$c_opts"
ktap_same "sealtab options: the admin guide's table lists those sealtab.c knows" "$doc_opts" "$c_opts"

syms=$(objdump -T "$PLUGIN" | awk '$NF ~ /^cryptsetup_token_/ && $(NF-1) == "CRYPTSETUP_TOKEN_1.0" {print $NF}' | sort | tr '\n' ' ')
ktap_same "plugin exports its entry points at CRYPTSETUP_TOKEN_1.0" "$syms" \
	"cryptsetup_token_buffer_free cryptsetup_token_dump cryptsetup_token_open cryptsetup_token_open_pin cryptsetup_token_validate cryptsetup_token_version "
others=$(objdump -T "$PLUGIN" | awk '$4 != "*UND*" && $NF !~ /^cryptsetup_token_/ && $NF != "CRYPTSETUP_TOKEN_1.0" && $2 ~ /g/' | wc -l)
ktap_same "plugin exports nothing else" "$others" 0

ktap_end
