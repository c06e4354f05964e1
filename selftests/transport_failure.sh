#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Failure detection: with heartbeats every 50 ms and a tolerance of 300 ms,
# a link whose veth goes down is reported down, and the node behind it
# unreachable, within tolerance + one heartbeat (times 2 for the emulated
# VM: COHORT_TIME_SLACK, default 2) by its neighbour and by the node one hop
# further; not before half the tolerance either. It comes back when the
# veth does. A deleted namespace is detected the same way (with a second
# more for the kernel to run the namespace's cleanup).
#
#   a (41) ---- link 1 ---- b (42) ---- link 2 ---- c (43)
#     ^ "to-b" set down, then up; later namespace a deleted
#
# Times come from monitors in a, b and c whose lines are stamped as they
# are read, against the wall clock read just before the fault.

DIR=$(cd "$(dirname "$0")" && pwd)
. "$DIR/ktap.sh"
. "$DIR/lib_cluster.sh"

cl_init tfail

HB=50
TOL=300
SLACK=${COHORT_TIME_SLACK:-2}
BOUND=$((SLACK * (TOL + HB)))
# A deleted namespace stops only once the kernel's cleanup_net has run
# (from a workqueue, after RCU grace periods): allow a second for that.
DEL_BOUND=$((BOUND + 1000))
LOWER=$((TOL / 2))

# detect NAME SINCE_US FILTER WHAT: the first such event in NAME's monitor
# within 10 s, no later than $BOUND ms after SINCE_US (and with --lower no
# sooner than $LOWER ms). $MS: the time it took.
detect()
{
	local lower= bound=$BOUND

	[ "$1" = --lower ] && { lower=1; shift; }
	[ "$1" = --bound ] && { bound=$2; shift 2; }
	MS=-1
	if ! cl_mon_wait 10 "$CL_TMP/mon-$1" "$2" "$3"; then
		ktap_info "$1: no event '$3' within 10 s"
		return 1
	fi
	MS=$(((CL_T - $2) / 1000))
	ktap_info "$1: $4 after $MS ms (bound $bound${lower:+, at least $LOWER})"
	[ "$MS" -le "$bound" ] || return 1
	[ -z "$lower" ] || [ "$MS" -ge "$LOWER" ]
}

link_ev()
{
	echo ".event == \"link\" and .id == ${CL_ID[$1]} and .state == \"$2\""
}

member_ev()
{
	echo ".event == \"member\" and .id == ${CL_ID[$1]} and .state == \"$2\""
}

ktap_plan 16

rc=0
for n in a b c; do
	cl_node "$n" $((41 + ${#CL_NODES[@]})) && cl_hb "$n" $HB $TOL || rc=1
done
cl_link a b && cl_link b c || rc=1
[ $rc = 0 ] && cl_q b "node show" '.hb_interval == $i and .hb_tolerance == $t' \
	--argjson i $HB --argjson t $TOL >/dev/null
ktap_result $? "line a-b-c, node show says heartbeat $HB ms, tolerance $TOL ms"

cl_wait 60 cl_all_up a b c && cl_wait 30 cl_all_reachable a b c
ktap_result $? "all links up, all members reachable (${CL_WAITED} ms)"

cl_monitor a "$CL_TMP/mon-a"
rc=$?
mon_a=$CL_BG
cl_monitor b "$CL_TMP/mon-b" && cl_monitor c "$CL_TMP/mon-c"
ktap_result $((rc | $?)) "monitors running in a, b and c"

# ---- veth down ----
cl_us
t0=$CL_US
cl_ifdown a b
detect --lower b "$t0" "$(link_ev a down)" "link to a down"
ktap_result $? "veth down: b reports its link to a down in time (${MS} ms)"

detect b "$t0" "$(member_ev a unreachable)" "a unreachable"
ktap_result $? "veth down: b reports a unreachable in time (${MS} ms)"

detect c "$t0" "$(member_ev a unreachable)" "a unreachable"
ktap_result $? "veth down: c, one hop further, reports a unreachable in time (${MS} ms)"

detect a "$t0" "$(link_ev b down)" "link to b down" &&
	detect a "$t0" "$(member_ev b unreachable)" "b unreachable" &&
	detect a "$t0" "$(member_ev c unreachable)" "c unreachable"
ktap_result $? "veth down: a reports its link down, b and c unreachable in time"

ktap_info "b's link to a: $(cl_link_state b a), c sees a as: $(cl_member c a)"
[ "$(cl_link_state b a)" = down ] && cl_is_member c a unreachable
ktap_result $? "veth down: link show and member show agree with the events"

# ---- veth up again ----
cl_us
t1=$CL_US
cl_ifup a b && cl_mon_wait 20 "$CL_TMP/mon-b" "$t1" "$(link_ev a up)"
rc=$?
ktap_info "back up: b saw the link up after $(((CL_T - t1) / 1000)) ms"
cl_mon_wait 20 "$CL_TMP/mon-c" "$t1" "$(member_ev a reachable)" || rc=1
ktap_info "back up: c saw a reachable after $(((CL_T - t1) / 1000)) ms"
cl_wait 20 cl_all_up a b c && cl_wait 20 cl_all_reachable a b c
ktap_result $((rc | $?)) "veth up: link and members come back everywhere"

out=$(cl_json c ping 41 -c 1 -W 5000 2>&1) &&
	printf '%s' "$out" | jq -e '.received == 1 and .replies[0].hops == 2' >/dev/null
rc=$?
[ $rc = 0 ] || ktap_info "ping said: $out"
ktap_result $rc "veth up: c pings a over 2 hops again"

# ---- namespace deleted ----
cl_stop "$mon_a"
sleep 0.5
cl_us
t2=$CL_US
cl_step ip netns del "${CL_NS[a]}"
detect --bound $DEL_BOUND b "$t2" "$(link_ev a down)" "link to a down"
ktap_result $? "namespace a deleted: b reports the link down in time (${MS} ms)"

detect --bound $DEL_BOUND b "$t2" "$(member_ev a unreachable)" "a unreachable"
ktap_result $? "namespace a deleted: b reports a unreachable in time (${MS} ms)"

detect --bound $DEL_BOUND c "$t2" "$(member_ev a unreachable)" "a unreachable"
ktap_result $? "namespace a deleted: c reports a unreachable in time (${MS} ms)"

out=$(cl_ctl c ping 41 -c 1 -W 3000 2>&1)
rc=$?
[ $rc = 1 ] && echo "$out" | grep -qi unreachable
ktap_result $? "namespace a deleted: c's ping to a says unreachable (exit $rc)"

cl_final_checks
ktap_finish
