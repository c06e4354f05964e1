#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Teardown under traffic: namespaces deleted while messages and pings flow
# through them, then rmmod while a two-node cluster still has traffic (only
# netlink users, which do not pin the module), insmod again. Nothing may
# warn, the module's use count must be 0, no cohort socket may survive the
# unload, and namespaces that outlive the module start from scratch.
#
#   part 1:  a (91) ---- link 1 ---- b (92) ---- link 2 ---- c (93)
#            msgseq a -> c, pings a -> b, a -> c, c -> a
#            delete c (receiver inside), then b, then a
#
#   part 2:  p (94) ---- link 3 ---- q (95)
#            msgseq p -> q, pings both ways; rmmod; insmod $COHORT_KO;
#            root node back to id 1 "root"
#
# Leaves the module loaded with the root node set, as it found it.

DIR=$(cd "$(dirname "$0")" && pwd)
. "$DIR/ktap.sh"
. "$DIR/lib_cluster.sh"

cl_init tdown
[ -x "$CL_MSGSEQ" ] || ktap_skip_all "missing $CL_MSGSEQ (build first)"
[ -n "$COHORT_KO" ] && [ -r "$COHORT_KO" ] ||
	ktap_skip_all "set COHORT_KO to the path of cohort.ko"
command -v ss >/dev/null || ktap_skip_all "needs ss (iproute2)"

loaded()
{
	[ -e /sys/module/cohort ]
}

# Whatever happens, leave the module loaded and the root node set.
td_cleanup()
{
	cl_cleanup
	loaded || insmod "$COHORT_KO"
	loaded && "$CL_CTL" node set id 1 name root >/dev/null 2>&1
}
trap td_cleanup EXIT

refcnt_zero()
{
	[ "$(cat /sys/module/cohort/refcnt 2>/dev/null)" = 0 ]
}

declare -A PIDS_OF

# bg NAME OUT CMD...: cl_bg, remembering the pid as one of NAME's.
bg()
{
	cl_bg "$@"
	PIDS_OF[$1]="${PIDS_OF[$1]} $CL_BG"
}

# stop_all NAME: end NAME's processes.
stop_all()
{
	local pid

	for pid in ${PIDS_OF[$1]}; do
		cl_stop "$pid"
	done
	PIDS_OF[$1]=
}

# traffic FROM TO PORT: msgseq from FROM to TO (receiver in TO) and a ping
# loop from FROM to TO.
traffic()
{
	local from=$1 to=$2 port=$3

	bg "$to" "$CL_TMP/recv-$port" "$CL_MSGSEQ" recv "$port" 100000000 600000
	cl_wait_file "$CL_TMP/recv-$port.err" "# bound port" 20 || return 1
	bg "$from" "$CL_TMP/send-$port" "$CL_MSGSEQ" send "${CL_ID[$to]}" "$port" \
		100000000 -u -W 600000
	bg "$from" "$CL_TMP/ping-$port" "$CL_CTL" ping "${CL_ID[$to]}" \
		-c 100000 -i 20 -W 2000
}

# flowing NAME: NAME's msg_delivered grows by 100 within 30 s.
flowing()
{
	local d0

	d0=$(cl_stat "$1" msg_delivered) || return 1
	cl_wait 30 grow "$1" "$d0"
}

grow()
{
	local d

	d=$(cl_stat "$1" msg_delivered) || return 1
	[ $((d - $2)) -ge 100 ]
}

# sockets NAME: cohort's sockets on port 6230 in NAME, other than the
# orphans TCP keeps after a close (FIN-WAIT, CLOSING, LAST-ACK, TIME-WAIT):
# a listener, a UDP socket, a connection still established or in
# CLOSE-WAIT (never closed) is a leak.
sockets()
{
	ip netns exec "${CL_NS[$1]}" ss -Htuan 2>/dev/null |
		grep -vE "^tcp +(TIME-WAIT|FIN-WAIT-1|FIN-WAIT-2|CLOSING|LAST-ACK) " |
		grep -E ":6230\b"
}

