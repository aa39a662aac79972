# SPDX-License-Identifier: GPL-2.0
# Boot tests of the dracut module: shared images, initramfs builds and QEMU boots.
# Source after tests/lib/ktap.sh. Everything built lands in build/e2e/ and is rebuilt only
# when its inputs change; boot transcripts go to build/test-logs/e2e/.
#
#   e2e_require                      fail the whole file (KTAP) unless the parts exist
#   e2e_image                        the shared disk image + TPM state (built once)
#   e2e_initramfs KERNEL FLAVOUR     build/e2e/initrd/<kver>-<flavour>.img (built once); with
#                                    E2E_FROM=packages from the Debian packages (e2e_packages)
#   e2e_boot [options] -- STEP...    boot it, drive the console (tests/e2e/lib/console.py)
#   e2e_check NAME [options] -- STEP...   the same, as one KTAP result
#
# Kernels: 6.1 and 6.12 (mk/kernels.env). Flavours: "systemd" (systemd in the initramfs,
# volumes from a baked-in /etc/sealtab, prompts through systemd-ask-password) and "shell"
# (dracut's own init, volumes from rd.seal.uuid=/rd.seal.name= on the command line,
# prompts on the console).

e2e_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
. "$e2e_top/mk/kernels.env"
. "$e2e_top/tests/lib/guest-watchdog.sh"
e2e_build=${SEAL_BUILD:-$e2e_top/build}
e2e_dir=$e2e_build/e2e
e2e_logs=$e2e_build/test-logs/e2e
e2e_cache=${SEAL_CACHE:-/var/cache/dm-seal}
# the seal volume's GPT partition; fixed so that a sealtab can name it before the image exists
E2E_PARTUUID=5ea15ea1-e2e0-4c0d-9a3e-000000000001
E2E_NAME=sealroot
# the second, small seal volume (no file system) case 1 unlocks at the same boot
E2E_DATA_PARTUUID=5ea15ea1-e2e0-4c0d-9a3e-000000000002
E2E_DATA_NAME=sealdata
E2E_PROMPT='Passphrase or recovery key for'
E2E_MARKER="SEAL-E2E-BOOTED root=$E2E_NAME dm-uuid=SEAL-"
mkdir -p "$e2e_dir" "$e2e_logs"

e2e_say() { echo "# $*"; }
e2e_die() { ktap_diag "$*"; exit 1; }

e2e_kver()
{
	case "$1" in
	6.1) echo "$KVER_6_1" ;;
	6.12) echo "$KVER_6_12" ;;
	*) echo "$1" ;;
	esac
}

# e2e_require: every part the boot tests need, or a failed plan and exit: make deps installs
# the tools and make check builds the rest, so a missing one is a broken build, not a skip.
e2e_require()
{
	local missing="" k kver
	command -v dracut >/dev/null || missing+=" dracut (Debian package dracut-core; make deps)"
	command -v qemu-system-x86_64 >/dev/null || missing+=" qemu-system-x86_64"
	command -v swtpm >/dev/null || missing+=" swtpm"
	[ -x "$e2e_build/userspace/sealctl" ] || missing+=" $e2e_build/userspace/sealctl (make userspace)"
	[ -x "$e2e_build/userspace/tests/sealctl" ] ||
		missing+=" $e2e_build/userspace/tests/sealctl (make userspace)"
	[ -f "$e2e_build/userspace/libcryptsetup-token-seal-tpm2.so" ] ||
		missing+=" the seal-tpm2 token plugin (make userspace)"
	for k in ${E2E_KERNELS:-6.1 6.12}; do
		kver=$(e2e_kver "$k")
		[ -f "$e2e_build/kernel/$kver/dm-seal.ko" ] || missing+=" dm-seal.ko for $kver (make kernels)"
		[ -f "$e2e_cache/kernels/$kver/boot/vmlinux-$kver" ] || missing+=" kernel $kver (make deps)"
	done
	if [ -n "$missing" ]; then
		ktap_begin 1
		ktap_fail "e2e boot tests have what they need" "missing:$missing"
		ktap_end
	fi
}

# e2e_hash FILE...: one hash over the names and contents of FILEs (a cache key).
e2e_hash()
{
	local f
	for f in "$@"; do
		echo "== $f"
		cat "$f" 2>/dev/null || echo "(missing)"
	done | sha256sum | cut -c1-16
}

# e2e_lock FILE: one builder of FILE at a time (across test files and parallel boots);
# e2e_unlock when done.
e2e_lock()
{
	exec 8>"$1.lock"
	flock 8
}
e2e_unlock() { flock -u 8; exec 8>&-; }

# ---------------------------------------------------------------------------------------
# The image: a 192 MiB disk, GPT, two partitions (PARTUUIDs fixed), each a seal volume.
# The first (159 MiB): keyslot 0 passphrase (random, in image/passphrase), 1 tpm2 (PCRs
# 7+10+15, sealed by the TPM whose state is kept beside the image), 2 recovery key
# (image/out/recovery-key); inside, the root file system tests/e2e/guest/init runs from.
# The second (32 MiB, image/out/data-uuid): keyslot 0 the same passphrase, 1 tpm2 (the same
# PCRs), no file system: a second volume for the TPM to unlock at the same boot.
# Guests boot with qboot, as tests/vm/run's do: no firmware touches the TPM (SeaBIOS's TPM
# setup times out on a loaded host and disables the TPM's hierarchies), so PCRs 0-7 stay
# zero and the kernel starts the TPM. PCR 10 then holds what the kernel itself measures
# before any userspace runs, IMA's boot aggregate; "ima_hash=sha1" on the command line
# makes it measure a different one: the "bound PCR changed before the initramfs runs" case.
E2E_IMAGE_VERSION=5	# bump when the image's layout changes
E2E_PCRS=7+10+15
E2E_FIRMWARE=/usr/share/qemu/qboot.rom
e2e_image_inputs()
{
	echo "$e2e_top/tests/e2e/guest/build-image.sh" "$e2e_top/tests/e2e/guest/init" \
		"$e2e_build/userspace/tests/sealctl" "$e2e_cache/kernels/$KVER_6_1/lib/modules/$KVER_6_1/modules.dep" \
		"$e2e_cache/kernels/$KVER_6_12/lib/modules/$KVER_6_12/modules.dep"
}

