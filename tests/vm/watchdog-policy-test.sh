#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The watchdog policy's judgement (tests/lib/guest-watchdog.sh, tests/README.md "Soft
# lockups") on kernel logs as the guests print them and on what the host measured: a soft
# lockup with a dm-seal frame always counts; one in the harness's 9p root does not; any other
# counts unless the host ran that vCPU for less than half of the reported time; no
# measurement counts; other problems count.
. "$SEAL_ROOT/tests/lib/ktap.sh"
. "$SEAL_ROOT/tests/lib/guest-watchdog.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# report FILE CPU SECS FRAME: a soft-lockup report as the console shows it
report()
{
	cat >> "$1" <<REPORT
[   41.000001] watchdog: BUG: soft lockup - CPU#$2 stuck for $3s! [fio:475]
[   41.000002] Modules linked in: dm_seal(OE) brd
[   41.000003] CPU: $2 PID: 475 Comm: fio Tainted: G           OE      6.12.117+deb12-amd64 #1
[   41.000004] RIP: 0010:clear_page_erms+0x7/0x10
[   41.000005] Call Trace:
[   41.000006]  <TASK>
[   41.000007]  $4
[   41.000008]  asm_exc_page_fault+0x26/0x30
[   41.000009]  </TASK>
REPORT
}

# judged NAME VERDICTS-LINES WANT-REGEX: the policy's lines for $tmp/log match WANT-REGEX
judged()
{
	printf '%s' "$2" > "$tmp/verdicts"
	got=$(guest_kernel_problems "$tmp/verdicts" "$tmp/log")
	if printf '%s\n' "$got" | grep -Eq -- "$3"; then
		ktap_pass "$1"
	else
		ktap_fail "$1" "got: $got"
	fi
}

ktap_begin 20
report "$tmp/log" 0 22 "clear_huge_page+0x10/0x20"
judged "a lockup outside dm-seal while the host ran the vCPU most of the time counts" \
	$'cpu 0 stuck 22 ran 15.0 waited 1.0\n' '^problem: .*CPU#0 stuck for 22s.*ran vCPU 0 for 15.0 s'
judged "a lockup outside dm-seal while the host ran the vCPU a fraction of it is excused" \
	$'cpu 0 stuck 22 ran 3.0 waited 15.0\n' '^excused: .*CPU#0 stuck for 22s.*ran vCPU 0 for 3.0 s'
judged "a lockup the host did not measure counts" "" '^problem: .*no host measurement'
judged "a verdict for another CPU is no measurement" \
	$'cpu 1 stuck 22 ran 0.0 waited 0.0\n' '^problem: .*no host measurement'

: > "$tmp/log"
report "$tmp/log" 1 30 "seal_convert_read+0x80/0x1a0 [dm_seal]"
report "$tmp/log" 0 22 "clear_huge_page+0x10/0x20"
judged "a lockup with a dm-seal frame counts however little the host ran the vCPU" \
	$'cpu 1 stuck 30 ran 0.1 waited 29.0\ncpu 0 stuck 22 ran 1.0 waited 20.0\n' \
	'^problem: .*CPU#1 stuck for 30s.*dm-seal frame'
judged "each report is paired with the host's verdict for it, in order" \
	$'cpu 1 stuck 30 ran 0.1 waited 29.0\ncpu 0 stuck 22 ran 1.0 waited 20.0\n' \
	'^excused: .*CPU#0 stuck for 22s.*ran vCPU 0 for 1.0 s'

printf '[    3.1] WARNING: CPU: 0 PID: 1 at drivers/md/dm.c:1 x\n' > "$tmp/log"
judged "a WARNING counts" "" '^problem: WARNING: CPU: 0'

# dmesg without timestamps, as in-guest checks read it: they see only the "problem:" lines
sed 's/^\[[^]]*\] //' > "$tmp/dmesg" <<'LOG'
[ 1.0] watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [fio:475]
[ 1.0] Call Trace:
[ 1.0]  <TASK>
[ 1.0]  clear_huge_page+0x10/0x20
[ 1.0]  </TASK>
LOG
got=$(awk -f "$SEAL_ROOT/tests/lib/kernel-log-problems.awk" "$tmp/dmesg")
ktap_same "in the guest, a lockup outside dm-seal is left to the host" \
	"$got" "host-judged: 1 0 22 watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [fio:475]"
