#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# /etc/sealtab in the booted system, without a guest: seal-sealtab-generator's units for a
# sample sealtab (ordering, nofail, noauto, _netdev, device-timeout=, key files, escaping,
# systemd-analyze verify), one warning and no unit for a bad line, the initramfs's parser
# (dracut/90seal/seal-lib.sh) agreeing with sealtab.c on the same file, and sealctl open's
# refusals for an unknown NAME (exit 23) and an unsafe key file (exit 24), and its one-line
# hint when a clevis token binds the volume to tang but the entry lacks _netdev. The opening
# itself is tested in a guest (tests/kernel/sealctl-no-tpm.sh), and the units under systemd as
# PID 1 in one (tests/kernel/sealtab-boot.sh: a key file 0600 opens, 0644 is refused).
. "$(dirname "$0")/helpers/common.sh"
require systemd-analyze systemd-escape
GEN=$UBUILD/seal-sealtab-generator

ktap_begin 17

U=0e3b1c1a-6d52-4b8e-9e4f-111111111111
tab=$WORK/sealtab
cat > "$tab" <<EOT
# name   device             keyfile              options
root     UUID=$U                                 tries=5
data     PARTLABEL=data-1   /etc/keys/data.key   nofail,device-timeout=20
net      /dev/sdb           -                    _netdev,x-systemd.device-timeout=7
later    LABEL=x            none                 noauto
keyonly  /dev/sdc           /etc/keys/k
db+2     /dev/sdd
bad
two/x    /dev/sde
relkey   /dev/sdf           etc/key              nofail
data     /dev/sdg
EOT
out=$WORK/gen
mkdir -p "$out"
"$GEN" --sealtab "$tab" "$out" "$out.early" "$out.late" 2>"$WORK/gen.err"
ktap_result "the generator succeeds on a sealtab with bad lines" $?

got=$(cd "$out" && ls -1 -- *.service | sort | tr '\n' ' ')
ktap_same "one unit per valid entry, named as systemd-escape does" "$got" \
	"$(for n in db+2 data keyonly later net root; do echo "seal-open@$(systemd-escape "$n").service"; done | sort | tr '\n' ' ')"
got=$(sed 's/^seal-sealtab-generator: [^:]*:\([0-9]*\): .*/\1/' "$WORK/gen.err" | tr '\n' ' ')
ktap_same "one warning per bad line (line numbers), naming the file" "$got" "8 9 10 11 "

unit=$out/seal-open@root.service
dev=$(systemd-escape --path --suffix=device /dev/disk/by-uuid/$U)
grep -qxF "BindsTo=$dev" "$unit" && grep -qxF "After=$dev" "$unit" &&
	grep -qxF 'Before=cryptsetup.target umount.target' "$unit" &&
	grep -qxF 'ConditionPathExists=!/dev/mapper/root' "$unit" &&
	grep -qxF 'ExecStart=sealctl open root' "$unit" &&
	[ -L "$out/cryptsetup.target.requires/seal-open@root.service" ] &&
	[ -e "$out/cryptsetup.target.requires/seal-open@root.service" ] &&
	[ -L "$out/dev-mapper-root.device.requires/seal-open@root.service" ]
ktap_result "bound to and after its device, before cryptsetup.target, required by it and by /dev/mapper/NAME, skipped when already open" $?

[ -L "$out/cryptsetup.target.wants/seal-open@data.service" ] &&
	[ ! -e "$out/cryptsetup.target.requires/seal-open@data.service" ]
ktap_result "nofail: cryptsetup.target only wants it" $?

[ ! -e "$out/cryptsetup.target.requires/seal-open@later.service" ] &&
	[ ! -e "$out/cryptsetup.target.wants/seal-open@later.service" ] &&
	[ -L "$out/dev-mapper-later.device.requires/seal-open@later.service" ]
ktap_result "noauto: no target pulls it in, /dev/mapper/NAME still does" $?

unit=$out/seal-open@net.service
[ -L "$out/remote-cryptsetup.target.requires/seal-open@net.service" ] &&
	[ ! -e "$out/cryptsetup.target.requires/seal-open@net.service" ] &&
	grep -qxF 'Before=remote-cryptsetup.target umount.target' "$unit" &&
	grep -q '^After=.*network-online.target' "$unit" && grep -qxF 'Wants=network-online.target' "$unit"
ktap_result "_netdev: remote-cryptsetup.target, after the network" $?

got=$(cat "$out/$(systemd-escape --path --suffix=device /dev/disk/by-partlabel/data-1).d/50-seal-timeout.conf" \
	"$out/dev-sdb.device.d/50-seal-timeout.conf" 2>&1 | grep '^JobRunning' | tr '\n' ' ')
ktap_same "device-timeout= and x-systemd.device-timeout= bound the wait for the device" "$got" \
	"JobRunningTimeoutSec=20 JobRunningTimeoutSec=7 "

grep -qxF 'RequiresMountsFor=/etc/keys/data.key' "$out/seal-open@data.service" &&
	grep -qxF 'RequiresMountsFor=/etc/keys/k' "$out/seal-open@keyonly.service" &&
	! grep -q RequiresMountsFor "$out/seal-open@root.service"
ktap_result "a key file (third field of four, or of three when it starts with /) is mounted first" $?

