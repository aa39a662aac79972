#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# sealctl and stock tools on the same volumes: `cryptsetup open --token-type seal-tpm2`
# through our plugin, stock dm-crypt with the passphrase on a sealctl volume, sealctl on a
# `cryptsetup luksFormat` volume, and sealctl unattended on a volume that
# systemd-cryptenroll enrolled with the TPM (through systemd's token plugin), then with a
# TPM PIN (--pin-file, the prompt). Each side reads what the other wrote. A systemd-tpm2
# token bound to PCR 15 opens once through sealctl, --test-passphrase included (sealctl
# measures what systemd's plugin unsealed).
# vm-options: --tpm --scratch 64 --scratch 64
# vm-timeout: 900
# check-kernels: 6.1
. "$SEAL_ROOT/tests/lib/ktap.sh"
. "$SEAL_ROOT/tests/lib/guest.sh"
. "$SEAL_ROOT/tests/kernel/sealctl-common.sh"

ktap_begin 42
load_seal || { ktap_fail "dm-seal.ko loads"; ktap_end; }
modprobe dm-crypt
tpm_usable
seal=/dev/vda
stock=/dev/vdb
printf 'seal volume passphrase' > "$work/pass"
printf 'stock volume passphrase' > "$work/pass2"
for n in c s; do dm_track $n; done
head -c $((4 << 20)) /dev/urandom > "$work/data1"
head -c $((4 << 20)) /dev/urandom > "$work/data2"
head -c $((4 << 20)) /dev/urandom > "$work/data3"
sha1=$(sha256sum < "$work/data1" | cut -d' ' -f1)
sha2=$(sha256sum < "$work/data2" | cut -d' ' -f1)
sha3=$(sha256sum < "$work/data3" | cut -d' ' -f1)

# da_failures: the TPM's count of authorization failures (TPM2_PT_LOCKOUT_COUNTER).
da_failures() { printf '%d' "$(tpm2_getcap properties-variable | awk '/TPM2_PT_LOCKOUT_COUNTER/ { print $2 }')"; }

# is_target NAME TARGET: the mapping's table uses TARGET.
is_target() { dmsetup table "$1" 2>/dev/null | awk '{ print $3 }' | grep -qx "$2"; }

ktap_check "sealctl format" "$SEALCTL" format "$seal" -d "$work/pass"
ktap_check "sealctl enroll tpm2" "$SEALCTL" enroll "$seal" tpm2 -d "$work/pass"

# 1. Our plugin: stock cryptsetup unlocks through the seal-tpm2 token (before any sealctl
# open extends PCR 15), as dm-crypt.
if [ -z "$TOKEN_DIR" ]; then
	ktap_fail "cryptsetup open --token-type seal-tpm2" "cannot tell libcryptsetup's plugin directory"
else
	ktap_check "without our plugin, --token-only --token-type seal-tpm2 unlocks nothing" \
		sh -c "! cryptsetup open --token-only --token-type seal-tpm2 $seal c </dev/null"
	ktap_check "cryptsetup open --token-only --token-type seal-tpm2, through our plugin" \
		with_plugin cryptsetup open --token-only --token-type seal-tpm2 "$seal" c
	ktap_check "it is a dm-crypt mapping" is_target c crypt
	ktap_check "dm-crypt writes 4 MiB" roundtrip_write c "$work/data1"
	cryptsetup close c
fi
# 2. sealctl reads what dm-crypt wrote, writes more; dm-crypt with the passphrase reads it.
# The plugin's unseal extended PCR 15: the TPM keyslot is spent for this boot.
ktap_expect "after the plugin's unseal, the TPM refuses sealctl (exit 12)" 12 \
	"PCR values differ from the sealed policy" setsid -w "$SEALCTL" open "$seal" s
ktap_check "sealctl open -d (the passphrase)" setsid -w "$SEALCTL" open "$seal" s -d "$work/pass"
ktap_check "it is a seal mapping" is_target s seal
ktap_same "sealctl reads what dm-crypt wrote" "$(read_sha s $((4 << 20)))" "$sha1"
ktap_check "seal writes other 4 MiB" roundtrip_write s "$work/data3"
ktap_check "sealctl close" "$SEALCTL" close s
ktap_check "stock cryptsetup open with the passphrase" \
	cryptsetup open --type luks2 --key-file "$work/pass" "$seal" c
ktap_same "dm-crypt reads what seal wrote" "$(read_sha c $((4 << 20)))" "$sha3"
cryptsetup close c

# 3. A volume cryptsetup made: dm-crypt writes, sealctl reads with the passphrase.
ktap_check "cryptsetup luksFormat (luks2, aes-xts-plain64, 512-bit, 4096-byte sectors)" \
	cryptsetup luksFormat --batch-mode --type luks2 --cipher aes-xts-plain64 --key-size 512 \
	--sector-size 4096 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file "$work/pass2" "$stock"
cryptsetup open --key-file "$work/pass2" "$stock" c &&
	roundtrip_write c "$work/data2" && cryptsetup close c
ktap_check "sealctl open -d (a cryptsetup volume)" "$SEALCTL" open "$stock" s -d "$work/pass2"
ktap_check "it is a seal mapping" is_target s seal
ktap_same "sealctl reads what dm-crypt wrote" "$(read_sha s $((4 << 20)))" "$sha2"
ktap_check "sealctl close" "$SEALCTL" close s

# 4. systemd-cryptenroll's TPM token, unlocked by sealctl through systemd's plugin.
if ! command -v systemd-cryptenroll >/dev/null; then
	ktap_skip "sealctl opens a systemd-cryptenroll TPM2 volume" "systemd-cryptenroll is not installed"