sed -i 's/clear_huge_page+0x10\/0x20/seal_map+0x10\/0x20 [dm_seal]/' "$tmp/dmesg"
got=$(awk -f "$SEAL_ROOT/tests/lib/kernel-log-problems.awk" "$tmp/dmesg")
ktap_same "in the guest, a lockup in dm-seal is a problem" \
	"$got" "problem: watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [fio:475] (dm-seal frame in its stack)"

# A page clear inside 9p's readdir buffer allocation (python3 listing a directory of the
# host's root at boot, 6.12): the host ran the vCPU nearly all the time, but 9p is the
# harness's file system, which the product never uses; with a dm-seal frame too it counts.
: > "$tmp/log"
report "$tmp/log" 1 112 "v9fs_dir_readdir_dotl+0x1da/0x220 [9p]"
judged "a lockup in the harness's 9p root, no dm-seal frame, is excused however long the host ran it" \
	$'cpu 1 stuck 112 ran 98.4 waited 1.0\n' '^excused: .*CPU#1 stuck for 112s.*its stack is in 9p'
sed -i 's/^\(\[   41.000008\]\)  asm_exc_page_fault+0x26\/0x30/\1  seal_map+0x55\/0x120 [dm_seal]/' "$tmp/log"
judged "a lockup with both a 9p and a dm-seal frame counts" \
	$'cpu 1 stuck 112 ran 98.4 waited 1.0\n' '^problem: .*CPU#1 stuck for 112s.*dm-seal frame'
sed 's/^\[[^]]*\] //' "$tmp/log" | sed '/seal_map/d' > "$tmp/dmesg"
got=$(awk -f "$SEAL_ROOT/tests/lib/kernel-log-problems.awk" "$tmp/dmesg" | grep -c '^problem: ')
ktap_same "in the guest, a lockup in 9p without a dm-seal frame is not a problem" "$got" 0

# rcu_report FILE CPU FRAME: an RCU CPU stall report as a starved 6.12 guest prints it: the
# stalled CPU, the grace-period kthread's stack, an NMI backtrace of the other CPU
rcu_report()
{
	cat >> "$1" <<REPORT
[  121.910547] rcu: INFO: rcu_preempt self-detected stall on CPU
[  121.910547] rcu: 	$2-...!: (1 ticks this GP) idle=a5ac/0/0x1 softirq=369/369 fqs=0
[  121.910547] rcu: 	(t=29391 jiffies g=-1035 q=13 ncpus=2)
[  121.910547] rcu: rcu_preempt kthread starved for 29391 jiffies! g-1035 f0x0 RCU_GP_WAIT_FQS(5)
[  121.910547] task:rcu_preempt     state:I stack:0     pid:19    tgid:19    ppid:2
[  121.910547] Call Trace:
[  121.910547]  <TASK>
[  121.910547]  schedule_timeout+0x9e/0x170
[  121.910547]  </TASK>
[  121.910547] Sending NMI from CPU $2 to CPUs 1:
[  121.490166] NMI backtrace for cpu 1
[  121.490166] RSP: 0018:ff4bacccc0187d70 EFLAGS: 00000202
[  121.490166] Call Trace:
[  121.490166]  <TASK>
[  121.490166]  $3
[  121.490166]  </TASK>
[  130.422442] INFO: NMI handler (nmi_cpu_backtrace_handler) took too long to run: 1559.263 msecs
[  132.113899] 00:03: ttyS0 at I/O 0x3f8 (irq = 4, base_baud = 115200) is a 16550A
REPORT
}
: > "$tmp/log"
rcu_report "$tmp/log" 0 "text_poke_bp_batch+0xbe/0x300"
judged "an RCU stall outside dm-seal while the host ran the vCPU a fraction of it is excused" \
	$'cpu 0 stuck 118 ran 2.0 waited 100.0\n' '^excused: rcu: INFO: rcu_preempt self-detected stall on CPU .*ran vCPU 0 for 2.0 s of the 118 s'