# verify: with the sealctl it runs (from systemd's search path) the build's, not installed here
mkdir -p "$WORK/verify"
for f in "$out"/*.service; do
	sed "s|^\(Exec[A-Za-z]*=\)sealctl |\1$RELEASE_SEALCTL |" "$f" > "$WORK/verify/${f##*/}"
done
got=$(cd "$WORK/verify" && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no ./*.service 2>&1)
ktap_same "systemd-analyze verify passes on every unit" "$got" ""

mkdir -p "$WORK/none"
"$GEN" --sealtab "$WORK/missing" "$WORK/none" 2>"$WORK/none.err"
rc=$?
ktap_same "no sealtab: success, no unit, no message" "$rc $(ls -A "$WORK/none") $(cat "$WORK/none.err")" "0  "

# The initramfs's parser on the same file: the same entries (less those it leaves to the
# booted system: key files, noauto) with the same devices, the same bad lines named.
sh_out=$( (
	warn() { echo "warn: $*" >&2; }
	info() { :; }
	. "$TOP/dracut/90seal/seal-lib.sh"
	SEAL_SEALTAB=$tab
	seal_sealtab | while read -r n spec _; do
		seal_valid_name "$n" || { warn "invalid $n"; continue; }
		echo "$n $(seal_dev_path "$spec")"
	done
) 2>"$WORK/sh.err"
)
want=$(for u in "$out"/*.service; do
	grep -q RequiresMountsFor "$u" && continue
	n=$(sed -n 's|^ExecStart=.* open ||p' "$u")
	[ "$n" = later ] && continue
	d=$(sed -n 's/^BindsTo=//p' "$u")
	echo "$n $(systemd-escape --unescape --path "${d%.device}")"
done | sort)
ktap_same "the initramfs's parser reads the same entries and devices" "$(echo "$sh_out" | sort -u)" "$want"
ktap_same "... and names as many bad lines" "$(wc -l < "$WORK/sh.err")" 4

# sealctl open NAME's refusals (the opening itself: tests/kernel/sealctl-no-tpm.sh)
ktap_expect "open NAME: neither a sealtab entry nor a device: one line, exit 23" 23 \
	"^sealctl: nosuch: no such volume in $tab, and no such device$" \
	"$SEALCTL" --sealtab "$tab" open nosuch
img=$WORK/img
truncate -s 20M "$img"
printf 'pw' > "$WORK/key"
chmod 0640 "$WORK/key"
"$SEALCTL" format -d "$WORK/key" "$img" >/dev/null 2>&1 </dev/null
printf 'vol %s %s\n' "$img" "$WORK/key" > "$WORK/tab.key"
ktap_expect "open NAME: a key file group or others may read is refused before any unlock: one line, exit 24" 24 \
	"^sealctl: $img: key file $WORK/key refused: (group or others may access it \\(mode 0640; |not owned by root)" \
	"$SEALCTL" --sealtab "$WORK/tab.key" open --test-passphrase vol

# open NAME's hint: a volume a clevis token binds to tang (an sss share of it here, as the
# fleet recipe has it) is opened after boot only once the network is up if its entry has
# _netdev. The token's JWE is only its header (no server is asked: --no-tokens), imported as
# clevis luks bind writes it; --test-passphrase opens nothing.
b64url() { basenc --base64url -w0 | tr -d =; }
tang_jwe="$(printf '{"alg":"ECDH-ES","clevis":{"pin":"tang","tang":{"url":"http://tang.invalid"}}}' | b64url).AA.AA.AA"
hdr=$(printf '{"alg":"dir","clevis":{"pin":"sss","sss":{"t":1,"jwe":["%s"]}}}' "$tang_jwe" | b64url)
printf 'pw' > "$WORK/pw"
# open_hint TAB-LINE [ARG]: what sealctl open --test-passphrase NAME (or ARG) says of it
open_hint()
{
	printf '%s\n' "$1" > "$WORK/tab.net"
	"$SEALCTL" --sealtab "$WORK/tab.net" open --test-passphrase --no-tokens -d "$WORK/pw" "${2:-vault}" 2>&1 </dev/null
	echo "exit $?"
}
no_tang=$(open_hint "vault $img")
printf '{"type":"clevis","keyslots":["0"],"jwe":{"ciphertext":"AA","encrypted_key":"","iv":"AA","protected":"%s","tag":"AA"}}' \
	"$hdr" | cryptsetup token import --json-file - "$img" 2>&1
got=$(open_hint "vault $img - nofail")
want="sealctl: vault: token 0 binds it to tang, but its sealtab entry has no _netdev: at boot seal-open@vault.service runs before the network is up
sealctl: $img: keyslot 0 unlocks the volume
exit 0"
ktap_same "open NAME: a tang binding, an entry without _netdev: one line says it opens before the network (and it opens)" \
	"$got" "${want}"
got="$no_tang
$(open_hint "vault $img - _netdev,nofail")
$(open_hint "vault $img" "$img")"
ktap_same "... none with _netdev, none without a tang binding, none for a device (not a sealtab name)" \
	"$(grep -c _netdev <<<"$got") $(grep -c 'exit 0' <<<"$got")" "0 3"

ktap_end
