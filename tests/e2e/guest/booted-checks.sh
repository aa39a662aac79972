#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs as root inside a booted e2e system (tests/e2e/guest/init, seal_e2e.run=), with the
# host's tools, after the initramfs unlocked the root through the TPM: once up, nobody can
# unseal the KEK again (PCR 15 moved), nor the second volume's (sealdata, /dev/vda2), no
# keyring root can see holds a readable DEK, the kernel log is clean, and the initramfs left
# the network card alone (no tang binding, no network).
# Prints one "SEAL-E2E-CHECK <name> ok|fail" line per check, with "# " details before it.
# $1: the build directory (sealctl, the DEK oracle in e2e/image/out/dek.hex).
build=${1:-/work/main/build}
sealctl=$build/userspace/sealctl
dek=$(cat "$build/e2e/image/out/dek.hex" 2>/dev/null)
dev=/dev/vda1
export TPM2TOOLS_TCTI=device:/dev/tpmrm0 SEAL_TCTI=device:/dev/tpmrm0
# the checks make demo shares (SEALCTL: the installed build, which the initramfs carries)
SEALCTL=$sealctl
. "$(dirname "$0")/checks.sh"
work=$(mktemp -d)
cd "$work" || exit 1

say() { echo "# $*"; }
result() { echo "SEAL-E2E-CHECK $1 $([ "$2" = 0 ] && echo ok || echo fail)"; }

# 1. PCR 15 has moved from its reset value: the initramfs measured the unlock.
check_pcr15_moved
result pcr15-moved $?

# 2. sealctl, as root, with the TPM right there: the tpm2 keyslot does not unseal.
check_token_refused "$dev"
result sealctl-cannot-unseal $?

# 2b. The second volume (the disk's second partition), unlocked by the initramfs at the same
# boot from its own tpm2 keyslot: its mapping is there, and its KEK does not unseal either.
rc=0
[ -b /dev/mapper/sealdata ] || { say "no /dev/mapper/sealdata"; rc=1; }
dmsetup table sealdata 2>&1 | sed 's/^/# sealdata: /'
dmsetup table sealdata 2>/dev/null | grep -q ' seal ' || rc=1
result second-volume-open $rc
check_token_refused /dev/vda2
result second-volume-cannot-unseal $?

# 3. tpm2-tools, by hand, straight from the token: the same TPM, the same primary key, the
# blob loads, and the policy it was sealed to is the other PCRs as they are now and PCR 15
# at its reset value; the TPM refuses the unseal because PCR 15 is no longer that.
cryptsetup token export --token-id 0 "$dev" > token.json 2>/dev/null
python3 - "$dev" <<'PY' > token.env
import base64, json, sys
t = json.load(open("token.json"))
open("priv.bin", "wb").write(base64.b64decode(t["tpm2-private"]))
open("pub.bin", "wb").write(base64.b64decode(t["tpm2-public"]))
print("pcrs=%s" % ",".join(str(p) for p in t["tpm2-pcrs"]))
print("initial=%s" % ",".join(str(p) for p in t.get("tpm2-pcrs-initial", [])))
print("policy=%s" % t["tpm2-policy-hash"].lower())
print("primary=%s" % t.get("tpm2-primary-name", "").lower())
PY
. ./token.env
say "token 0: pcrs=$pcrs at-reset=$initial policy=$policy"