elif [ ! -e "$TOKEN_DIR/libcryptsetup-token-systemd-tpm2.so" ]; then
	ktap_skip "sealctl opens a systemd-cryptenroll TPM2 volume" \
		"no libcryptsetup-token-systemd-tpm2.so in '$TOKEN_DIR'"
else
	ktap_check "systemd-cryptenroll --tpm2-device=/dev/tpmrm0" \
		env PASSWORD="$(cat "$work/pass2")" systemd-cryptenroll --tpm2-device=/dev/tpmrm0 \
		--tpm2-pcrs=7 "$stock"
	ktap_check "the volume has a systemd-tpm2 token" \
		sh -c "cryptsetup luksDump $stock | grep -q systemd-tpm2"
	before=$(mappings)
	out=$(setsid -w "$SEALCTL" -v open "$stock" s </dev/null 2>&1)
	rc=$?
	ktap_same "sealctl open, unattended, through the systemd-tpm2 token" "$rc" 0
	[ "$rc" = 0 ] || ktap_diag "$out"
	ktap_check "the systemd-tpm2 token unlocked it" \
		grep -qE "unlocked by token [0-9]+ \(systemd-tpm2\)" <<<"$out"
	ktap_check "it is a seal mapping" is_target s seal
	ktap_same "it reads what dm-crypt wrote" "$(read_sha s $((4 << 20)))" "$sha2"
	ktap_check "sealctl close" "$SEALCTL" close s
	# 4b. A systemd token bound to PCR 15 as it is now: systemd's plugin extends nothing, so
	# sealctl measures its unseal, also when it creates no mapping (--test-passphrase): the
	# token's secret comes out once.
	ktap_check "systemd-cryptenroll --tpm2-pcrs=7+15 (replacing the token)" \
		env PASSWORD="$(cat "$work/pass2")" systemd-cryptenroll --wipe-slot=tpm2 \
		--tpm2-device=/dev/tpmrm0 --tpm2-pcrs=7+15 "$stock"
	pcr15=$(pcr 15)
	ktap_expect "open --test-passphrase through the systemd-tpm2 token bound to PCR 15" 0 \
		"keyslot [0-9]+ unlocks the volume" \
		setsid -w "$SEALCTL" open --test-passphrase --token-only "$stock"
	ktap_check_fails "... PCR 15 moved" test "$(pcr 15)" = "$pcr15"
	ktap_expect "... a second time the systemd token refuses (exit 10)" 10 \
		"token [0-9]+ \(systemd-tpm2\): no usable key" \
		setsid -w "$SEALCTL" open --test-passphrase --token-only "$stock"
	# 5. The same token with a PIN (systemd-cryptenroll --tpm2-with-pin=yes): sealctl asks
	# for it (--pin-file, or the terminal), and a wrong one costs one try, not a passphrase.
	printf 4711 > "$work/pin"
	printf 0000 > "$work/wrong-pin"
	ktap_check "systemd-cryptenroll --tpm2-with-pin=yes (replacing the token)" \
		env PASSWORD="$(cat "$work/pass2")" NEWPIN=4711 systemd-cryptenroll --wipe-slot=tpm2 \
		--tpm2-device=/dev/tpmrm0 --tpm2-with-pin=yes --tpm2-pcrs=7 "$stock"
	ktap_expect "PIN token, no terminal and no --pin-file: needs a PIN (exit 15)" 15 \
		"token [0-9]+ \(systemd-tpm2\): needs a PIN \(use --pin-file\)" \
		setsid -w "$SEALCTL" open --test-passphrase --token-only "$stock"
	da=$(da_failures)
	ktap_expect "PIN token, wrong --pin-file: refused, no passphrase source (exit 10)" 10 \
		"token [0-9]+ \(systemd-tpm2\): no usable key with this PIN" \
		setsid -w "$SEALCTL" open --test-passphrase --token-only --pin-file "$work/wrong-pin" "$stock"
	ktap_same "... the wrong PIN was tried once (TPM dictionary-attack count +1)" \
		"$(da_failures)" "$((da + 1))"
	ktap_expect "PIN token, --pin-file: sealctl open through the systemd-tpm2 token" 0 \
		"unlocked by token [0-9]+ \(systemd-tpm2\)" \
		setsid -w "$SEALCTL" -v open --token-only --pin-file "$work/pin" "$stock" s
	ktap_same "it reads what dm-crypt wrote" "$(read_sha s $((4 << 20)))" "$sha2"
	ktap_check "sealctl close" "$SEALCTL" close s
	printf '4711\n' > "$work/answers"
	out=$(python3 "$PTY_RUN" "$work/answers" "$SEALCTL" -v open --token-only "$stock" s 2>&1)
	rc=$?
	grep -q "^TPM2 PIN for $stock: " <<<"$out" &&
		grep -qE "unlocked by token [0-9]+ \(systemd-tpm2\)" <<<"$out" && [ "$rc" = 0 ]
	ok=$?
	[ "$ok" = 0 ] || ktap_diag "exit $rc:" "$out"
	ktap_result "PIN token on a terminal: the PIN is prompted for, the token opens" $ok
	ktap_check "sealctl close" "$SEALCTL" close s
	# PCR 7 moves: the systemd token fails (the right PIN), no terminal, no key file.
	tpm2_pcrextend "7:sha256=$(random_hex 32)" >/dev/null
	ktap_expect "PCR 7 moved: the systemd token fails, no passphrase source (exit 10)" 10 \
		"token [0-9]+ \(systemd-tpm2\)" setsid -w "$SEALCTL" open --pin-file "$work/pin" "$stock" s
	nothing_left "systemd token failed" "$before"
fi
ktap_end
