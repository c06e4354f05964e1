#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Full meshes of 2 and 5 nodes: every link comes up, every node learns every
# other as reachable over its direct link, a monitor started before the
# first peer sees the link and member events in a valid order, and ping
# works between every ordered pair.
#
#   two nodes:    p (11) ----- link 1 ----- q (12)
#
#   five nodes:          a (21)
#                       /  |  \   \
#                 b (22) --+---+-- e (25)       every pair linked:
#                     \ \  |  / /               links 2..11, each its own
#                      c (23)-d (24)            198.18.L.0/24
#
# Heartbeats at the defaults (250 ms, tolerance 1 s). A monitor runs in
# every node from before its first "peer add".

DIR=$(cd "$(dirname "$0")" && pwd)
. "$DIR/ktap.sh"
. "$DIR/lib_cluster.sh"

cl_init tmesh

MESH=(a b c d e)

# Table of NAME as it must be in a full mesh of NAMES: every other node
# reachable over its own link.
mesh_table()
{
	local n=$1 m

	shift
	for m in "$@"; do
		[ "$m" = "$n" ] || echo "${CL_ID[$m]} reachable ${CL_ID[$m]} 1"
	done | sort -n
}

check_tables()
{
	local n got want rc=0

	for n in "$@"; do
		got=$(cl_members "$n")
		want=$(mesh_table "$n" "$@")
		if [ "$got" != "$want" ]; then
			ktap_info "$n: members '$(echo $got)', want '$(echo $want)'"
			rc=1
		fi
	done
	return $rc
}

mon_final()
{
	cl_mon_final "$CL_TMP/mon-$1" | grep -v "^member ${CL_ID[$1]} "
}

mon_final_is()
{
	[ "$(mon_final "$1")" = "$2" ]
}

# Monitors: no order problem, and the last states are: every peer's link
# up, every other node reachable.
check_monitors()
{
	local n m bad final want rc=0

	for n in "$@"; do
		want=$(for m in "$@"; do
			[ "$m" = "$n" ] || echo "link ${CL_ID[$m]} up"
		done | sort -k2,2n
		for m in "$@"; do
			[ "$m" = "$n" ] || echo "member ${CL_ID[$m]} reachable"
		done | sort -k2,2n)
		# An event may reach the monitor just after the state shows.
		cl_wait 5 mon_final_is "$n" "$want"
		final=$(mon_final "$n")
		bad=$(cl_mon_order "$CL_TMP/mon-$n")
		[ -z "$bad" ] || { ktap_info "$n: $(echo $bad)"; rc=1; }
		if [ "$final" != "$want" ]; then
			ktap_info "$n: monitor ended with '$(echo $final)', want '$(echo $want)'"
			rc=1
		fi
	done
	return $rc
}

# Ping every ordered pair once; every reply must have come over 1 hop.
ping_pairs()
{
	local n m out rc=0 count=0

	for n in "$@"; do
		for m in "$@"; do
			[ "$m" = "$n" ] && continue
			count=$((count + 1))
			out=$(cl_json "$n" ping "${CL_ID[$m]}" -c 1 -W 5000 2>&1)
			if [ $? -ne 0 ] || ! printf '%s' "$out" | jq -e \
				'.received == 1 and ([.replies[].hops] == [1])' \
				>/dev/null 2>&1; then
				ktap_info "ping $n -> $m: $out"
				rc=1
			fi
		done
	done
	ktap_info "$count pings"
	return $rc
}

ktap_plan 17

# ---- two nodes ----

cl_node p 11 && cl_node q 12 &&
	cl_monitor p "$CL_TMP/mon-p" && cl_monitor q "$CL_TMP/mon-q"
ktap_result $? "two nodes: namespaces, node ids and monitors"

cl_link p q
ktap_result $? "two nodes: veth pair and peers configured both ways"

cl_wait 30 cl_all_up p q
ktap_result $? "two nodes: link up on both sides (${CL_WAITED} ms)"

cl_wait 30 cl_all_reachable p q && check_tables p q
ktap_result $? "two nodes: membership converged (${CL_WAITED} ms), one hop each way"

cl_q p "peer show" \
	'[rows] | length == 1 and .[0].id == 12 and .[0].addr == "198.18.1.2" and .[0].port == 6230' \
	>/dev/null &&
	cl_q p "node show" '.port == 6230 and .hb_interval == 250 and .hb_tolerance == 1000' \
	>/dev/null
ktap_result $? "two nodes: peer show lists q at its address and port 6230; node show has the defaults"

check_monitors p q
ktap_result $? "two nodes: monitors saw link and member events in order"

ping_pairs p q
ktap_result $? "two nodes: ping both ways, one hop"

# Removing a node's last peer stops its transport, which forgets what it
# knew of the cluster; adding one starts it again with its own LSA. The
# count of known nodes must start again too: counted on, after 256 starts
# it would leave no room for even that LSA, and p would route nowhere.
rc=0
addr=$(cl_addr q p)
for i in $(seq 260); do
	cl_ctl p peer del id 12 >/dev/null 2>&1 &&
		cl_ctl p peer add id 12 addr "$addr" >/dev/null 2>&1 ||
		{ rc=1; ktap_info "restart $i failed"; break; }
done
[ $rc = 0 ] && cl_wait 60 cl_all_up p q && cl_wait 60 cl_all_reachable p q &&
	check_tables p q && ping_pairs p q
ktap_result $? "two nodes: p's only peer removed and added again 260 times, then link, membership and pings as before"

# ---- five nodes ----

rc=0
id=21
for n in "${MESH[@]}"; do
	cl_node "$n" $id || rc=1
	id=$((id + 1))
done
for n in "${MESH[@]}"; do
	cl_monitor "$n" "$CL_TMP/mon-$n" || rc=1
done
[ $rc = 0 ] && [ "${CL_ID[a]}" = 21 ] && [ "${CL_ID[e]}" = 25 ]
ktap_result $? "five nodes: namespaces, node ids 21..25 and monitors"

rc=0
for i in 0 1 2 3 4; do
	for j in $(seq $((i + 1)) 4); do
		cl_link "${MESH[$i]}" "${MESH[$j]}" || rc=1
	done
done
[ $rc = 0 ] && [ "$CL_NLINKS" = 11 ]
ktap_result $? "five nodes: 10 veth pairs, 20 peers"

cl_wait 60 cl_all_up "${MESH[@]}"
ktap_result $? "five nodes: all 20 link ends up (${CL_WAITED} ms)"

cl_wait 60 cl_all_reachable "${MESH[@]}"
ktap_result $? "five nodes: membership converged (${CL_WAITED} ms)"

check_tables "${MESH[@]}"
ktap_result $? "five nodes: every node reaches every other over its own link"

check_monitors "${MESH[@]}"
ktap_result $? "five nodes: monitors saw link and member events in order"

ping_pairs "${MESH[@]}"
ktap_result $? "five nodes: ping between all 20 ordered pairs, one hop"

cl_final_checks
ktap_finish