ktap_plan 14

# ---- part 1: delete namespaces with traffic ----
rc=0
for n in a b c; do
	cl_node "$n" $((91 + ${#CL_NODES[@]})) && cl_hb "$n" 100 600 || rc=1
done
cl_link a b && cl_link b c || rc=1
[ $rc = 0 ] && cl_wait 60 cl_all_up a b c && cl_wait 30 cl_all_reachable a b c
ktap_result $? "line a-b-c converged (${CL_WAITED} ms)"

traffic a c 200 && traffic c a 201 &&
	bg a "$CL_TMP/ping-ab" "$CL_CTL" ping 92 -c 100000 -i 20 -W 2000 &&
	flowing c && flowing a
ktap_result $? "traffic flowing: messages a <-> c through b, pings"

# c goes while frames are in flight to it and from it: the namespace dies
# when the last of its processes does.
cl_step ip netns del "${CL_NS[c]}" && stop_all c &&
	cl_wait 15 cl_is_member a c unreachable
ktap_result $? "delete c with its receiver inside: a sees c unreachable (${CL_WAITED} ms)"

# b goes while it still carries pings and holds c's leftovers.
cl_step ip netns del "${CL_NS[b]}" && cl_wait 15 cl_is_member a b unreachable
ktap_result $? "delete b under pings: a sees b unreachable (${CL_WAITED} ms)"

stop_all a
cl_step ip netns del "${CL_NS[a]}" && sleep 1 && cl_step "$CL_CTL" node show
ktap_result $? "delete a; the root node still answers"

# ---- part 2: rmmod with a cluster and traffic ----
cl_node p 94 && cl_node q 95 && cl_link p q &&
	cl_wait 60 cl_all_up p q && cl_wait 30 cl_all_reachable p q
ktap_result $? "p and q linked (${CL_WAITED} ms)"

traffic p q 300 && traffic q p 301 && flowing q && flowing p
ktap_result $? "traffic flowing both ways between p and q"

cl_wait 10 refcnt_zero
ktap_result $? "module use count is 0 with only netlink users (refcnt $(cat /sys/module/cohort/refcnt 2>/dev/null))"

# A dump in progress holds the module for a moment: retry a few times.
ok=1
for i in 1 2 3 4 5; do
	if rmmod cohort 2>"$CL_TMP/rmmod"; then
		ok=0
		break
	fi
	sleep 0.2
done
[ $ok = 0 ] || ktap_info "rmmod: $(cat "$CL_TMP/rmmod")"
! loaded && [ $ok = 0 ]
ktap_result $? "rmmod while p and q exchange messages and pings (attempt $i)"

stop_all p
stop_all q
left="$(sockets p)$(sockets q)"
[ -z "$left" ] || ktap_info "sockets left: $(echo $left)"
[ -z "$left" ] && ! loaded
ktap_result $? "no cohort socket left in p or q after the unload"

cl_step insmod "$COHORT_KO" && cl_step "$CL_CTL" node set id 1 name root &&
	cl_q p "node show" '.id == 0' >/dev/null && cl_q q "node show" '.id == 0' >/dev/null &&
	out=$(cl_json p peer show 2>&1) && ! printf '%s' "$out" | grep -q '"id"'
ktap_result $? "insmod again: root node back, p and q start with no id and no peer"

cl_step cl_ctl p node set id 94 name p && cl_step cl_ctl q node set id 95 name q &&
	cl_peer p q && cl_wait 60 cl_all_up p q &&
	out=$(cl_json p ping 95 -c 1 -W 5000 2>&1) &&
	printf '%s' "$out" | jq -e '.received == 1' >/dev/null
ktap_result $? "the reloaded module links p and q again and they ping"

cl_final_checks
ktap_finish