# e2e_root_extras DIR: what the root file system gets besides busybox and init, staged in
# DIR: /pgdata (a PostgreSQL cluster, made natively: initdb is slow under TCG) and, per
# kernel, the modules its init loads to reach the host's root over 9p (the initramfs has
# no reason to carry them, and the root has no module tree).
e2e_root_extras()
{
	local dir=$1 pg k kver kroot ko name
	pg=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
	chmod 755 "$dir"
	mkdir -p "$dir/pgdata"
	if [ -n "$pg" ]; then
		chown postgres: "$dir/pgdata" && chmod 700 "$dir/pgdata" &&
		runuser -u postgres -- "$pg/initdb" -D "$dir/pgdata" -U postgres --auth=trust \
			-E UTF8 --locale=C --no-sync --wal-segsize=1 >"$dir/initdb.log" 2>&1 ||
			{ cat "$dir/initdb.log"; return 1; }
		rm -f "$dir/initdb.log"
	fi
	for k in 6.1 6.12; do
		kver=$(e2e_kver $k)
		kroot=$e2e_cache/kernels/$kver
		mkdir -p "$dir/lib/modules/$kver"
		for ko in 9pnet_virtio 9p overlay; do
			modprobe -d "$kroot" -S "$kver" --show-depends "$ko"
		done | awk '$1 == "insmod" { print $2 }' | awk '!seen[$0]++' | while read -r ko; do
			name=$(basename "$ko")
			case "$name" in
			*.xz) xz -dc "$ko" > "$dir/lib/modules/$kver/${name%.xz}"; name=${name%.xz} ;;
			*.zst) zstd -qdc "$ko" > "$dir/lib/modules/$kver/${name%.zst}"; name=${name%.zst} ;;
			*) cp "$ko" "$dir/lib/modules/$kver/$name" ;;
			esac
			echo "$name" >> "$dir/lib/modules/$kver/load-order"
		done
		[ -s "$dir/lib/modules/$kver/load-order" ] || return 1
	done
}

e2e_image()
{
	local img=$e2e_dir/image key tmp rc
	E2E_IMAGE=$img/disk.img
	E2E_TPM_STATE=$img/tpm
	# shellcheck disable=SC2046
	# (the firmware and QEMU are inputs too: the PCR values the TPM keyslot is sealed to
	# come from them)
	key=$(e2e_hash $(e2e_image_inputs) "$E2E_FIRMWARE"
		echo "$E2E_IMAGE_VERSION $E2E_PCRS $(qemu-system-x86_64 --version | head -1)")
	if [ "$(cat "$img/stamp" 2>/dev/null)" != "$key" ]; then
		mkdir -p "$img"
		e2e_lock "$img/stamp"
		if [ "$(cat "$img/stamp" 2>/dev/null)" != "$key" ]; then
			e2e_say "building the e2e disk image (once; build/e2e/image)"
			local start=$SECONDS
			rm -rf "$img/tpm" "$img/out" "$img/disk.img" "$img/passphrase"
			mkdir -p "$img/tpm" "$img/out"
			# key material goes through files, never argv or the environment
			(umask 077 && head -c 18 /dev/urandom | base64 | tr -d '\n' > "$img/passphrase")
			tmp=$(mktemp -d "${TMPDIR:-/tmp}/seal-e2e-img.XXXXXX")
			if ! e2e_root_extras "$tmp" >"$e2e_logs/root-extras.log" 2>&1 ||
			   ! tar -C "$tmp" --numeric-owner -cf "$img/root-extras.tar" pgdata lib; then
				rm -rf "$tmp"
				e2e_die "cannot stage the root's extras; log: $e2e_logs/root-extras.log"
			fi
			rm -rf "$tmp"
			truncate -s 192M "$img/disk.img"
			printf 'label: gpt\n%s\n%s\n' \
				"start=2048, size=159MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=$E2E_PARTUUID, name=sealroot" \
				"type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=$E2E_DATA_PARTUUID, name=sealdata" |
				sfdisk -q "$img/disk.img" >/dev/null ||
				e2e_die "sfdisk failed"
			"$e2e_top/tests/vm/run" --kernel 6.1 --mem 1024 --cpus 2 \
				--tpm-state "$img/tpm" --disk "$img/disk.img" \
				--out "$img/out" --timeout 300 --log-dir "$e2e_logs/build-image.vm" \
				--env "E2E_PASSPHRASE_FILE=$img/passphrase" --env "E2E_PCRS=$E2E_PCRS" \
				--env "E2E_INIT=$e2e_top/tests/e2e/guest/init" \
				--env "E2E_EXTRAS=$img/root-extras.tar" \
				-- "$e2e_top/tests/e2e/guest/build-image.sh" >"$e2e_logs/build-image.log" 2>&1
			rc=$?
			if [ $rc != 0 ] || [ ! -s "$img/out/luks-uuid" ] || [ ! -s "$img/out/data-uuid" ]; then
				sed 's/^/# /' "$e2e_logs/build-image.log" | tail -30
				e2e_die "building the e2e image failed (exit $rc); log: $e2e_logs/build-image.log"
			fi
			rm -f "$img/root-extras.tar"
			echo "$key" > "$img/stamp"
			e2e_say "image built in $((SECONDS - start))s"
		fi
		e2e_unlock
	fi
	E2E_LUKS_UUID=$(cat "$img/out/luks-uuid")
	E2E_DATA_UUID=$(cat "$img/out/data-uuid")
	E2E_PASSPHRASE_FILE=$img/passphrase
	E2E_RECOVERY_KEY_FILE=$img/out/recovery-key
	E2E_DEK_HEX=$img/out/dek.hex
}

