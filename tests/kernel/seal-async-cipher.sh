#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The data path when the cipher completes asynchronously. The test build of dm-seal.ko
# (make kernels: SEAL_TEST_CIPHER=async, build/test-async/, never installed) binds its tfm
# to cryptd, which queues every request and completes it later on its own worker. cryptd's
# queue is one request per CPU here, so most requests are backlogged (-EBUSY, then an
# -EINPROGRESS notification, then the completion): seal's callback must see both kinds.
# Through it: dm-crypt (the ordinary, synchronous xts(aes)) reads what seal wrote and seal
# reads what dm-crypt wrote, at 512- and 4096-byte sectors; fio writes and verifies with
# many bios in flight, large ones shared between CPUs; the online re-encryption walks a
# volume from one key to another; suspend waits for the requests still at cryptd.
# vm-timeout: 600
# In make check on 6.1 only, whose completion callback goes through compat.h's shim (6.12
# passes the data pointer directly); make stress runs it on both.
# check-kernels: 6.1
. "$SEAL_ROOT/tests/lib/ktap.sh"
. "$SEAL_ROOT/tests/lib/guest.sh"
. "$SEAL_ROOT/tests/lib/guest-trace.sh"

work=$(mktemp -d)
on_exit "rm -rf $work"
mib=2
sectors=$((mib * 2048))
async_driver='cryptd(xts(ecb(aes-generic)))'

ktap_begin 14
export SEAL_BUILD=$SEAL_BUILD/test-async
# The guest loads no crypto template on demand: cryptd (with its short queue), and ecb
# and xts under it, by hand.
modprobe cryptd cryptd_max_cpu_qlen=1 && modprobe -a ecb xts dm-crypt
load_seal || { ktap_fail "the test build of dm-seal.ko loads"; ktap_end; }
dev=$(ramdisk 8)
head -c 64 /dev/urandom > "$work/a"
head -c 64 /dev/urandom > "$work/b"
keyctl padd logon seal-test:asA @s < "$work/a" >/dev/null
keyctl padd logon seal-test:asB @s < "$work/b" >/dev/null
A=:64:logon:seal-test:asA
B=:64:logon:seal-test:asB
hex() { od -An -v -tx1 "$1" | tr -d ' \n'; }

# crypto_field DRIVER FIELD: FIELD of DRIVER's entry in /proc/crypto.
crypto_field()
{
	awk -v d="$1" -v f="$2" '$1 == "driver" { cur = $3 } $1 == f && cur == d { print $3; exit }' \
		/proc/crypto
}

# io DEV in|out FILE [BS]: direct I/O over the first $mib MiB, BS bytes at a time (1 MiB).
io()
{
	local bs=${4:-1048576}
	if [ "$2" = out ]; then
		dd if="$3" of="$1" bs="$bs" oflag=direct status=none
	else
		dd if="$1" of="$3" bs="$bs" count=$(((mib << 20) / bs)) iflag=direct status=none
	fi
}

# errors NAME: the read and write error counters of the seal mapping NAME.
errors() { dmsetup status "$1" | awk '$3 == "seal" { print $7, $8 }'; }

dm_track as
dmsetup create as --table "0 $sectors seal aes-xts-plain64 $A 0 $dev 0"
ktap_check "the seal table loads" seal_mapped as
# Its tfm holds the cryptd instance: one reference for the registration, one per user.
ktap_same "the mapping's cipher is $async_driver, asynchronous, in use" \
	"$(crypto_field "$async_driver" async) $(($(crypto_field "$async_driver" refcnt) >= 2))" \
	"yes 1"

head -c $((mib << 20)) /dev/urandom > "$work/p1"
head -c $((mib << 20)) /dev/urandom > "$work/p2"
for ss in 512 4096; do
	opts=
	[ $ss != 512 ] && opts=" 1 sector_size:$ss"
	dmsetup remove as 2>/dev/null
	dmsetup create as --table "0 $sectors seal aes-xts-plain64 $A 0 $dev 0$opts" &&
		seal_mapped as && io /dev/mapper/as out "$work/p1"
	dm_track ascrypt
	dmsetup create ascrypt --table \
		"0 $sectors crypt aes-xts-plain64 $(hex "$work/a") 0 $dev 0$opts" &&
		io /dev/mapper/ascrypt in "$work/r1"
	ktap_check "sector_size $ss: dm-crypt reads what seal wrote" cmp "$work/p1" "$work/r1"
	io /dev/mapper/ascrypt out "$work/p2" && dmsetup remove ascrypt
	io /dev/mapper/as in "$work/r2"
	ktap_check "sector_size $ss: seal reads what dm-crypt wrote" cmp "$work/p2" "$work/r2"
