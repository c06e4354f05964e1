#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The module's recycled buffers (kmod/buf.c), read through debugfs
# (cohort/buffers: per size class, buffers kept and the most kept): the 4
# and 8 KiB classes keep 4 MiB each; a backlog of 4 KiB payloads taken at
# once fills its stack to that cap and no further; the objects of small
# messages wait on the 256-byte stack (1 MiB) once taken; starting from empty
# stacks, the 8 KiB frames of 4 KiB messages sent across a link come back
# when the link acks them; a frame whose pages a packet on its way still
# holds is not handed out again; memory pressure (drop_caches, which runs
# every shrinker) empties every stack; traffic after that works and
# refills it.
#
#   a (41) ======= link ======= b (42)
#   queues big and small, their producer of far@41
#   producers and consumers;
#   queue far and its consumer

DIR=$(cd "$(dirname "$0")" && pwd)
. "$DIR/ktap.sh"
. "$DIR/lib_cluster.sh"

cl_init bufpool netem
. "$DIR/lib_queue.sh"

DBG=/sys/kernel/debug
MOUNTED=
if ! mountpoint -q $DBG; then
	mount -t debugfs none $DBG 2>/dev/null && MOUNTED=1
fi
trap '[ -z "$MOUNTED" ] || umount $DBG; cl_cleanup' EXIT
BUFS=$DBG/cohort/buffers
[ -r $BUFS ] || ktap_skip_all "no $BUFS (debugfs)"
[ "$(getconf PAGESIZE)" = 4096 ] ||
	ktap_skip_all "the sizes below are for 4 KiB pages"

# kept SIZE / cap SIZE: buffers of SIZE kept now, and the most kept.
kept()
{
	awk -v s="$1" '$1 == s { print $2 }' $BUFS
}

cap()
{
	awk -v s="$1" '$1 == s { print $3 }' $BUFS
}

[ "$(cap 4096)" != 0 ] ||
	ktap_skip_all "nothing is kept (init_on_free): $(tr '\n' ' ' <$BUFS)"

# Every stack empty, after asking the shrinkers for everything.
all_empty()
{
	echo 2 >/proc/sys/vm/drop_caches &&
		awk 'NR > 1 && $2 != 0 { bad = 1 } END { exit bad }' $BUFS
}

# Something kept, in any class.
any_kept()
{
	awk 'NR > 1 && $2 != 0 { some = 1 } END { exit !some }' $BUFS
}

frames_back()
{
	[ "$(kept 8192)" -gt 0 ]
}

big()
{
	[ "$(kept 4096)" -gt 0 ] && [ "$(kept 4096)" -le "$(cap 4096)" ]
}

ktap_plan 11

cl_node a 41 && cl_node b 42 && cl_hb b 100 5000 && cl_link a b &&
	cl_wait 60 cl_all_up a b && cl_wait 30 cl_all_reachable a b
ktap_result $? "a and b linked (${CL_WAITED} ms)"

# ---- a backlog taken at once ----
N=2000
qt a produce big $N -s 4096 -b 64 --create persistent -m 4096 \
	-B 16777216 >/dev/null 2>&1 && [ "$(qstat a big depth)" = $N ] &&
	bgq a big-c consume big $N -a none -b 64 -q && finish big-c &&
	[ "$(field big-c distinct)" = $N ]
ktap_result $? "$N messages of 4 KiB sent to big on a, then taken"
ktap_info "after the backlog: $(tr '\n' ' ' <$BUFS)"
[ "$(cap 4096)" = 1024 ] && [ "$(cap 8192)" = 512 ] &&
	[ "$(kept 4096)" = "$(cap 4096)" ]
ktap_result $? "the 4 KiB stack (4 MiB) is full, and no fuller: kept $(kept 4096) of $(cap 4096) after $N freed at once"

# ---- frames across the link, from empty stacks ----
# Only b's frames of one 4 KiB message each are 8 KiB buffers here: a's
# frames to b (acks, credit) are small.
N=2000
cl_wait 10 all_empty &&
	qt a produce small $N -s 64 -b 64 --create persistent -m 4096 \
		>/dev/null 2>&1 && [ "$(qstat a small depth)" = $N ] &&
	bgq a small-c consume small $N -a none -b 64 -q && finish small-c &&
	[ "$(field small-c distinct)" = $N ] && [ "$(cap 256)" = 4096 ] &&
	[ "$(kept 256)" -ge $((N * 9 / 10)) ] &&
	[ "$(kept 256)" -le "$(cap 256)" ]
ktap_result $? "$N messages of 64 bytes sent to small from empty stacks, then taken: their objects wait on the 256-byte stack, kept $(kept 256) of $(cap 256)"

N=300
cl_wait 10 all_empty &&
	qt a produce far 0 --create persistent -m 4096 -B 16777216 >/dev/null 2>&1 &&
	bgq b far-p produce far@41 $N -s 4096 -b 1 && finish far-p &&
	bgq a far-c consume far $N -a none -b 64 -q && finish far-c &&
	[ "$(field far-c distinct)" = $N ]
ktap_result $? "b sends $N messages of 4 KiB to far@41 one per call, a takes them"
cl_wait 10 frames_back
ktap_result $? "b's 8 KiB frames came back once a acked them: kept $(kept 8192) of $(cap 8192)"

# ---- a frame's pages held by a packet on its way ----
# TCP takes the pages of a frame rather than copy them (since 6.5; before,
# it copies, and this passes trivially), and holds them until the last
# packet made of them is gone, which may be after the frame was acked or
# dropped. Here a's frames of one 12000-byte message each
# (16 KiB buffers) wait a second in netem on the link to b. Meanwhile a
# deletes its peer b, which drops them and resets the connection (the
# reset waits behind them), and messages of that size into a local queue
# on a take 16 KiB buffers and write them. Handed out again, a buffer of
# a dropped frame would reach b with those messages' bytes in it. b's
# tolerance (5 s) keeps its link up through the delay.
N=20
cl_wait 10 all_empty &&
	qt b produce held 0 --create persistent -m 4096 -B 16777216 \
		>/dev/null 2>&1 &&
	cl_netem a b delay 1000ms && sleep 0.2 &&
	bgq a held-p produce held@42 $N -s 12000 && finish held-p &&
	sleep 0.3 && cl_ctl a peer del id 42 &&
	qt a produce local 300 -s 12000 -b 64 --create persistent -m 4096 \
		-B 16777216 >/dev/null 2>&1 && sleep 2 &&
	bgq b held-c consume held $N -a none -q -t 1000
finish held-c
[ "$(field held-c got)" -ge 1 ] && [ "$(field held-c bad)" = 0 ] &&
	[ "$(cl_lstat b a bad_frames)" = 0 ]
ktap_result $? "no buffer of a's is handed out while a delayed packet holds its pages: b took $(field held-c got) of a's $N messages, $(field held-c bad) bad, and $(cl_lstat b a bad_frames) bad frames"

# ---- memory pressure ----
any_kept && cl_wait 10 all_empty
ktap_result $? "drop_caches empties the stacks that held buffers: $(tr '\n' ' ' <$BUFS)"

N=100
qt a produce big $N -s 4096 -b 64 >/dev/null 2>&1 &&
	bgq a big-c2 consume big $N -a none -b 64 -q && finish big-c2 &&
	[ "$(field big-c2 distinct)" = $N ] && big
ktap_result $? "after that $N more go through big, and the 4 KiB stack refills: kept $(kept 4096)"

cl_final_checks
ktap_finish