# ---------------------------------------------------------------------------------------
# Host-side checks the e2e files share with make demo (demo/run), so that a promise both
# tell is checked by the same code (tests/README.md, "make demo and make check").

# E2E_CHANGED_CHAIN: the kernel argument that changes a bound PCR before the initramfs runs,
# as a kernel, boot loader or firmware update would: the kernel measures IMA's boot aggregate
# into PCR 10 with another hash (see e2e_image)
E2E_CHANGED_CHAIN=ima_hash=sha1

# e2e_raw_disk_hits DISK TEXT PART: how often the raw DISK holds TEXT as text strings(1)
# finds, and PART (TEXT's random part) as any bytes: prints "STRINGS BYTES"; returns 0 when
# both are 0. A strings or grep that could not read DISK is a failure, not "0 times".
e2e_raw_disk_hits()
{
	local n m
	n=$(set -o pipefail; strings -n 8 "$1" | { grep -c -F -- "$2" || true; }) || n=strings-failed
	m=$(grep -a -c -F -- "$3" "$1")
	[ $? -le 1 ] || m=grep-failed
	echo "$n $m"
	[ "$n" = 0 ] && [ "$m" = 0 ]
}

# e2e_secret_nowhere FILE... < SECRET: the secret (one line on standard input: a pipe or a
# file, never argv) is in none of the FILEs, searched as a fixed string in any bytes; prints
# the FILEs that hold it. Status 0: in none; 1: found; 2: no secret given or a FILE unreadable.
e2e_secret_nowhere()
{
	local secret rc
	IFS= read -r secret
	[ -n "$secret" ] || { echo "(no secret to search for)"; return 2; }
	grep -a -l -F -f <(printf '%s\n' "$secret") -- "$@"
	rc=$?
	unset secret
	case $rc in
	0) return 1 ;;
	1) return 0 ;;
	*) return 2 ;;
	esac
}

# ---------------------------------------------------------------------------------------
# The tang variant of the image (the tang boot): a copy of the shared disk whose two
# volumes have their tpm2 keyslot replaced by tang bindings, to four servers:
#   A  E2E_TANG_A_URL  answers
#   B  E2E_TANG_B_URL  stopped: its host is up, each connection is closed at once
#   C  E2E_TANG_C_URL  answers
#   R  E2E_TANG_R_URL  answers, but the keys the binding used were rotated away
#                      (tangd-rotate-keys after the binding, then the old keys deleted, as
#                      Documentation/admin-guide.md section 7a describes): it refuses
# The root is bound with clevis sss, t=2 of A, B, C (two up, one stopped: unattended); the
# second volume has two tang keyslots, R's (token 0) and B's (token 1): both fail at once,
# the prompt follows. The servers are there at each boot through QEMU's guestfwd (e2e_boot
# --tang "$E2E_TANG_SERVERS"). Passphrase and recovery key stay. Made on the host, through
# loop devices, once per image: the bindings come from the servers' advertisements, saved
# beside their keys (no server needs to run).
E2E_TANG_A_URL=http://10.0.2.100
E2E_TANG_B_URL=http://10.0.2.101
E2E_TANG_C_URL=http://10.0.2.102
E2E_TANG_R_URL=http://10.0.2.103
e2e_tang_image()
{
	local dir=$e2e_dir/tang key srv n start sectors loop ok=1 pins
	local sealctl=$e2e_build/userspace/tests/sealctl
	e2e_image
	E2E_TANG_IMAGE=$dir/disk.img
	E2E_TANG_SERVERS="${E2E_TANG_A_URL#http://}=$dir/tang-a ${E2E_TANG_C_URL#http://}=$dir/tang-c"
	E2E_TANG_SERVERS+=" ${E2E_TANG_R_URL#http://}=$dir/tang-r ${E2E_TANG_B_URL#http://}=stopped"
	key="$(cat "$e2e_dir/image/stamp") $(e2e_hash "$sealctl" "$e2e_top/tests/e2e/lib/e2e.sh")"
	[ "$(cat "$dir/stamp" 2>/dev/null)" = "$key" ] && return 0
	mkdir -p "$dir"
	e2e_lock "$dir/stamp"
	if [ "$(cat "$dir/stamp" 2>/dev/null)" != "$key" ]; then
		rm -rf "$dir"/tang-? "$dir"/tang-?.adv "$dir/disk.img"
		cp --sparse=always "$E2E_IMAGE" "$dir/disk.img.tmp"
		{
			for srv in a b c r; do
				mkdir -p "$dir/tang-$srv" && /usr/libexec/tangd-keygen "$dir/tang-$srv" &&
				printf 'GET /adv HTTP/1.1\r\nHost: e2e\r\n\r\n' | /usr/libexec/tangd "$dir/tang-$srv" 2>/dev/null |
					sed '1,/^\r*$/d' > "$dir/tang-$srv.adv" && [ -s "$dir/tang-$srv.adv" ] || { ok=""; break; }
			done
			pins=$(printf '{"url":"%s","adv":"%s"},' "$E2E_TANG_A_URL" "$dir/tang-a.adv" \
				"$E2E_TANG_B_URL" "$dir/tang-b.adv" "$E2E_TANG_C_URL" "$dir/tang-c.adv")
			for n in 1 2; do
				[ -n "$ok" ] || break
				read -r start sectors < <(partx -g -o START,SECTORS -n "$n" "$dir/disk.img.tmp")
				loop=$(losetup --show -f -o $((start * 512)) --sizelimit $((sectors * 512)) "$dir/disk.img.tmp") ||
					{ ok=""; break; }
				# keyslot 1 is the tpm2 one (build-image.sh)
				SEAL_TEST_FAST_PBKDF=1 "$sealctl" remove-slot --key-file "$E2E_PASSPHRASE_FILE" "$loop" 1 || ok=""
				if [ $n = 1 ]; then
					e2e_tang_enroll "$loop" sss "{\"t\":2,\"pins\":{\"tang\":[${pins%,}]}}" || ok=""
				else
					e2e_tang_enroll "$loop" tang "{\"url\":\"$E2E_TANG_R_URL\",\"adv\":\"$dir/tang-r.adv\"}" &&
					e2e_tang_enroll "$loop" tang "{\"url\":\"$E2E_TANG_B_URL\",\"adv\":\"$dir/tang-b.adv\"}" || ok=""
				fi
				"$sealctl" list "$loop" || ok=""
				losetup -d "$loop"
			done
			# R's keys rotated away: new ones, and the old ones (hidden by the rotation) deleted
			[ -n "$ok" ] && /usr/libexec/tangd-rotate-keys -d "$dir/tang-r" && rm -f "$dir/tang-r"/.*.jwk &&
				ls -a "$dir/tang-r" || ok=""
		} >"$e2e_logs/tang-image.log" 2>&1
		if [ -z "$ok" ]; then
			rm -f "$dir/disk.img.tmp"
			e2e_unlock
			sed 's/^/# /' "$e2e_logs/tang-image.log" | tail -20
			e2e_die "making the tang image failed; log: $e2e_logs/tang-image.log"
		fi
		mv "$dir/disk.img.tmp" "$dir/disk.img"
		echo "$key" > "$dir/stamp"
	fi
	e2e_unlock
}