done

# Many bios in flight at once, 4k to 1M: the large ones are shared between both CPUs, whose
# runners each wait at cryptd. bpftrace counts seal's completion callback by its error code.
fio_args=(--name=async --filename=/dev/mapper/as --direct=1 --ioengine=libaio
	--verify=crc32c --verify_fatal=1 --do_verify=1 --randrepeat=0 --size=$((mib / 2))M
	--rw=randwrite --bssplit=4k/40:64k/30:1M/30 --blockalign=4k --iodepth=16 --numjobs=2
	--offset_increment=$((mib / 2))M --group_reporting --output-format=terse)
calls=$(bpf_around 'kprobe:seal_crypt_done { @done[(int32)arg1] = count(); }' @done \
	fio "${fio_args[@]}" --output="$work/fio.out")
ktap_check "fio writes and verifies through the asynchronous cipher, 2 jobs at queue depth 16" \
	awk -F';' '$1 == 3 && $5 == 0 { ok = 1 } END { exit !ok }' "$work/fio.out"
ktap_diag "seal_crypt_done calls by error: $(echo "$calls" | tr '\n' ' ')"
completed=$(echo "$calls" | sed -n 's/^@done\[0\]: //p')
backlogged=$(echo "$calls" | sed -n 's/^@done\[-115\]: //p')
# fio wrote $mib MiB and read it back, in 4096-byte crypto sectors.
ktap_same "each crypto sector written and read completed through seal's callback" \
	"$((${completed:-0} >= 2 * (mib << 20) / 4096))" 1
ktap_same "backlogged requests were started later (-EINPROGRESS notifications seen)" \
	"$((${backlogged:-0} > 0))" 1

# suspend must wait for the requests still queued at cryptd, and resume carry on: fio
# writes and verifies the volume three times over while it is suspended and resumed.
fio --name=bg --filename=/dev/mapper/as --direct=1 --ioengine=libaio --rw=write --bs=256k \
	--iodepth=16 --size=${mib}M --loops=3 --verify=crc32c --verify_fatal=1 --do_verify=1 \
	--output-format=terse --output="$work/bg.out" >/dev/null 2>&1 &
fio_pid=$!
sleep 1
dmsetup suspend as
suspended=$?
dmsetup resume as
wait $fio_pid
ktap_same "suspend and resume with requests queued at cryptd, fio verifies after them" \
	"$suspended $(awk -F';' '$1 == 3 { print $5 }' "$work/bg.out")" "0 0"

# Online re-encryption from key A to key B, its sectors converted through cryptd too; the
# mapping still has 4096-byte sectors from the loop above.
opts4k=" 4 sector_size:4096"
io /dev/mapper/as out "$work/p1" 65536
dmsetup suspend as &&
	dmsetup reload as --table "0 $sectors seal aes-xts-plain64 $A 0 $dev 0$opts4k reencrypt $B 0" &&
	dmsetup resume as
# a step that stops moving the boundary ends the walk: the check below then fails
b=0 prev=-1
while [ "$b" != $sectors ] && [ "$b" != "$prev" ] && prev=$b &&
	b=$(dmsetup message as 0 reencrypt_step 512); do :; done
ktap_same "reencrypt_step walks the boundary to the end" "$b" $sectors
io /dev/mapper/as in "$work/r1" 65536
ktap_check "after re-encryption seal reads what it wrote" cmp "$work/p1" "$work/r1"
ktap_same "the mapping counted no read or write error" "$(errors as)" "0 0"
dmsetup remove as
dmsetup create ascrypt --table "0 $sectors crypt aes-xts-plain64 $(hex "$work/b") 0 $dev 0$opts" &&
	io /dev/mapper/ascrypt in "$work/r2"
ktap_check "dm-crypt with key B reads the re-encrypted volume" cmp "$work/p1" "$work/r2"
dmsetup remove ascrypt
ktap_end