# the policy the token stores, recomputed: PolicyPCR over the current PCRs, the at-reset
# ones as zeros (TPM2_CC_PolicyPCR = 0x17f; TPML_PCR_SELECTION for sha256)
tpm2_pcrread -o pcrvals.bin "sha256:$pcrs" >/dev/null 2>&1
python3 - "$pcrs" "$initial" <<'PY' > policies
import hashlib, struct, sys
pcrs = [int(p) for p in sys.argv[1].split(",")]
initial = {int(p) for p in sys.argv[2].split(",") if p}
vals = open("pcrvals.bin", "rb").read()
cur = [vals[32 * i:32 * i + 32] for i in range(len(pcrs))]
sel = bytearray(3)
for p in pcrs:
    sel[p // 8] |= 1 << (p % 8)
tpml = struct.pack(">IHB", 1, 0x000B, 3) + bytes(sel)
def policy(values):
    d = hashlib.sha256(b"".join(values)).digest()
    return hashlib.sha256(b"\0" * 32 + struct.pack(">I", 0x17F) + tpml + d).hexdigest()
print("at-reset %s" % policy([b"\0" * 32 if p in initial else v for p, v in zip(pcrs, cur)]))
print("now %s" % policy(cur))
PY
want=$(sed -n 's/^at-reset //p' policies)
now=$(sed -n 's/^now //p' policies)
say "policy with PCR 15 at reset: $want; with PCR 15 now: $now"
rc=0
[ "$want" = "$policy" ] || { say "the recomputed policy differs from the token's"; rc=1; }
[ "$now" != "$policy" ] || { say "the current PCRs still satisfy the policy"; rc=1; }

# the storage root key as sealctl makes it (TCG SRK template, ECC P-256)
name=""
for attrs in 'restricted|decrypt|fixedtpm|fixedparent|sensitivedataorigin|userwithauth|noda' \
	'restricted|decrypt|fixedtpm|fixedparent|sensitivedataorigin|userwithauth'; do
	tpm2_flushcontext -t >/dev/null 2>&1
	tpm2_createprimary -Q -C o -g sha256 -G ecc256:aes128cfb -a "$attrs" -c prim.ctx 2>/dev/null &&
		tpm2_readpublic -c prim.ctx -n prim.name >/dev/null 2>&1 &&
		name=$(od -An -v -tx1 prim.name | tr -d ' \n')
	[ "$name" = "$primary" ] && break
done
if [ "$name" = "$primary" ]; then
	say "primary key re-created (Name matches the token)"
else
	say "could not re-create the primary key (Name ${name:-?} vs $primary)"
	rc=1
fi
# a transport timeout (swtpm starved on a loaded host) is not an answer: ask again
tpm_retry()
{
	local i
	for i in 1 2 3; do
		"$@" 2>tpm.err && return 0
		grep -qiE 'timer expired|timed out' tpm.err || return 1
		say "$1: TPM transport timeout (try $i of 3)"
	done
	return 1
}
if tpm_retry tpm2_load -Q -C prim.ctx -u pub.bin -r priv.bin -c obj.ctx; then
	say "sealed object loaded"
	tpm2_flushcontext -t >/dev/null 2>&1
	tpm2_startauthsession -Q --policy-session -S session.ctx &&
		tpm2_policypcr -Q -S session.ctx -l "sha256:$pcrs"
	if tpm2_unseal -c obj.ctx -p session:session.ctx > secret.bin 2>unseal.err; then
		say "tpm2_unseal RETURNED THE SECRET ($(stat -c %s secret.bin) bytes)"
		rc=1
	elif grep -qiE 'policy check failed|0x0*99d' unseal.err; then
		# TPM_RC_POLICY_FAIL: the PCRs are not what the policy wants
		say "tpm2_unseal refused: $(grep -m1 -iE 'policy check failed|0x0*99d' unseal.err)"
	else
		say "tpm2_unseal failed, but not on the policy: $(tail -1 unseal.err)"
		rc=1
	fi
	tpm2_flushcontext session.ctx >/dev/null 2>&1
else
	say "tpm2_load failed: $(head -1 tpm.err)"
	rc=1
fi
shred -u secret.bin 2>/dev/null
result tpm2-tools-cannot-unseal $rc

# 4. No keyring root can see holds the DEK: every key /proc/keys lists is read (a logon key
# refuses), and what can be read is searched for either XTS half.
rc=0
[ ${#dek} = 128 ] || { say "no DEK oracle ($build/e2e/image/out/dek.hex)"; rc=1; }
check_no_seal_key || rc=1
n=0
while read -r id _ _ _ _ _ _ type desc; do
	n=$((n + 1))
	hex=$(keyctl pipe "0x$id" 2>/dev/null | od -An -v -tx1 | tr -d ' \n')
	if [ -n "$hex" ] && { [[ $hex == *"${dek:0:64}"* ]] || [[ $hex == *"${dek:64:64}"* ]]; }; then
		say "key $id ($type $desc) holds DEK bytes"
		rc=1
	fi
done < /proc/keys
say "$n keys visible in /proc/keys, none named seal:*, none holding DEK bytes"
# the root's target is seal (a crypt table naming the same key would not do) and names a
# logon key; nor does the table hold either half of the DEK
check_table_logon sealroot || rc=1
table=$(dmsetup table --showkeys sealroot 2>&1)
[[ $table == *"${dek:0:64}"* || $table == *"${dek:64:64}"* ]] && rc=1
result no-readable-dek $rc

# 5. The kernel said nothing alarming while the initramfs unlocked and the system came up
# (soft lockups outside dm-seal are the host's to judge: tests/lib/guest-watchdog.sh).
lib=$(cd "$(dirname "$0")/../../lib" && pwd)
dmesg > kernel.log
bad=$(awk -f "$lib/kernel-log-problems.awk" kernel.log | grep '^problem: ')
say "kernel log: $(wc -l < kernel.log) lines, ${bad:-no problem}"
# the first report with what follows it (the stack), for whoever reads the transcript
[ -n "$bad" ] && grep -m1 -A30 -F "$(echo "$bad" | head -1 | sed 's/^problem: //; s/ (dm-seal frame in its stack)$//')" kernel.log |
	sed 's/^/# kernel: /'
result kernel-log-clean $([ -s kernel.log ] && [ -z "$bad" ] && echo 0 || echo 1)

# 6. No network: the guest has a network card (the boot attaches one), the initramfs has
# dracut's network module, yet with no tang binding on any volume and no rd.neednet it was
# never brought up: no interface but lo is up, none has an address beyond the host.
ifaces=$(ip -o link show | awk -F': ' '$2 != "lo" { print $2 }')
up=$(ip -o link show up | awk -F': ' '$2 != "lo" { print $2 }')
addrs=$(ip -o addr show scope global)
say "interfaces besides lo: ${ifaces:-none}; up: ${up:-none}; global addresses: ${addrs:-none}"
result no-network $([ -n "$ifaces" ] && [ -z "$up" ] && [ -z "$addrs" ] && echo 0 || echo 1)

cd / && rm -rf "$work"