judged "an RCU stall outside dm-seal while the host ran the vCPU most of it counts" \
	$'cpu 0 stuck 118 ran 100.0 waited 2.0\n' '^problem: rcu: INFO: .*ran vCPU 0 for 100.0 s'
judged "an RCU stall the host did not measure counts" \
	$'cpu 0 stuck None unmeasured\n' '^problem: rcu: INFO: .*no host measurement'
: > "$tmp/log"
rcu_report "$tmp/log" 0 "seal_convert+0x80/0x1a0 [dm_seal]"
judged "an RCU stall with a dm-seal frame in any of its stacks counts" \
	$'cpu 0 stuck 118 ran 2.0 waited 100.0\n' '^problem: rcu: INFO: .*dm-seal frame'
sed 's/^\[[^]]*\] //' "$tmp/log" > "$tmp/dmesg"
sed -i 's/seal_convert+0x80\/0x1a0 \[dm_seal\]/text_poke_bp_batch+0xbe\/0x300/' "$tmp/dmesg"
got=$(awk -f "$SEAL_ROOT/tests/lib/kernel-log-problems.awk" "$tmp/dmesg")
ktap_same "in the guest, an RCU stall outside dm-seal is left to the host, and ends where its dumps end" \
	"$got" "host-judged: 1 0 - rcu: INFO: rcu_preempt self-detected stall on CPU"

# A report that names no stalled CPU: every CPU passed its quiescent state, but the
# grace-period kthread, runnable on ->cpu=1, did not run for 14844 jiffies (a make check
# beside four other guests on 2 cores, 6.12). The CPU to measure is that one.
cat > "$tmp/log" <<'REPORT'
[  417.928734] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:
[  417.949852] rcu: 	(detected by 1, t=15008 jiffies, g=33197, q=35 ncpus=2)
[  417.950571] rcu: All QSes seen, last rcu_preempt kthread activity 14844 (4294996784-4294981940), jiffies_till_next_fqs=1, root ->qsmask 0x0
[  417.951589] rcu: rcu_preempt kthread starved for 14844 jiffies! g33197 f0x2 RCU_GP_WAIT_FQS(5) ->state=0x0 ->cpu=1
[  417.952282] rcu: 	Unless rcu_preempt kthread gets sufficient CPU time, OOM is now expected behavior.
[  417.958960] rcu: RCU grace-period kthread stack dump:
[  417.959553] task:rcu_preempt     state:R  running task     stack:0     pid:19    tgid:19    ppid:2      flags:0x00004000
[  417.960770] Call Trace:
[  417.986365]  <TASK>
[  417.988553]  schedule_timeout+0x9e/0x170
[  417.988823]  </TASK>
[  418.113899] 00:03: ttyS0 at I/O 0x3f8 (irq = 4, base_baud = 115200) is a 16550A
REPORT
got=$(awk -f "$SEAL_ROOT/tests/lib/kernel-log-problems.awk" "$tmp/log")
ktap_same "an RCU stall that names no CPU is judged on the CPU its grace-period kthread starved on" \
	"$got" "host-judged: 1 1 - rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:"
# the host side: vcpu-watch.py, with a QEMU that has already exited, reads the same CPU
: > "$tmp/verdicts"
python3 "$SEAL_ROOT/tests/lib/vcpu-watch.py" 999999999 "$tmp/log" "$tmp/verdicts"
ktap_same "the host's watcher measures that CPU too" "$(cut -d' ' -f1-2 "$tmp/verdicts")" "cpu 1"
judged "... and excuses it when the host ran that vCPU a fraction of the time" \
	$'cpu 1 stuck 59 ran 13.0 waited 45.0\n' '^excused: rcu: INFO: rcu_preempt detected stalls on CPUs/tasks: .*ran vCPU 1 for 13.0 s'
ktap_end
