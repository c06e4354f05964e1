#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Overlay routing: in a line where each node knows only its neighbours,
# frames cross three hops; the route tables are exactly the shortest paths;
# closing the line into a ring and cutting a link reroutes; cutting the ring
# in two makes the far side unreachable, and the sender is told so at once.
#
#   line:   a (51) --1-- b (52) --2-- c (53) --3-- d (54)
#
#   ring:   a (51) --1-- b (52)
#             |            x  link 2 cut (b's end set down)
#             4            |
#           d (54) --3-- c (53)
#
#   split:  link 4 cut as well: {a, b} and {c, d}
#
# Heartbeats every 100 ms, tolerance 600 ms.

DIR=$(cd "$(dirname "$0")" && pwd)
. "$DIR/ktap.sh"
. "$DIR/lib_cluster.sh"

cl_init troute

HB=100
TOL=600

# table NAME "ROWS": NAME's members must be exactly ROWS ("ID STATE NEXT_HOP
# HOPS" per line, sorted by id; "|" separates rows).
table()
{
	local got want

	got=$(cl_members "$1")
	want=$(echo "$2" | tr '|' '\n')
	[ "$got" = "$want" ] && return 0
	ktap_info "$1: members '$(echo $got)', want '$(echo $want)'"
	return 1
}

table_quiet()
{
	[ "$(cl_members "$1")" = "$(echo "$2" | tr '|' '\n')" ]
}

# member_via A B NEXT_HOP_NAME HOPS
member_via()
{
	[ "$(cl_member "$1" "$2")" = "reachable ${CL_ID[$3]} $4" ]
}

# ping_hops A B HOPS: ping -c 2, every reply over HOPS hops.
ping_hops()
{
	local out

	out=$(cl_json "$1" ping "${CL_ID[$2]}" -c 2 -i 100 -W 5000 2>&1) &&
		printf '%s' "$out" | jq -e --argjson h "$3" \
			'.received >= 1 and ([.replies[].hops] | all(. == $h))' \
			>/dev/null 2>&1 && return 0
	ktap_info "ping $1 -> $2: $out"
	return 1
}

ktap_plan 20

rc=0
for n in a b c d; do
	cl_node "$n" $((51 + ${#CL_NODES[@]})) && cl_hb "$n" $HB $TOL || rc=1
done
cl_link a b && cl_link b c && cl_link c d || rc=1
ktap_result $rc "line a-b-c-d: nodes 51..54, peers only between neighbours"

cl_wait 60 cl_all_reachable a b c d
ktap_result $? "line: every node reaches every other (${CL_WAITED} ms)"

table a "52 reachable 52 1|53 reachable 52 2|54 reachable 52 3"
ktap_result $? "line: a's table is b via b 1, c via b 2, d via b 3"

table d "51 reachable 53 3|52 reachable 53 2|53 reachable 53 1"
ktap_result $? "line: d's table is a via c 3, b via c 2, c via c 1"

out=$(cl_json a route show 2>&1)
got=$(printf '%s' "$out" | jq -r "$CL_JQ_DEFS"'
	[rows | "\(.dst // .id) \(.next_hop // .via) \(.hops)"] | sort | .[]' 2>/dev/null)
[ "$(echo $got)" = "52 52 1 53 52 2 54 52 3" ]
ktap_result $? "line: a's route show agrees${got:+ ($(echo $got))}${got:-: $out}"

f_b=$(cl_stat b forwarded)
f_c=$(cl_stat c forwarded)
ping_hops a d 3
ktap_result $? "line: a pings d over 3 hops"

fb=$(cl_stat b forwarded)
fc=$(cl_stat c forwarded)
[ -n "$f_b" ] && [ -n "$fb" ] && [ $((fb - f_b)) -ge 2 ] &&
	[ -n "$f_c" ] && [ -n "$fc" ] && [ $((fc - f_c)) -ge 2 ]
ktap_result $? "line: b and c forwarded the pings and replies (b +$((fb - f_b)), c +$((fc - f_c)))"

cl_bg d "$CL_TMP/recv" "$CL_CTL" -j msg recv 7 -c 1 -W 20000
rpid=$CL_BG
cl_wait_file "$CL_TMP/recv.err" "# bound port" &&
	cl_step cl_ctl a msg send 54 7 over-three-hops && wait $rpid &&
	jq -e -s 'length == 1 and (.[0] | .src == 51 and .port == 7 and
		.hops == 3 and .payload == "over-three-hops")' "$CL_TMP/recv" >/dev/null
ktap_result $? "line: a message from a arrives at d once, from 51 over 3 hops"
[ -s "$CL_TMP/recv" ] && ktap_info "received: $(cat "$CL_TMP/recv")"

# ---- close the ring ----

# c is two hops away either way round.
ring_a()
{
	table_quiet a "52 reachable 52 1|53 reachable 52 2|54 reachable 54 1" ||
		table_quiet a "52 reachable 52 1|53 reachable 54 2|54 reachable 54 1"
}

cl_link d a && cl_wait 30 ring_a
ktap_result $? "ring: a reaches d directly now, c over 2 hops (${CL_WAITED} ms)"

b_d=$(cl_member b d | cut -d' ' -f2)
table b "51 reachable 51 1|53 reachable 53 1|54 reachable $b_d 2" &&
	{ [ "$b_d" = 51 ] || [ "$b_d" = 53 ]; }
ktap_result $? "ring: b reaches a and c directly, d over 2 hops"

cl_us
t0=$CL_US
cl_ifdown b c &&
	cl_wait 30 member_via b c a 3
cl_us
ktap_result $? "ring: with b-c cut, b routes to c via a, 3 hops ($(((CL_US - t0) / 1000)) ms)"

ping_hops b c 3
ktap_result $? "ring: b pings c the long way round"

cl_wait 10 member_via c b d 3
ktap_result $? "ring: c routes to b via d, 3 hops"

cl_wait 10 member_via a c d 2
ktap_result $? "ring: a routes to c via d only"

# ---- cut the ring in two ----

cl_ifdown a d && cl_wait 30 cl_is_member b c unreachable &&
	cl_wait 10 cl_is_member a d unreachable
ktap_result $? "split: b and a see c and d unreachable (${CL_WAITED} ms)"

cl_us
t0=$CL_US
out=$(cl_ctl b ping 53 -c 1 -W 5000 2>&1)
rc=$?
cl_us
ms=$(((CL_US - t0) / 1000))
[ $rc = 1 ] && echo "$out" | grep -qi unreachable && [ $ms -lt 3000 ]
ktap_result $? "split: b's ping to c fails at once with unreachable (exit $rc, $ms ms)"
[ $rc = 1 ] || ktap_info "ping said: $out"

out=$(cl_ctl b msg send 53 7 lost 2>&1)
rc=$?
[ $rc = 1 ] && echo "$out" | grep -qi unreachable
ktap_result $? "split: b's message to c is refused as unreachable (exit $rc)"
[ $rc = 1 ] || ktap_info "msg send said: $out"

cl_ifup b c && cl_wait 30 member_via b c c 1 && ping_hops b c 1
ktap_result $? "split healed by b-c: b reaches c directly again (${CL_WAITED} ms)"

cl_final_checks
ktap_finish
