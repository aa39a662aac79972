#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# sealctl reencrypt: a new DEK for an open, mounted volume while files are written to it.
# The passphrase keyslot is re-wrapped, the tpm2 keyslot (PCR 7) sealed anew to its policy;
# a keyslot whose passphrase is not given is refused (nothing changes), then dropped with
# --force. SIGINT stops the rotation cleanly midway (stock cryptsetup and sealctl open refuse
# the half-rotated volume meanwhile), --resume continues on the open mapping until SIGTERM,
# and after a close --resume DEV NAME opens the volume with both keys and finishes.
# Afterwards every file reads back (cold, after close and open), the header's volume key digest is a new one, the old
# passphrase opens the volume with sealctl and with stock cryptsetup, the TPM alone opens
# it, and fsck finds the file system clean.
# SEAL_STRESS=1: a 256 MiB data area instead of 24 MiB (the guest has 1 GiB).
# vm-options: --tpm
# vm-timeout: 600
# check-kernels: 6.1
. "$SEAL_ROOT/tests/lib/ktap.sh"
. "$SEAL_ROOT/tests/lib/guest.sh"
. "$SEAL_ROOT/tests/kernel/sealctl-common.sh"

ktap_begin 28
load_seal || { ktap_fail "dm-seal.ko loads"; ktap_end; }
tpm_usable
data_mib=24
[ "${SEAL_STRESS:-}" = 1 ] && data_mib=256
dev=$(ramdisk $((data_mib + 16)))
mnt=$work/mnt
mkdir -p "$mnt"
printf 'reencrypt passphrase' > "$work/pass"
printf 'second passphrase' > "$work/pass2"
head -c $((1 << 20)) /dev/urandom > "$work/data"
want=$(sha256sum < "$work/data" | cut -d' ' -f1)
for n in rv st; do dm_track $n; done
on_exit "umount $mnt 2>/dev/null"

# boundary: the reencrypt boundary in rv's status (empty with one key).
boundary() { dmsetup status rv | awk '$3 == "seal" && $9 == "reencrypt" { print $10 }'; }
# digest: the header's volume key digest (hash and salt; never the key).
digest() { cryptsetup luksDump "$dev" | sed -n '/^Digests:/,$p' | grep -vE '^\s*(Iterations|Hash)'; }
# files_ok: every file on the file system has the data's checksum.
files_ok()
{
	local f bad=0
	for f in "$mnt"/f*; do
		[ "$(sha256sum < "$f" | cut -d' ' -f1)" = "$want" ] || { echo "$f differs"; bad=1; }
	done
	return $bad
}

ktap_check "sealctl format" "$SEALCTL" format "$dev" -d "$work/pass"
ktap_check "enroll a second passphrase" \
	"$SEALCTL" enroll "$dev" passphrase -d "$work/pass" --new-key-file "$work/pass2"
ktap_check "enroll tpm2 (PCR 7)" "$SEALCTL" enroll "$dev" tpm2 --pcrs 7 -d "$work/pass"
ktap_check "sealctl open" "$SEALCTL" open "$dev" rv -d "$work/pass"
ktap_check "mkfs, mount, a file written" sh -c \
	"mkfs.ext4 -q /dev/mapper/rv && mount /dev/mapper/rv $mnt && cp $work/data $mnt/f0 && sync"
sectors=$(blockdev --getsz /dev/mapper/rv)
digest_before=$(digest)

ktap_expect "a keyslot whose passphrase is not given is refused (18)" 18 \
	"keyslot\(s\) 1 \(another passphrase\)[^,]*--force" "$SEALCTL" reencrypt rv -d "$work/pass"
ktap_same "and nothing changed (no rotation token, one key in the table)" \
	"$(cryptsetup luksDump "$dev" | grep -c seal-reencrypt) $(boundary)" "0 "

# files written during the rotation (at most 6)
(
	for i in 1 2 3 4 5 6; do
		[ -e "$work/stop" ] && break
		cp "$work/data" "$mnt/f$i" && sync || exit 1
		sleep 0.3
	done
) > "$work/writer.out" 2>&1 &
writer=$!
# 2 MiB/s: the signal must land before the rotation ends, and under TCG on a loaded host
# each look at the boundary (dmsetup status) takes a while; at 8 MiB/s a --resume of the
# last 14 MiB once finished before its SIGTERM
"$SEALCTL" reencrypt rv -d "$work/pass" --force --max-rate 2M > "$work/r1.out" 2>&1 &
re=$!
for _ in $(seq 200); do
	b=$(boundary)
	[ -n "$b" ] && [ "$b" -gt 0 ] && break
	sleep 0.05
