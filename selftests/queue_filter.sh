#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Subscription filters across nodes, through cohortctl: a subscription
# keeps only the messages whose key has (key & MASK) == VALUE. The filter
# travels with a remote open, keys travel with remote publishes and
# deliveries and into a receive ring; a durable remote subscription keeps
# its filter while away; what no subscription keeps is counted as
# filtered, not dropped; topic show -j says each subscription's filter.
#
#   a (51) ============ link ============ b (52)
#   topic news (home)                     publisher of news@51 (keys)
#   sub "nine": filter 0x100/0x100,       durable sub "odd": filter
#   through a ring                        0x1/0xf, made first, read later
#
# Keys of the eight messages m0..m7, and who keeps them:
#   0x100 0x1 0x102 0x11 0x104 0x5 0x101 0x7
#   nine: m0 m2 m4 m6; odd: m1 m3 m6; nobody: m5 m7
# Last, queue kq on a with a ring consumer: b's keyed send goes from the
# frame straight into the ring.

DIR=$(cd "$(dirname "$0")" && pwd)
. "$DIR/ktap.sh"
. "$DIR/lib_cluster.sh"

cl_init qfilter

KEYS=(0x100 0x1 0x102 0x11 0x104 0x5 0x101 0x7)

# consumer NODE OUT ARGS...: cohortctl -j ARGS in NODE's namespace in the
# background, attached before this returns.
consumer()
{
	local n=$1 out=$2

	shift 2
	cl_bg "$n" "$out" "$CL_CTL" -j "$@"
	cl_wait_file "$out.err" "# receiving from" 30 && return 0
	ktap_info "consumer did not attach: $(cat "$out.err")"
	return 1
}

# got PID FILE WANT: the consumer PID exited 0 after printing, in order,
# the messages WANT ("payload:key ..." as JSON strings in an array).
got()
{
	local have

	wait "$1" || { ktap_info "consumer $1 failed: $(cat "$2.err")"; return 1; }
	have=$(jq -s -c '[.[] | "\(.payload):\(.key)"]' "$2")
	[ "$have" = "$3" ] && return 0
	ktap_info "got $have, want $3"
	return 1
}

ktap_plan 12

cl_node a 51 && cl_node b 52 && cl_link a b &&
	cl_wait 60 cl_all_up a b && cl_wait 30 cl_all_reachable a b
ktap_result $? "a and b linked (${CL_WAITED} ms)"

cl_step cl_ctl a topic add news persistent

# odd_away: odd exists on a with its filter, and nobody is attached.
odd_away()
{
	cl_q a "topic show news" '[rows | .subs[] | select(.name == "odd")] |
		length == 1 and .[0].filter == {"value": 1, "mask": 15} and
		.[0].consumers == 0' >/dev/null
}

# The durable subscription on b is made, then left: it collects while away.
cl_ctl b topic sub news@51 sub odd filter 1/0xf timeout 0 >/dev/null 2>&1
cl_wait 10 odd_away
ktap_result $? "b made the durable subscription odd on a with filter 0x1/0xf"

consumer a "$CL_TMP/nine" topic sub news sub nine filter 0x100/0x100 \
	ring 65536 count 4 timeout 20000
nine=$CL_BG
ok=0
for i in "${!KEYS[@]}"; do
	cl_ctl b topic pub news@51 key "${KEYS[$i]}" "m$i" >/dev/null || ok=1
done
[ $ok = 0 ]
ktap_result $? "b published m0..m7 to news@51, each with its key"

got "$nine" "$CL_TMP/nine" '["m0:256","m2:258","m4:260","m6:257"]'
ktap_result $? "nine (0x100/0x100), through a ring on a, got m0 m2 m4 m6 with their keys"

cl_q a "topic stats news" '[rows | .subs[] | select(.name == "odd") |
	.stats] | .[0] | .depth == 3 and .enqueued == 3 and .filtered == 5' \
	>/dev/null &&
	cl_q a "topic stats news" 'rows | .stats.filtered == 2 and
		.stats.dropped == 0 and .stats.enqueued == 8' >/dev/null
ktap_result $? "odd kept 3 and filtered 5; the topic counts m5 and m7 as filtered, none dropped"

consumer b "$CL_TMP/odd" topic sub news@51 sub odd filter 0x1/0xf \
	count 3 timeout 20000
got "$CL_BG" "$CL_TMP/odd" '["m1:1","m3:17","m6:257"]'
ktap_result $? "odd, back on b, got m1 m3 m6 with their keys"

# EEXIST from a's kernel: the subscription is there, not as asked for.
ktap_expect 1 "was made with a different filter, which it keeps" \
	cl_ctl b topic sub news@51 sub odd timeout 0 &&
	ktap_expect 1 "was made with a different filter, which it keeps" \
		cl_ctl b topic sub news@51 sub odd filter 0x3/0xf timeout 0
ktap_result $? "odd keeps its filter: none, or another, is refused from b"

ktap_expect 1 'invalid filter "0x10/0xf"' \
	cl_ctl b topic sub news@51 filter 0x10/0xf &&
	ktap_expect 1 'invalid key' cl_ctl b topic pub news@51 key 0x100000000 m
ktap_result $? "cohortctl refuses a filter that cannot match and a key beyond 32 bits"

# A queue's message keeps its key too, written from b's frame straight
# into the ring of a's consumer.
cl_step cl_ctl a queue add kq persistent &&
	consumer a "$CL_TMP/kq" queue recv kq ring 65536 count 1 timeout 20000 &&
	cl_ctl b queue send kq@51 key 0x2a hello >/dev/null &&
	got "$CL_BG" "$CL_TMP/kq" '["hello:42"]'
ktap_result $? "a key sent from b reaches a ring consumer of queue kq on a"

cl_ctl a topic del news >/dev/null && cl_ctl a queue del kq >/dev/null &&
	cl_q a "topic show" 'length == 0' >/dev/null &&
	cl_q a "queue show" 'length == 0' >/dev/null
ktap_result $? "topic and queue del leave nothing"

cl_final_checks
ktap_finish