# e2e_tang_enroll DEV PIN CONFIG: a clevis keyslot on DEV (for the tang image)
e2e_tang_enroll()
{
	SEAL_TEST_FAST_PBKDF=1 "$e2e_build/userspace/tests/sealctl" enroll --no-tokens \
		--key-file "$E2E_PASSPHRASE_FILE" "$1" clevis "$2" "$3"
}

# ---------------------------------------------------------------------------------------
# Initramfs images, built by the host's dracut with a private module directory that adds
# a dracut/90seal (nothing is installed on the host).
# e2e_dracut_base [90SEAL-DIR]: that directory, with this checkout's 90seal or the given one
e2e_dracut_base()
{
	local seal=${1:-$e2e_top/dracut/90seal} base=$e2e_dir/dracut-base f
	[ -n "${1:-}" ] && base+=-$(echo "$seal" | sha256sum | cut -c1-8)
	# one builder at a time (fd 7: callers hold fd 8); runs in $(...), so this shell's
	# lock goes with it
	exec 7>"$base.lock"
	flock 7
	if [ ! -L "$base/modules.d/90seal" ] ||
	   [ "$(readlink "$base/modules.d/90seal")" != "$seal" ] ||
	   [ /usr/lib/dracut/modules.d -nt "$base/.done" ]; then
		rm -rf "$base"
		mkdir -p "$base/modules.d"
		for f in /usr/lib/dracut/*; do
			[ "$(basename "$f")" = modules.d ] || ln -s "$f" "$base/"
		done
		for f in /usr/lib/dracut/modules.d/*; do
			ln -s "$f" "$base/modules.d/"
		done
		ln -s "$seal" "$base/modules.d/90seal"
		touch "$base/.done"
	fi
	echo "$base"
}

# e2e_packages KERNEL: the Debian packages `make deb` builds (without lintian:
# tests/build/deb-package.sh runs it), installed as an administrator installs them, with
# `apt-get install ./dm-seal-dkms_*.deb ./sealctl_*.deb`, into an overlay of the host's root
# (lib/apt-root.sh: a private mount namespace and a chroot; real apt, dm-seal-dkms's postinst
# hands the source to DKMS, which builds dm-seal.ko for both guest kernels). What installing
# changed, the overlay's upper layer, is kept in build/e2e/packages/root: E2E_PKG_ROOT;
# e2e_pkg_run runs a command in the installed system. Sets E2E_PKG_SEALCTL,
# E2E_PKG_PLUGIN, E2E_PKG_DRACUT (the dracut module) and E2E_PKG_KO (what DKMS installed for
# KERNEL) to the installed files. Built once per change of the sources they come from;
# nothing is installed on the host (checked: its /var/lib/dkms and modules' updates/ stay as
# they were).
e2e_packages()
{
	local kver dir=$e2e_dir/packages key log host_before f start
	kver=$(e2e_kver "$1")
	E2E_PKG_ROOT=$dir/root
	# shellcheck disable=SC2046
	key=$(e2e_hash $(cd "$e2e_top" && find Makefile dkms.conf mk debian kernel userspace dracut \
		tests/e2e/lib/apt-root.sh -type f ! -name '*.o' ! -name '*.d' | sort))
	mkdir -p "$dir"
	e2e_lock "$dir/stamp"
	if [ "$(cat "$dir/stamp" 2>/dev/null)" != "$key" ]; then
		start=$SECONDS
		rm -rf "$dir/build" "$dir/root" "$dir/root.work" "$dir"/dkms-* "$dir/stamp"
		log=$e2e_logs/make-deb.log
		if ! BUILD=$dir/build SEAL_DEB_LINTIAN=no "$e2e_top/mk/deb.sh" >"$log" 2>&1; then
			e2e_unlock
			e2e_die "make deb failed; log: $log"
		fi
		log=$e2e_logs/apt-install.log
		host_before=$(e2e_host_dkms_state)
		mkdir -p "$dir/root"
		if ! "$e2e_top/tests/e2e/lib/apt-root.sh" install "$dir/root" \
			"$dir"/build/deb/dm-seal-dkms_*.deb "$dir"/build/deb/sealctl_*_*.deb \
			-- "$KVER_6_1" "$KVER_6_12" >"$log" 2>&1; then
			e2e_unlock
			e2e_die "installing the packages failed: $(tail -1 "$log"); log: $log"
		fi
		if [ "$(e2e_host_dkms_state)" != "$host_before" ]; then
			e2e_unlock
			e2e_die "installing the packages in the overlay changed the host's /var/lib/dkms or /lib/modules/*/updates"
		fi
		echo "$key" > "$dir/stamp"
		e2e_say "packages built and installed with apt in $((SECONDS - start))s (log: $log)"
	fi
	e2e_unlock
	E2E_PKG_SEALCTL=$(e2e_pkg_file /usr/sbin/sealctl)
	E2E_PKG_DRACUT=$(e2e_pkg_file /usr/lib/dracut/modules.d/90seal)
	E2E_PKG_PLUGIN=$(ls "$(e2e_pkg_file /lib)"/*/cryptsetup/libcryptsetup-token-seal-tpm2.so 2>/dev/null)
	E2E_PKG_KO=$(ls "$(e2e_pkg_file "/lib/modules/$kver/updates/dkms")"/dm-seal.ko* 2>/dev/null)
	for f in "$E2E_PKG_SEALCTL" "$E2E_PKG_DRACUT/module-setup.sh" "$E2E_PKG_PLUGIN" "$E2E_PKG_KO"; do
		[ -f "$f" ] || e2e_die "the installed packages lack ${f:-a file} (in $E2E_PKG_ROOT)"
	done
}

# e2e_pkg_file PATH: where the file the installed system has at PATH is in E2E_PKG_ROOT
# (the overlay's upper layer keeps it under its name on the host's file system: /lib/... is
# /usr/lib/... on a merged-/usr host)
e2e_pkg_file() { echo "$E2E_PKG_ROOT$(realpath -m "$1")"; }

# e2e_pkg_run CMD...: CMD in the system the packages were installed in (its writes discarded)
e2e_pkg_run() { "$e2e_top/tests/e2e/lib/apt-root.sh" run "$E2E_PKG_ROOT" "$@"; }

# e2e_host_dkms_state: what DKMS installing on the host would change (names, sizes, times)
e2e_host_dkms_state()
{
	find /var/lib/dkms /lib/modules/*/updates -printf '%p %s %T@\n' 2>/dev/null | sort | sha256sum
}

# network-legacy: dracut's network (ifup, dhclient) for the tang boots, in both flavours;
# seal_network=yes puts clevis in (module-setup.sh), and the network comes up only with
# rd.neednet=1 on the command line
E2E_DRACUT_MODULES="bash base udev-rules dm rootfs-block fs-lib network-legacy seal"
E2E_DRACUT_SYSTEMD="systemd systemd-initrd dracut-systemd systemd-ask-password"
# Uncompressed, unstripped, no hardlink search: dracut's zstd -15 alone was 80% of a build's
# CPU time (seconds idle, minutes on a loaded host), and a TCG guest unpacks a plain cpio
# faster than it decompresses one.
E2E_DRACUT_ARGS=(--no-early-microcode --no-compress --nostrip --nohardlink
	--drivers "virtio_pci virtio_blk virtio_net ext4")

# Test machinery in every image (inert unless seal_e2e.tpm=late): tests/e2e/guest/tpm-late-hook.sh
E2E_TPM_LATE_HOOK=$e2e_top/tests/e2e/guest/tpm-late-hook.sh

# e2e_initramfs KERNEL FLAVOUR: sets E2E_INITRD to the image, building it if needed, from
# this build tree, or with E2E_FROM=packages from what the Debian packages install (the
# packaged dracut module, sealctl and token plugin, the module DKMS builds: e2e_packages).
e2e_initramfs()
{
	local kver flavour=$2 out key conf modules dir start log omit
	local seal_dir=$e2e_top/dracut/90seal sealctl=$e2e_build/userspace/sealctl
	local plugin=$e2e_build/userspace/libcryptsetup-token-seal-tpm2.so ko tag=""
	kver=$(e2e_kver "$1")
	ko=$e2e_build/kernel/$kver/dm-seal.ko
	if [ "${E2E_FROM:-}" = packages ]; then
		e2e_packages "$1"
		seal_dir=$E2E_PKG_DRACUT sealctl=$E2E_PKG_SEALCTL plugin=$E2E_PKG_PLUGIN
		ko=$E2E_PKG_KO tag=-deb
	fi
	# dracut's network module brings every wired network driver (a generic image):
	# only virtio_net is wanted, the rest would more than double the image
	omit=$(find "$e2e_cache/kernels/$kver/lib/modules/$kver/kernel/drivers/net" -name '*.ko*' \
		-printf '%f\n' | sed 's/\.ko.*//; s/-/_/g' | grep -vxE 'virtio_net|net_failover' | tr '\n' ' ')
	dir=$e2e_dir/initrd
	out=$dir/$kver-$flavour$tag.img
	mkdir -p "$dir"
	key=$(e2e_hash "$seal_dir"/* "$E2E_TPM_LATE_HOOK" "$sealctl" "$plugin" "$ko" \
		/usr/lib/dracut/dracut-version.sh
		echo "$flavour $E2E_DRACUT_MODULES $E2E_DRACUT_SYSTEMD ${E2E_DRACUT_ARGS[*]} $omit")
	E2E_INITRD=$out
	[ -f "$out" ] && [ "$(cat "$out.stamp" 2>/dev/null)" = "$key" ] && return 0

	e2e_lock "$out"
	if [ ! -f "$out" ] || [ "$(cat "$out.stamp" 2>/dev/null)" != "$key" ]; then
		start=$SECONDS
		conf=$dir/$kver-$flavour$tag.conf
		log=$e2e_logs/dracut-$kver-$flavour$tag.log
		mkdir -p "$dir/confdir"
		{
			echo "seal_sealctl=\"$sealctl\""
			echo "seal_token_plugin=\"$plugin\""
			echo "seal_module=\"$ko\""
			echo 'seal_network="yes"'
		} > "$conf"
		modules=$E2E_DRACUT_MODULES
		if [ "$flavour" = systemd ]; then
			modules+=" $E2E_DRACUT_SYSTEMD"
			printf '# name  device  options\n%s PARTUUID=%s tries=3\n' \
				"$E2E_NAME" "$E2E_PARTUUID" > "$dir/sealtab"
			echo "seal_sealtab=\"$dir/sealtab\"" >> "$conf"
		fi
		if ! dracutbasedir=$(e2e_dracut_base "$seal_dir") dracut --force --quiet --no-hostonly \
			--no-hostonly-cmdline --conf "$conf" --confdir "$dir/confdir" \
			--kver "$kver" --kmoddir "$e2e_cache/kernels/$kver/lib/modules/$kver" \
			--modules "$modules" "${E2E_DRACUT_ARGS[@]}" --omit-drivers "$omit" \
			--include "$E2E_TPM_LATE_HOOK" /lib/dracut/hooks/cmdline/01-seal-e2e-tpm-late.sh \
			"$out.tmp" >"$log" 2>&1; then
			rm -f "$out.tmp"
			sed 's/^/# /' "$log" | tail -30
			e2e_die "dracut failed for $kver ($flavour); log: $log"
		fi
		mv "$out.tmp" "$out"
		echo "$key" > "$out.stamp"
		e2e_say "initramfs $kver ($flavour${tag:+, from the packages}) built in $((SECONDS - start))s, $(($(stat -c %s "$out") / 1024)) KiB"
	fi
	e2e_unlock
}

# ---------------------------------------------------------------------------------------
# Boots. Every boot gets its own temp directory (TPM state copy, sockets, the disk's
# snapshot overlay); qemu, swtpm and the console driver are stopped and the directory
# removed on every path: at the end of the boot, on a signal (the waits below are
# interruptible), and, should this shell be killed outright, by the kernel (they run with a
# parent-death signal). Directories of runs whose shell is gone are removed at the start.
E2E_PIDS=()
E2E_RUNS=()
e2e_cleanup()
{
	local pid
	for pid in "${E2E_PIDS[@]+"${E2E_PIDS[@]}"}"; do
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	E2E_PIDS=()
	[ ${#E2E_RUNS[@]} -gt 0 ] && rm -rf "${E2E_RUNS[@]}"
	E2E_RUNS=()
	return 0
}
# files that live as long as the test (e2e_temp FILE)
E2E_TEMPS=()
e2e_temp() { E2E_TEMPS+=("$@"); }
e2e_exit()
{
	e2e_cleanup
	[ ${#E2E_TEMPS[@]} -gt 0 ] && rm -rf "${E2E_TEMPS[@]}"
	return 0
}
e2e_traps()
{
	trap e2e_exit EXIT
	trap 'exit 130' INT TERM HUP
}
e2e_traps

e2e_reap_stale_runs()
{
	local d pid
	for d in "${TMPDIR:-/tmp}"/seal-e2e.*.*; do
		[ -d "$d" ] || continue
		pid=${d##*/seal-e2e.}
		pid=${pid%%.*}
		case "$pid" in
		'' | *[!0-9]*) continue ;;
		esac
		kill -0 "$pid" 2>/dev/null || rm -rf "$d"
	done
	for d in "$e2e_dir"/disk-copy.*.*; do
		[ -e "$d" ] || continue
		pid=${d##*/disk-copy.}
		pid=${pid%%.*}
		kill -0 "$pid" 2>/dev/null || rm -f "$d"
	done
}
e2e_reap_stale_runs

# e2e_spawn CMD...: start CMD in the background, killed with us; its pid in E2E_SPAWNED.
e2e_spawn()
{
	setpriv --pdeathsig KILL "$@" &
	E2E_SPAWNED=$!
	E2E_PIDS+=("$E2E_SPAWNED")
}

# e2e_boot [options] -- STEP...: boot KERNEL with FLAVOUR's initramfs and run console.py's
# STEPs against its serial console; returns console.py's status (0: every step passed).
#   --kernel 6.1|6.12  --flavour systemd|shell
#   --tpm yes|no       attach a copy of the image's TPM (default yes)
#   --disk FILE        the disk (default: the shared image, writes discarded)
#   --persist          keep the disk's writes
#   --disk-late        attach no disk at boot: the disk waits, as QEMU drive disk0, for a
#                      console.py step qmp=device_add {"driver": "virtio-blk-pci",
#                      "drive": "disk0", "bus": "hotplug0"} (a PCIe port free for it)
#   --append ARGS      extra kernel command line
#   --seal-args ARGS   the rd.seal.* arguments (default: the shared image's volume, for the
#                      initramfs without systemd; the systemd one reads its sealtab)
#   --nic              a network card (virtio-net) on QEMU's user-mode network, isolated
#                      (restrict=on: nothing beyond it is reachable)
#   --tang "IP=DB..."  and tang servers: at each IP, port 80, tangd with the keys in DB,
#                      started by QEMU for each connection (guestfwd, one per server,
#                      tests/e2e/lib/tangd-stdio); each server's log is added to the
#                      transcript, its lines starting "[tangd IP on the host]". DB
#                      "stopped": each connection is closed at once (a host whose tang
#                      service is not running)
#   --log FILE         the boot transcript (default build/test-logs/e2e/last.log)
#   --timeout S        limit for the whole boot (default 600; each step has its own)
# e2e_boot e2e_boot_once-ARGS...: one boot, booted again (at most three in all) when the
# guest kernel crashed before the initramfs ran: under multi-threaded TCG an unmodified
# Debian kernel can take an int3 it did not expect while patching its own text at boot
# (6.12: "Oops: int3" in sched_clock_cpu from sched_init_debug, seen in a tang boot on
# 7 Dec 2026). No dm-seal code and nothing of the test had run; tests/vm/run does the same.
# The crashed boot's transcript is kept beside the log as *.crashed-bootN.log.
e2e_boot()
{
	local boot rc
	for boot in 1 2 3; do
		E2E_BOOT_CRASHED_EARLY=
		e2e_boot_once "$@"
		rc=$?
		[ -n "$E2E_BOOT_CRASHED_EARLY" ] && [ "$boot" -lt 3 ] || return $rc
		echo "console: the guest kernel crashed before the initramfs ran ($E2E_BOOT_CRASHED_EARLY); booting again" >&2
	done
}

# e2e_crash_before_init SERIAL-LOG: print the first crash line when the kernel crashed
# before any line of the initramfs (dracut's or systemd's) reached the console.
e2e_crash_before_init()
{
	sed 's/^\[ *[0-9.]*\] //' "$1" | awk '
		/Kernel panic|Oops|BUG:/ { print; exit }
		/[Cc]ommand line/ { next }
		/dracut|systemd|Welcome to|\[  OK  \]/ { exit }'
}

e2e_boot_once()
{
	local kernel=6.1 flavour=shell tpm=yes disk=$E2E_IMAGE persist="" append="" late=""
	local log=$e2e_logs/last.log timeout=600 kver run qemu qemu_pid con_pid rc snapshot a
	local cmdline accel me seal_args="" nic="" tang="" fwd="" srv
	while [ $# -gt 0 ]; do
		case "$1" in
		--kernel) kernel=$2; shift 2 ;;
		--flavour) flavour=$2; shift 2 ;;
		--tpm) tpm=$2; shift 2 ;;
		--disk) disk=$2; shift 2 ;;
		--persist) persist=1; shift ;;
		--disk-late) late=1; shift ;;
		--append) append=$2; shift 2 ;;
		--seal-args) seal_args=$2; shift 2 ;;
		--nic) nic=1; shift ;;
		--tang) nic=1 tang=$2; shift 2 ;;
		--log) log=$2; shift 2 ;;
		--timeout) timeout=$2; shift 2 ;;
		--) shift; break ;;
		*) e2e_die "e2e_boot_once: bad option $1" ;;
		esac
	done
	kver=$(e2e_kver "$kernel")
	e2e_initramfs "$kernel" "$flavour"
	# named after this shell (not the $(...) subshell): e2e_reap_stale_runs spares it
	me=$BASHPID
	run=$(mktemp -d "${TMPDIR:-/tmp}/seal-e2e.$me.XXXXXX") || e2e_die "mktemp failed"
	E2E_RUNS+=("$run")
	mkdir -p "$(dirname "$log")"
	: > "$log"
	rm -f "$log.times"

	cmdline="console=ttyS0,115200 panic=-1 oops=panic root=/dev/mapper/$E2E_NAME rootfstype=ext4 rw"
	cmdline+=" rd.shell rd.retry=60 rd.skipfsck fsck.mode=skip"
	# the kernel's own chatter slows TCG boots (quiet, yet warnings and the stacks of
	# soft-lockup reports reach the console); dracut's and systemd's lines stay
	cmdline+=" $GUEST_WATCHDOG_QUIET_CMDLINE rd.info systemd.show_status=1 cryptomgr.notests"
	# status lines without colours (systemd cuts long ones in the middle of an escape
	# sequence, which would leave debris in the transcripts)
	cmdline+=" SYSTEMD_COLORS=0"
	[ "$flavour" = shell ] && [ -z "$seal_args" ] &&
		seal_args="rd.seal.uuid=$E2E_LUKS_UUID rd.seal.name=$E2E_LUKS_UUID=$E2E_NAME"
	cmdline+=" $seal_args"
	cmdline+=" $append"
	snapshot=on
	[ -n "$persist" ] && snapshot=off
	accel=("${GUEST_TCG_ACCEL[@]}")
	[ "$(cat "$e2e_build/vm/accel" 2>/dev/null)" = kvm ] && accel=(-accel kvm -cpu host)

	# the machine of the guest that enrolled the TPM, and its firmware (see e2e_image)
	qemu=(qemu-system-x86_64 -nodefaults -no-user-config -display none -no-reboot
		-machine q35 -m 1024 -smp 2 -bios "$E2E_FIRMWARE" "${accel[@]}" "${GUEST_QEMU_WATCH_ARGS[@]}"
		-kernel "$e2e_cache/kernels/$kver/boot/vmlinux-$kver" -initrd "$E2E_INITRD"
		-append "$cmdline"
		-chardev "socket,id=con,path=$run/console.sock,server=on,wait=on,logfile=$run/serial.log"
		-serial chardev:con
		-drive "file=$disk,if=none,id=disk0,format=raw,cache=writeback,snapshot=$snapshot"
		-qmp "unix:$run/qmp.sock,server=on,wait=off"
		-fsdev "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap"
		-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot)
	if [ -n "$nic" ]; then
		for srv in $tang; do
			if [ "${srv#*=}" = stopped ]; then
				fwd+=",guestfwd=tcp:${srv%%=*}:80-cmd:/bin/true"
			else
				fwd+=",guestfwd=tcp:${srv%%=*}:80-cmd:$e2e_top/tests/e2e/lib/tangd-stdio ${srv#*=} $run/tangd-${srv%%=*}.log"
			fi
		done
		qemu+=(-netdev "user,id=net0,restrict=on$fwd" -device virtio-net-pci,netdev=net0)
	fi
	if [ -n "$late" ]; then
		qemu+=(-device pcie-root-port,id=hotplug0,chassis=1)
	else
		qemu+=(-device virtio-blk-pci,drive=disk0)
	fi
	if [ "$tpm" = yes ]; then
		cp -a "$E2E_TPM_STATE" "$run/tpm"
		e2e_spawn swtpm socket --tpm2 --tpmstate "dir=$run/tpm" \
			--ctrl "type=unixio,path=$run/swtpm.sock" --terminate >"$run/swtpm.log" 2>&1
		for _ in $(seq 100); do
			[ -S "$run/swtpm.sock" ] && break
			sleep 0.05
		done
		[ -S "$run/swtpm.sock" ] || e2e_die "swtpm did not start: $(cat "$run/swtpm.log")"
		qemu+=(-chardev "socket,id=chrtpm,path=$run/swtpm.sock"
			-tpmdev emulator,id=tpm0,chardev=chrtpm -device tpm-tis,tpmdev=tpm0)
	fi

	# the snapshot overlay goes to TMPDIR: keep it in the run directory
	e2e_spawn env TMPDIR="$run" "${qemu[@]}" 2>"$run/qemu.log"
	qemu_pid=$E2E_SPAWNED
	guest_watch_start "$qemu_pid" "$run/serial.log" "$run/lockups"
	E2E_QMP=$run/qmp.sock e2e_spawn timeout -k 5 "$timeout" python3 "$e2e_top/tests/e2e/lib/console.py" \
		"$run/console.sock" "$log" "$@"
	con_pid=$E2E_SPAWNED
	wait "$con_pid"
	rc=$?
	[ $rc = 124 ] && echo "console: the steps hit their ${timeout}s limit" >&2
	# a guest that has done its part powers off; one that has not is stopped
	for _ in $(seq 50); do
		kill -0 "$qemu_pid" 2>/dev/null || break
		sleep 0.1
	done
	if [ -s "$run/qemu.log" ] && [ $rc != 0 ]; then
		sed 's/^/console: qemu: /' "$run/qemu.log" >&2
	fi
	kill "$qemu_pid" 2>/dev/null
	# (on a line of their own: a guest stopped mid-line leaves none)
	[ -n "$tang" ] && [ -n "$(tail -c 1 "$log")" ] && echo >> "$log"
	for srv in $tang; do
		a=${srv%%=*}
		[ -s "$run/tangd-$a.log" ] && sed "s/^/[tangd $a on the host] /" "$run/tangd-$a.log" >> "$log"
	done
	guest_watch_wait
	e2e_kernel_log_verdict "$run" "$log" || { [ $rc = 0 ] && rc=1; }
	if [ $rc != 0 ]; then
		E2E_BOOT_CRASHED_EARLY=$(e2e_crash_before_init "$run/serial.log")
		[ -n "$E2E_BOOT_CRASHED_EARLY" ] &&
			cp "$log" "${log%.log}.crashed-boot$(ls "${log%.log}".crashed-boot*.log 2>/dev/null | wc -l).log"
	fi
	e2e_cleanup
	return $rc
}

# e2e_kernel_log_verdict RUN LOG: fails when the guest's kernel logged a problem during the
# boot (the watchdog policy, tests/lib/guest-watchdog.sh), saying which on stderr; every
# problem, counted or not, is added to the transcript.
e2e_kernel_log_verdict()
{
	local run=$1 log=$2 problems
	problems=$(guest_kernel_problems "$run/lockups" "$run/serial.log")
	[ -z "$problems" ] && return 0
	printf '%s\n' "$problems" | sed 's/^/[kernel log] /' >> "$log"
	printf '%s\n' "$problems" | sed -n 's/^problem: /console: the kernel logged: /p' >&2
	! printf '%s\n' "$problems" | grep -q '^problem: '
}

# e2e_check NAME e2e_boot-ARGS...: one KTAP result for one boot, with console.py's
# complaint and the transcript's path as diagnostics when it fails, and the time it took.
e2e_check()
{
	local name=$1 start=$SECONDS rc err=$e2e_dir/.console-err.$BASHPID
	shift
	e2e_boot "$@" 2>"$err"
	rc=$?
	[ $rc != 0 ] && ktap_diag "$(cat "$err")"
	rm -f "$err"
	ktap_result "$name ($((SECONDS - start))s)" $rc
	return $rc
}
