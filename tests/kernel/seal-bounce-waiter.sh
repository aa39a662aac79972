#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A write that waits for bounce pages gets them: with free memory below the kernel's
# minimum (so no write finds a free page without waiting) and the writers in a tight memory
# cgroup, 16 writers of 4 KiB and one of 1 MiB share a seal mapping; the 1 MiB writer keeps
# completing writes, none of them waiting longer than a bound.
# vm-options: --mem 768
# vm-timeout: 600
. "$SEAL_ROOT/tests/lib/ktap.sh"
. "$SEAL_ROOT/tests/lib/guest.sh"

ktap_begin 4
load_seal || { ktap_fail "dm-seal.ko loads"; ktap_end; }
ram=$(ramdisk 96)
# brd allocates its pages on first write: all of them now, before memory is short.
dd if=/dev/zero of="$ram" bs=1M count=96 oflag=direct status=none
head -c 64 /dev/urandom | keyctl padd logon seal-test:waiter @s >/dev/null
dm_track bw-seal
dmsetup create bw-seal --table "0 $(blockdev --getsz "$ram") seal aes-xts-plain64 :64:logon:seal-test:waiter 0 $ram 0"
seal_mapped bw-seal || { ktap_fail "the seal mapping exists"; ktap_end; }

# The test guest mounts no cgroup file system of its own.
mountpoint -q /sys/fs/cgroup || mount -t cgroup2 none /sys/fs/cgroup
cg=/sys/fs/cgroup/seal-writers
echo +memory > /sys/fs/cgroup/cgroup.subtree_control
mkdir -p $cg
echo 48M > $cg/memory.max
on_exit "rmdir $cg"

runtime=20
cat > /run/writers.fio <<FIO
[global]
filename=/dev/mapper/bw-seal
direct=1
ioengine=psync
rw=randwrite
time_based=1
runtime=$runtime
randrepeat=0
norandommap=1
group_reporting=1

[small]
bs=4k
numjobs=16
offset=0
size=32M

[large]
bs=1M
offset=64M
size=32M
FIO

min_free=$(cat /proc/sys/vm/min_free_kbytes)
on_exit "echo $min_free > /proc/sys/vm/min_free_kbytes"
# The writers, in the cgroup, with a hard limit on their time: a starved writer holds fio up.
sh -c "echo \$\$ > $cg/cgroup.procs && exec timeout -k 10 $((runtime * 4)) fio \
	--output-format=json --output=/run/writers.json /run/writers.fio" &
fio_pid=$!
sleep 3
# The minimum watermark 4 MiB above free memory: a page allocation that may not wait fails
# until kswapd has reclaimed that much, and again whenever the writers take it.
free_kb=$(awk '/^MemFree:/ { print $2 }' /proc/meminfo)
echo $((free_kb + 4096)) > /proc/sys/vm/min_free_kbytes
ktap_diag "MemFree ${free_kb} kB; min_free_kbytes $min_free -> $((free_kb + 4096)) for the run"
sleep $((runtime - 6))
echo "$min_free" > /proc/sys/vm/min_free_kbytes
wait $fio_pid
rc=$?
ktap_same "fio's writers all finished in time" "$rc" 0

# job: the large job's writes and its longest completion (ms), from fio's JSON.
read -r large_ios large_max small_ios < <(python3 -c '
import json
jobs = {j["jobname"]: j for j in json.load(open("/run/writers.json"))["jobs"]}
l, s = jobs["large"]["write"], jobs["small"]["write"]
print(l["total_ios"], int(l["clat_ns"]["max"] / 1e6), s["total_ios"])' 2>/dev/null)
ktap_diag "1 MiB writer: ${large_ios:-?} writes, longest ${large_max:-?} ms; 4 KiB writers: ${small_ios:-?} writes"
ktap_result "the 1 MiB writer completed writes" "$([ "${large_ios:-0}" -ge 5 ]; echo $?)"
ktap_result "no 1 MiB write waited 10 s or more" "$([ "${large_max:-999999}" -lt 10000 ]; echo $?)"
ktap_same "no write failed" "$(dmsetup status bw-seal | awk '{ print $7, $8 }')" "0 0"
ktap_end
