#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Reliable, ordered delivery over a bad network: 10 000 sequenced 64-byte
# messages from a to b arrive exactly once and in order with tc netem loss,
# delay, reordering and duplication on both ends of the veth; then again
# while the link flaps (set down for longer than the tolerance mid-stream,
# so the TCP channel is rebuilt and unacknowledged frames are resent). b
# never drops a message for lack of room (msg_dropped stays 0).
#
#   a (61) ========== link 1 ========== b (62)
#   msgseq send 62 PORT       netem both ends: loss 10%, delay 5ms 2ms,
#                             reorder 25%, duplicate 2%
#                                        msgseq recv PORT (32 MiB rcvbuf)
#
# Heartbeats every 100 ms, tolerance 1000 ms (10 % heartbeat loss must not
# take the link down by itself).

DIR=$(cd "$(dirname "$0")" && pwd)
. "$DIR/ktap.sh"
. "$DIR/lib_cluster.sh"

cl_init trel netem
[ -x "$CL_MSGSEQ" ] || ktap_skip_all "missing $CL_MSGSEQ (build first)"

COUNT=${COHORT_RELIABILITY_COUNT:-10000}
NETEM="loss 10% delay 5ms 2ms reorder 25% duplicate 2%"
HB=100
TOL=1000

# start_recv PORT: msgseq recv in b, bound before this returns.
start_recv()
{
	cl_bg b "$CL_TMP/recv-$1" "$CL_MSGSEQ" recv "$1" "$COUNT" 200000 -s 61
	RECV=$CL_BG
	cl_wait_file "$CL_TMP/recv-$1.err" "# bound port" 20 && return 0
	ktap_info "receiver did not bind: $(cat "$CL_TMP/recv-$1.err")"
	return 1
}

# finish PID FILE WHAT: wait for a msgseq; its summary as diagnostics.
finish()
{
	local rc

	wait "$1"
	rc=$?
	ktap_info "$3: $(cat "$2") $(tr '\n' ' ' <"$2.err")"
	return $rc
}

reconnects()
{
	echo "$(cl_lstat a b reconnects) $(cl_lstat b a reconnects)"
}

ktap_plan 14

cl_node a 61 && cl_node b 62 && cl_hb a $HB $TOL && cl_hb b $HB $TOL &&
	cl_link a b && cl_wait 60 cl_all_up a b && cl_wait 30 cl_all_reachable a b
ktap_result $? "two nodes, link up (${CL_WAITED} ms)"

cl_netem a b $NETEM && cl_netem b a $NETEM
ktap_result $? "netem on both ends: $NETEM"

drop0=$(cl_stat b msg_dropped)

# ---- phase 1: lossy link ----
start_recv 100
cl_us
t0=$CL_US
cl_bg a "$CL_TMP/send-100" "$CL_MSGSEQ" send 62 100 "$COUNT" -u -b 32
send=$CL_BG
finish "$send" "$CL_TMP/send-100" sender
ktap_result $? "lossy link: $COUNT messages accepted by a"

finish "$RECV" "$CL_TMP/recv-100" receiver
rc=$?
cl_us
ktap_result $rc "lossy link: b got 1..$COUNT exactly once, in order ($(((CL_US - t0) / 1000)) ms)"
ktap_info "a's link: $(cl_json a link show -s 2>&1 | tr -d '\n')"

[ "$(cl_link_state a b)" = up ] && [ "$(cl_link_state b a)" = up ]
ktap_result $? "lossy link: still up on both sides"

# ---- phase 2: the link flaps mid-stream ----
read -r rc_a0 rc_b0 <<<"$(reconnects)"
del0=$(cl_stat b msg_delivered)
start_recv 101
# Paced at 1000 msg/s, below what b takes in even under TCG, so the
# sender is still running at the cut (not done, its tail in the transmit
# window) and has to ride out the outage.
cl_bg a "$CL_TMP/send-101" "$CL_MSGSEQ" send 62 101 "$COUNT" -u -p 100 -W 120000
send=$CL_BG

# Cut once a fifth has arrived: the rest is queued, in flight or not sent.
delivered_some()
{
	local d

	d=$(cl_stat b msg_delivered) || return 1
	[ $((d - del0)) -ge $((COUNT / 5)) ]
}
cl_wait 120 delivered_some
at=$(($(cl_stat b msg_delivered) - del0))
kill -0 "$send" 2>/dev/null && [ "$at" -lt "$COUNT" ]
ktap_result $? "flap: cut the link mid-stream ($at of $COUNT delivered)"

cl_us
t1=$CL_US
cl_ifdown a b && cl_wait 15 cl_is_link a b down && cl_wait 15 cl_is_link b a down
rc=$?
cl_us
ktap_info "link down on both sides after $(((CL_US - t1) / 1000)) ms"
sleep 0.5
cl_ifup a b
ktap_result $((rc | $?)) "flap: both sides declared the link down, then it came back"

cl_wait 60 cl_all_up a b
ktap_result $? "flap: link up again on both sides (${CL_WAITED} ms)"

finish "$send" "$CL_TMP/send-101" sender
ktap_result $? "flap: $COUNT messages accepted by a (retrying while unreachable)"

finish "$RECV" "$CL_TMP/recv-101" receiver
ktap_result $? "flap: b got 1..$COUNT exactly once, in order"

read -r rc_a1 rc_b1 <<<"$(reconnects)"
ktap_info "reconnects a->b $rc_a0 -> $rc_a1, b->a $rc_b0 -> $rc_b1; resends a->b $(cl_lstat a b resends)"
[ -n "$rc_a1" ] && [ -n "$rc_b1" ] && [ "$rc_a1" -gt "${rc_a0:-0}" ] &&
	[ "$rc_b1" -gt "${rc_b0:-0}" ]
ktap_result $? "flap: the reconnects counter rose on both sides"

drop1=$(cl_stat b msg_dropped)
[ -n "$drop1" ] && [ "$drop1" = "${drop0:-x}" ] && [ "$drop1" = 0 ]
ktap_result $? "b dropped no message (msg_dropped $drop0 -> $drop1)"

cl_final_checks
ktap_finish