done
kill -INT $re
wait $re
rc=$?
ktap_same "SIGINT stops the rotation cleanly (exit 28)" "$rc" 28
[ "$rc" = 28 ] || ktap_diag "$(cat "$work/r1.out")"
b=$(boundary)
ktap_check "the boundary stopped midway ($b of $sectors)" test -n "$b" -a "${b:-0}" -gt 0 -a "${b:-0}" -lt "$sectors"
ktap_check_fails "stock cryptsetup refuses the half-rotated volume" \
	cryptsetup open --test-passphrase "$dev" -d "$work/pass"
ktap_expect "sealctl open refuses it (29)" 29 "rotation is in progress" \
	"$SEALCTL" open "$dev" st -d "$work/pass"
ktap_expect "reencrypt without --resume refuses (29)" 29 "resume" \
	"$SEALCTL" reencrypt rv -d "$work/pass"
"$SEALCTL" reencrypt rv --resume -d "$work/pass" --max-rate 2M > "$work/r2.out" 2>&1 &
re=$!
for _ in $(seq 200); do
	b2=$(boundary)
	[ -n "$b2" ] && [ "$b2" -gt "$b" ] && break
	sleep 0.05
done
kill -TERM $re
wait $re
rc=$?
b2=$(boundary)
ktap_same "--resume continues on the open mapping, SIGTERM stops it again (28, $b -> $b2)" \
	"$rc $([ "${b2:-0}" -gt "${b:-0}" ] && [ "${b2:-0}" -lt "$sectors" ] && echo moved)" "28 moved"
[ "$rc" = 28 ] || ktap_diag "$(cat "$work/r2.out")"
touch "$work/stop"
wait $writer
writer_rc=$?
umount "$mnt"
ktap_check "the half-rotated volume closes" "$SEALCTL" close rv
ktap_expect "reencrypt --resume of the closed volume without NAME says how (29)" 29 \
	"reencrypt --resume $dev NAME" "$SEALCTL" reencrypt "$dev" --resume -d "$work/pass"
ktap_expect "reencrypt --resume DEV NAME finishes the rotation of the closed volume" 0 \
	"under a new key; 2 keyslot\(s\) re-wrapped, 1 dropped" \
	"$SEALCTL" reencrypt "$dev" rv --resume -d "$work/pass"
mount /dev/mapper/rv "$mnt"
ktap_expect "reencrypt --resume with nothing to resume is refused (18)" 18 "no rotation to resume" \
	"$SEALCTL" reencrypt rv --resume -d "$work/pass"
nfiles=$(ls "$mnt" | grep -c '^f')
ktap_check "$nfiles files on the file system, all but one written during the rotation" \
	test "$writer_rc" = 0 -a "$nfiles" -gt 1
ktap_same "the table holds one key again" "$(boundary)|$(dmsetup table rv | grep -c reencrypt)" "|0"
ktap_check_fails "the header's volume key digest is a new one" test "$(digest)" = "$digest_before"
ktap_same "the header has two keyslots and no rotation token" \
	"$(cryptsetup luksDump "$dev" | grep -cE '^  [0-9]+: luks2') $(cryptsetup luksDump "$dev" | grep -c seal-reencrypt)" "2 0"
ktap_check_fails "the dropped keyslot's passphrase opens nothing" \
	cryptsetup open --test-passphrase "$dev" -d "$work/pass2"

umount "$mnt"
ktap_check "sealctl close" "$SEALCTL" close rv
ktap_check "the old passphrase opens the volume again, all $nfiles files read back" bash -c \
	"'$SEALCTL' open '$dev' rv -d '$work/pass' && mount /dev/mapper/rv $mnt && $(declare -f files_ok); want=$want mnt=$mnt files_ok; r=\$?; umount $mnt; exit \$r"
"$SEALCTL" close rv
ktap_expect "the re-sealed tpm2 keyslot alone unlocks the new key" 0 "keyslot [0-9]+ unlocks" \
	"$SEALCTL" open "$dev" --token-only --test-passphrase
ktap_check "stock cryptsetup opens it, the files read back" bash -c \
	"cryptsetup open '$dev' st -d '$work/pass' && mount -o ro /dev/mapper/st $mnt && $(declare -f files_ok); want=$want mnt=$mnt files_ok; r=\$?; umount $mnt; exit \$r"
ktap_check "fsck finds the file system clean" e2fsck -fn /dev/mapper/st
cryptsetup close st
ktap_end
