#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Queues and topics across nodes: producers and consumers on other nodes
# than the queue's home, reached as "name@node" and as a bare name looked
# up in the cluster; the stamps, priority and TTL a remote publish
# carries, and a batch with an unreadable payload; competing consumers on two nodes; topic fan-out to
# local and remote subscribers; a persistent queue filled before its
# consumer exists; a remote consumer killed while it holds messages;
# consumers' prefetch windows, which keep slow work for ready consumers; a
# message whose stamp no consumer's clocks can take; and
# 10 % loss with a link flap on each side of the home, losing nothing;
# messages sent while their consumer's node was unreachable, delivered
# when it is back, with the home idle meanwhile; a descriptor closed while
# its home was unreachable; a consumer's credit that could not go then;
# remote consumers that receive through rings, sharing a queue and dying
# with records they never took;
# and restarts: of a home, which its producer and consumer hear of, and of
# an opener, whose descriptor its home lets go of.
#
#   a (81) ======= link 1 ======= b (82) ======= link 2 ======= c (83)
#   producers, consumers        queue homes:            consumers,
#   (remote)                    work share news held    subscribers
#                               rel; keep is on c       (remote)
#
# Heartbeats every 100 ms, tolerance 1000 ms. Messages carry (producer id,
# sequence); consumers print one line per message (qtool), which is what
# the checks count: duplicates are counted and allowed only where
# at-least-once delivery met a failure; a lost message is always a failure.

DIR=$(cd "$(dirname "$0")" && pwd)
. "$DIR/ktap.sh"
. "$DIR/lib_cluster.sh"

cl_init qclu netem
. "$DIR/lib_queue.sh"

HB=100
TOL=1000
NETEM="loss 10% delay 2ms 1ms"

# in_order TAG: sequence numbers strictly increasing (one producer).
in_order()
{
	msgs "$1" | awk '$1 <= last { bad = 1 } { last = $1 } END { exit bad }'
}

# lines_at_least TAG N
lines_at_least()
{
	[ "$(msgs "$1" | wc -l)" -ge "$2" ]
}

# shared A C N: consumers A and C (tags) got the N messages between them,
# each once, and both some; SHARED says how it went.
shared()
{
	local total distinct na nc

	finish "$1"
	finish "$2"
	total=$( (msgs "$1"; msgs "$2") | wc -l)
	distinct=$( (msgs "$1"; msgs "$2") | awk '{ print $2, $1 }' | sort -u | wc -l)
	na=$(msgs "$1" | wc -l)
	nc=$(msgs "$2" | wc -l)
	SHARED="$distinct of $3, $total deliveries ($1 $na, $2 $nc)"
	[ "$distinct" = "$3" ] && [ "$total" = "$3" ] && [ "$na" -gt 0 ] &&
		[ "$nc" -gt 0 ]
}

ktap_plan 58

# ---- the cluster ----
rc=0
for n in a b c; do
	cl_node "$n" $((81 + ${#CL_NODES[@]})) && cl_hb "$n" $HB $TOL || rc=1
done
cl_link a b && cl_link b c || rc=1
[ $rc = 0 ] && cl_wait 60 cl_all_up a b c && cl_wait 30 cl_all_reachable a b c
ktap_result $? "line a-b-c converged (${CL_WAITED} ms)"

# ---- 0: a bare name is created where it was asked for, if found nowhere ----
qt b produce probe 0 --create persistent >/dev/null 2>&1 &&
	qt b stat probe >/dev/null 2>&1 && ! qt a stat probe >/dev/null 2>&1 &&
	! qt c stat probe >/dev/null 2>&1
ktap_result $? "create of bare name probe on b makes it on b, and not on a or c"

# The other queues are made as NAME@82 on b: that is b, whatever the above.

# ---- 0b: a bare name two nodes have: the first home to answer wins ----
# The other is told to let go (CLOSE). What it sent meanwhile reached no
# user: with acks, it goes back as it was, not counted as redelivered.
N=20
twin_settled()
{
	[ "$(qstat a twin inflight)" = 0 ] && [ "$(qstat c twin inflight)" = 0 ] &&
		[ $(($(qstat a twin depth) + $(qstat c twin depth))) = $((2 * N - 1)) ]
}
cl_ctl a queue add twin persistent >/dev/null &&
	cl_ctl c queue add twin persistent >/dev/null &&
	qt a produce twin@81 $N >/dev/null 2>&1 && qt c produce twin@83 $N >/dev/null 2>&1 &&
	qt b consume twin 1 -t 10000 >"$CL_TMP/twin-b" 2>"$CL_TMP/twin-b.err" &&
	[ "$(msgs twin-b | wc -l)" = 1 ] && cl_wait 10 twin_settled &&
	[ "$(qstat a twin redelivered)" = 0 ] && [ "$(qstat c twin redelivered)" = 0 ]
rc=$?
[ $rc = 0 ] || ktap_info "a: $(qt a stat twin 2>&1 | tr '\n' ' ') c: $(qt c stat twin 2>&1 | tr '\n' ' ')"
ktap_result $rc "b takes 1 of twin, on a and on c, by the bare name: both homes keep the other $((2 * N - 1)), none counted as redelivered"

# ---- 1: remote producer by name@node, remote consumer by bare name ----
N=1000
qt b produce work@82 0 --create persistent >/dev/null 2>&1 &&
	bgq c work-c consume work $N -b 64 -t 20000 && opened work-c &&
	bgq a work-a produce work@82 $N -b 32 && finish work-a
ktap_result $? "a sends $N to work@82 (home b)"
finish work-c && [ "$(field work-c dups)" = 0 ] && in_order work-c &&
	grep -q "^# open work home 82$" "$CL_TMP/work-c.err"
ktap_result $? "c, by the bare name, finds work on b and gets all $N once each, in order"

# ---- 1b: what a remote publish carries, batched and with a TTL ----
# stamped P1 P2 P3: the JSON messages on stdin are those three, sent by
# one actor of a in that order with priority 3.
stamped()
{
	jq -s -e --arg p "$*" '[.[].payload] == ($p | split(" ")) and
	 all(.[]; .sender_node == 81 and .prio == 3 and .deliveries == 1) and
	 .[0].lamport < .[1].lamport and .[1].lamport < .[2].lamport and
	 ([.[] | .sender as $s | .vclock[] | select(.id == $s) | .counter] |
	  length == 3 and .[1] == .[0] + 1 and .[2] == .[1] + 1)' >/dev/null
}
cl_ctl b queue add stamps persistent >/dev/null 2>&1 &&
	cl_ctl a queue send stamps@82 prio 3 one two three >/dev/null &&
	cl_json b queue recv stamps count 3 timeout 2000 2>/dev/null |
	stamped one two three
ktap_result $? "a's batch of three to stamps@82: a's sender, prio 3, rising Lamport stamps, a's vector entry counting on by one"
cl_bg b "$CL_TMP/stamps-ring" "$CL_CTL" -j queue recv stamps count 3 \
	timeout 10000 ring 65536 &&
	cl_wait_file "$CL_TMP/stamps-ring.err" "# receiving from" 10 &&
	cl_ctl a queue send stamps@82 prio 3 four five six >/dev/null &&
	wait "$CL_BG" && stamped four five six <"$CL_TMP/stamps-ring"
ktap_result $? "the same, written straight into the ring of a consumer waiting at the home"
cl_ctl a queue send stamps@82 ttl 1 gone >/dev/null &&
	cl_ctl a queue send stamps@82 ttl 60000 kept >/dev/null && sleep 0.2 &&
	cl_q b "queue recv stamps count 1 timeout 2000" \
	'[.[].payload] == ["kept"]' -s >/dev/null &&
	[ "$(qstat b stamps expired)" = 1 ] && [ "$(qstat b stamps depth)" = 0 ]
ktap_result $? "a's message with a TTL of 1 ms expires at the home, the one with 60 s arrives"

# A payload that cannot be read ends a batch there, remote or local.
qt b produce badp@82 0 --create persistent >/dev/null 2>&1
rc=$?
for n in a b; do
	out=$(qt "$n" produce badp@82 5 -b 5 -F 3 2>&1)
	echo "$out" | grep -q "send 3: Bad address" &&
		echo "$out" | grep -q "sent 2 of 5" || rc=1
done
[ $rc = 0 ] && [ "$(qstat b badp depth)" = 4 ] && [ "$(qstat b badp enqueued)" = 4 ]
ktap_result $? "a batch of 5 with an unreadable 3rd payload, from a and from b (home): 2 go, then EFAULT"

# ---- 2: competing consumers on two nodes ----
N=2000
qt b produce share@82 0 --create persistent >/dev/null 2>&1 &&
	bgq a share-a consume share $N -b 16 -t 4000 &&
	bgq c share-c consume share $N -b 16 -t 4000 &&
	opened share-a && opened share-c &&
	bgq b share-b produce share $N -b 32 && finish share-b
ktap_result $? "b sends $N to its own queue with consumers on a and c"
shared share-a share-c $N
ktap_result $? "competing consumers on a and c: $SHARED, both got some"

# ---- 3: topic fan-out to a local and two remote subscribers ----
N=500
rc=0
qt b produce news@82 0 --topic --create transient >/dev/null 2>&1 || rc=1
for n in a b c; do
	bgq "$n" "news-$n" consume news $N --topic -a none -b 64 -t 20000 || rc=1
done
for n in a b c; do
	opened "news-$n" || rc=1
done
[ $rc = 0 ] && bgq a news-p produce news@82 $N --topic -b 10 && finish news-p
ktap_result $? "a publishes $N on topic news@82"
rc=0
for n in a b c; do
	finish "news-$n" && [ "$(field "news-$n" dups)" = 0 ] && in_order "news-$n" || rc=1
done
ktap_result $rc "every subscriber (b local, a and c remote) got all $N exactly once, in order"

# ---- 4: persistent, created remotely, consumer comes later ----
N=1000
bgq a keep-a produce keep@83 $N --create persistent -b 50 && finish keep-a &&
	[ "$(qstat c keep depth)" = $N ] && [ "$(qstat c keep consumers)" = 0 ]
ktap_result $? "a made keep on c and filled it with $N while nobody consumed (depth $(qstat c keep depth))"
bgq b keep-b consume keep $N -b 64 -t 20000 && finish keep-b &&
	[ "$(field keep-b dups)" = 0 ] && in_order keep-b && [ "$(qstat c keep depth)" = 0 ]
ktap_result $? "b, started afterwards, gets all $N in order"

# ---- 5: a remote consumer dies holding unacked messages ----
N=20
qt b produce held@82 $N --create persistent >/dev/null 2>&1 &&
	bgq a held-a consume held $N --hold $N &&
	cl_wait_file "$CL_TMP/held-a.err" "^# holding $N" 20 &&
	[ "$(qstat b held inflight)" = $N ]
ktap_result $? "a holds all $N of held (home b) unacked (in flight $(qstat b held inflight))"

bgq c held-c consume held $N -t 20000 && opened held-c && sleep 0.5 &&
	[ "$(msgs held-c | wc -l)" = 0 ]
ktap_result $? "c waits on held and gets nothing while a holds them"

cl_us
t0=$CL_US
kill -KILL "${QPID[held-a]}"
finish held-c
rc=$?
cl_us
ms=$(((CL_US - t0) / 1000))
[ $rc = 0 ] && [ "$(field held-c redelivered)" = $N ] && [ $ms -lt 3000 ]
ktap_result $? "kill -9 a's consumer: c gets all $N again at once ($ms ms, no ack timeout)"
[ "$(qstat b held inflight)" = 0 ] && [ "$(qstat b held depth)" = 0 ]
ktap_result $? "held is empty at its home afterwards"

# A remote consumer is sent deliveries ahead of its reads. Those no user
# received are no attempt: with max-deliveries 1, only the message a user
# took and never acked goes to the dead letters when the consumer dies.
N=20
inflight_is()
{
	[ "$(qstat b pre inflight)" = "$1" ]
}
cl_ctl b queue add pre.dead persistent >/dev/null &&
	cl_ctl b queue add pre persistent max-deliveries 1 dlq pre.dead >/dev/null &&
	qt b produce pre $N >/dev/null 2>&1 &&
	bgq a pre-a consume pre $N --hold 1 &&
	cl_wait_file "$CL_TMP/pre-a.err" "^# holding 1" 20 && cl_wait 10 inflight_is $N
ktap_result $? "a holds 1 of pre (home b, max-deliveries 1); all $N were sent to it ahead (in flight $(qstat b pre inflight))"
kill -KILL "${QPID[pre-a]}"
wait "${QPID[pre-a]}" 2>/dev/null
bgq c pre-c consume pre $((N - 1)) -t 5000 && finish pre-c &&
	[ "$(msgs pre-c | wc -l)" = $((N - 1)) ] && in_order pre-c &&
	[ "$(msgs pre-c | awk '$4 != 1' | wc -l)" = 0 ] &&
	[ "$(qstat b pre dead_lettered)" = 1 ] && [ "$(qstat b pre.dead depth)" = 1 ] &&
	[ "$(qstat b pre delivered)" = $N ] && [ "$(qstat b pre redelivered)" = 0 ] &&
	drained b pre
ktap_result $? "after kill -9: c gets the $((N - 1)) a never read, in order, as first deliveries; the one it held is dead-lettered ($(msgs pre-c | wc -l) received, $(qstat b pre dead_lettered) dead-lettered, $(qstat b pre delivered) delivered)"

# A consumer's prefetch bounds what its home sends ahead. With 1 and
# acks, a consumer on a holding one message unacked is sent nothing more:
# the rest stay at the home for c, a consumer that is ready. Without
# acks the window counts what no user read: with 2, two wait on a's node
# besides the one its user took, and are lost with it (at most once).
# cohortctl sets it through the library.
N=20
depth_is()
{
	[ "$(qstat b "$1" depth)" = "$2" ]
}
cl_ctl b queue add pf1 persistent >/dev/null &&
	cl_ctl b queue add pf2 persistent >/dev/null &&
	qt b produce pf1 $N >/dev/null 2>&1 && qt b produce pf2 $N >/dev/null 2>&1 &&
	bgq a pf1-a consume pf1 $N --hold 1 -f 1 &&
	bgq a pf2-a consume pf2 $N --hold 1 -f 2 -a none &&
	cl_wait_file "$CL_TMP/pf1-a.err" "^# holding 1" 20 &&
	cl_wait_file "$CL_TMP/pf2-a.err" "^# holding 1" 20 &&
	cl_wait 10 depth_is pf2 $((N - 3)) && sleep 0.5 &&
	[ "$(qstat b pf1 inflight)" = 1 ] && depth_is pf1 $((N - 1)) &&
	depth_is pf2 $((N - 3))
ktap_result $? "a's consumers with prefetch 1 (acks) and 2 (none) each hold 1 taken; their home b sent 1 and 3 (pf1 in flight $(qstat b pf1 inflight) depth $(qstat b pf1 depth), pf2 depth $(qstat b pf2 depth))"
bgq c pf1-c consume pf1 $((N - 1)) -t 5000 && finish pf1-c &&
	[ "$(msgs pf1-c | wc -l)" = $((N - 1)) ] && [ "$(field pf1-c dups)" = 0 ] &&
	in_order pf1-c && [ "$(msgs pf1-c | awk '$1 == 1' | wc -l)" = 0 ]
ktap_result $? "while a holds 1 of pf1, c gets the other $((N - 1)), in order ($(msgs pf1-c | wc -l) received)"
bgq c pf2-c consume pf2 $((N - 3)) -t 5000 -a none && finish pf2-c &&
	[ "$(msgs pf2-c | wc -l)" = $((N - 3)) ] && [ "$(field pf2-c dups)" = 0 ] &&
	in_order pf2-c && depth_is pf2 0
ktap_result $? "and the $((N - 3)) of pf2 not sent to a ($(msgs pf2-c | wc -l) received)"
kill -KILL "${QPID[pf1-a]}" "${QPID[pf2-a]}"
wait "${QPID[pf1-a]}" "${QPID[pf2-a]}" 2>/dev/null
bgq c pf1-c2 consume pf1 1 -t 5000 && finish pf1-c2 &&
	[ "$(msgs pf1-c2 | awk '$1 == 1' | wc -l)" = 1 ] && drained b pf1 &&
	depth_is pf2 0 && [ "$(qstat b pf2 delivered)" = $N ]
ktap_result $? "after kill -9 of a, the one it held of pf1 comes to c; the 2 of pf2 sent ahead were handed out, at most once (pf2 depth $(qstat b pf2 depth), delivered $(qstat b pf2 delivered))"
cl_ctl b queue add pf3 persistent >/dev/null &&
	cl_bg a "$CL_TMP/pf3-a" "$CL_CTL" queue recv pf3@82 prefetch 3 &&
	pf3=$CL_BG && cl_wait_file "$CL_TMP/pf3-a.err" "# receiving from" 10 &&
	kill -STOP "$pf3" && qt b produce pf3 $N >/dev/null 2>&1 &&
	cl_wait 10 depth_is pf3 $((N - 3)) && sleep 0.5 && depth_is pf3 $((N - 3))
ktap_result $? "cohortctl queue recv ... prefetch 3, stopped, was sent 3 of pf3 (depth $(qstat b pf3 depth))"
kill -KILL "$pf3"
wait "$pf3" 2>/dev/null

# ---- 5a: a stamp too wide for any consumer's vector ----
# a's stamp is COHORT_VC_MAX_ENTRIES wide, and the entry c's actor would
# add makes one too many: c receives it without merging its vector
# (COHORT_QM_UNMERGED), first in line (prio 7), then the three after it;
# nothing is refused, redelivered or dead-lettered, with acks or without.
dead_is()
{
	[ "$(qstat b "$1" dead_lettered)" = "$2" ]
}
# wide_case QUEUE ACK: send the wide message (prio 7: first in line) and
# three others to QUEUE on b, then consume on c with ACK.
wide_case()
{
	cl_ctl b queue add "$1.dead" persistent >/dev/null &&
		cl_ctl b queue add "$1" persistent max-deliveries 1 dlq "$1.dead" >/dev/null &&
		qt a produce "$1@82" 1 -V 255 -p 7 -i 7 >/dev/null 2>&1 &&
		qt a produce "$1@82" 3 -i 8 >/dev/null 2>&1 &&
		cl_wait 10 depth_is "$1" 4 &&
		bgq c "$1-c" consume "$1" 4 -a "$2" -t 5000 && finish "$1-c" &&
		[ "$(msgs "$1-c" | head -n 1 | awk '{ print $2 }')" = 7 ] &&
		[ "$(msgs "$1-c" | awk '$2 == 8' | wc -l)" = 3 ] &&
		[ "$(field "$1-c" unmerged)" = 1 ] &&
		[ "$(field "$1-c" refused)" = 0 ] &&
		[ "$(field "$1-c" redelivered)" = 0 ] && drained b "$1" &&
		sleep 0.5 && dead_is "$1" 0
}
wide_case wide ack
ktap_result $? "with acks, a's stamp too wide for c's vector arrives first, unmerged, then the 3 behind it; none dead-lettered at b ($(qstat b wide dead_lettered))"
wide_case wide2 none
ktap_result $? "without acks, the same"

# ---- 5b: remote consumers reading receive rings ----
N=2000
qt b produce ringw@82 0 --create persistent >/dev/null 2>&1 &&
	bgq a ring-a consume ringw $N -b 64 -r 65536 -t 4000 &&
	bgq c ring-c consume ringw $N -b 64 -a none -r 262144 -t 4000 &&
	opened ring-a && opened ring-c &&
	bgq b ring-b produce ringw $N -b 32 && finish ring-b
ktap_result $? "b sends $N to ringw; a (acks) and c (none) receive through rings"
shared ring-a ring-c $N && cl_wait 10 drained b ringw
ktap_result $? "ring consumers on a and c: $SHARED, both got some"

# A ring of first-layout records (-H 0: 72-byte headers, no key, as a
# program built before message keys asks) at the home: a's publishes are
# written straight into it, all but those that came while its process held
# the ring (those go through the store and QFILL). qtool counts a payload
# or a stamp out of place as bad.
N=200
qt b produce ringv0@82 0 --create persistent >/dev/null 2>&1 &&
	bgq b ringv0-b consume ringv0 $N -b 64 -a none -r 65536 -H 0 -t 4000 &&
	opened ringv0-b &&
	bgq a ringv0-a produce ringv0@82 $N -b 32 && finish ringv0-a &&
	finish ringv0-b && in_order ringv0-b &&
	[ "$(field ringv0-b bad)" = 0 ] &&
	[ "$(field ringv0-b filled)" -lt $N ] && drained b ringv0
ktap_result $? "a sends $N to ringv0@82; b's consumer reads them, in order, from first-layout ring records"

# A ring consumer with acks takes 2 of 20 and dies: the 2 are redelivered,
# the 18 filled into its ring and never taken go back uncounted.
N=20
ringh_sent()
{
	[ "$(qstat b ringh inflight)" = $N ]
}
qt b produce ringh@82 $N --create persistent >/dev/null 2>&1 &&
	bgq a ringh-a consume ringh $N --hold 2 -r 65536 &&
	cl_wait_file "$CL_TMP/ringh-a.err" "^# holding 2" 20 &&
	cl_wait 10 ringh_sent
ktap_result $? "a's ring consumer holds 2 of ringh, all $N sent to it (in flight $(qstat b ringh inflight))"
kill -KILL "${QPID[ringh-a]}"
wait "${QPID[ringh-a]}" 2>/dev/null
bgq c ringh-c consume ringh $N -t 5000 && finish ringh-c &&
	[ "$(msgs ringh-c | awk '$4 == 2' | wc -l)" = 2 ] &&
	[ "$(msgs ringh-c | awk '$4 == 1' | wc -l)" = $((N - 2)) ] &&
	in_order ringh-c && [ "$(qstat b ringh redelivered)" = 2 ] &&
	drained b ringh
ktap_result $? "after kill -9: c gets all $N in order, the 2 taken again, the rest as first deliveries"

# ---- 6: 10 % loss on both links, each flapping once ----
N=3000
cl_netem a b $NETEM && cl_netem b a $NETEM && cl_netem b c $NETEM && cl_netem c b $NETEM
ktap_result $? "netem on both ends of both links: $NETEM"

qt b produce rel@82 0 --create persistent >/dev/null 2>&1 &&
	bgq c rel-c consume rel $N -b 32 -t 60000 && opened rel-c &&
	bgq a rel-a produce rel@82 $N -b 16 -P 60 -W 120000
ktap_result $? "producer on a, consumer on c, queue rel on b"

# flap A B AT: once the consumer has AT messages (and not all), take A's
# end of A-B down until both sides declare the link down, then up again.
flap()
{
	local rc at

	cl_wait 120 lines_at_least rel-c "$3" || return 1
	at=$(msgs rel-c | wc -l)
	ktap_info "flap $1-$2 at $at received"
	[ "$at" -lt $N ] || return 1
	cl_ifdown "$1" "$2" && cl_wait 15 cl_is_link "$1" "$2" down &&
		cl_wait 15 cl_is_link "$2" "$1" down
	rc=$?
	sleep 0.3
	cl_ifup "$1" "$2" || rc=1
	cl_wait 60 cl_all_up "$1" "$2" || rc=1
	return $rc
}

flap a b $((N / 5))
ktap_result $? "link a-b (producer side) down past the tolerance mid-stream, and up again"
flap b c $((N * 3 / 5))
ktap_result $? "link b-c (consumer side) down past the tolerance mid-stream, and up again"

finish rel-a
ktap_result $? "a had all $N accepted (retrying while b was unreachable)"
finish rel-c
rc=$?
ktap_info "duplicates (at-least-once across the flaps): $(field rel-c dups)"
ktap_result $rc "c got every one of the $N: none lost"
cl_wait 10 drained b rel
ktap_result $? "rel is empty at its home (depth $(qstat b rel depth), in flight $(qstat b rel inflight))"

# ---- 6b: what the home could not send for want of a route goes when the
# route comes back, with nothing else sent to wake it ----

# busy_pct SECS: the time all CPUs were busy over the next SECS seconds, in
# percent of one CPU (/proc/stat: user nice system idle iowait irq softirq)
busy_pct()
{
	local a b

	a=$(head -n 1 /proc/stat)
	sleep "$1"
	b=$(head -n 1 /proc/stat)
	awk -v a="$a" -v b="$b" -v s="$1" 'BEGIN {
		split(a, x); split(b, y)
		t = y[2] + y[3] + y[4] + y[7] + y[8] - x[2] - x[3] - x[4] - x[7] - x[8]
		printf "%d\n", t / s }'
}

N=20
qt b produce idle@82 0 --create persistent >/dev/null 2>&1 &&
	bgq c idle-c consume idle $N -t 20000 && opened idle-c
ktap_result $? "consumer on c of queue idle on b"
cl_ifdown b c && cl_wait 15 cl_is_link b c down &&
	cl_wait 15 cl_is_link c b down && qt b produce idle@82 $N >/dev/null
rc=$?
busy=$(busy_pct 2)
cl_ifup b c || rc=1
cl_wait 60 cl_all_up b c || rc=1
ktap_result $rc "link b-c down, $N sent to idle at its home meanwhile, link up again"
[ "$busy" -lt 50 ]
ktap_result $? "b waited for the route without spinning: $busy % of a CPU busy meanwhile"
finish idle-c && [ "$(msgs idle-c | wc -l)" = $N ] && drained b idle
ktap_result $? "c got all $N once the route was back"

# ---- 6c: a descriptor closed while its home was unreachable: the home
# hears of it once the route is back ----
consumers_at_b()
{
	[ "$(qstat b "$1" consumers)" = "$2" ]
}

qt b produce shut@82 0 --create persistent >/dev/null 2>&1 &&
	bgq c shut-c consume shut 1 -a none -t 60000 && opened shut-c &&
	consumers_at_b shut 1
ktap_result $? "consumer on c of queue shut on b"
cl_ifdown b c && cl_wait 15 cl_is_link b c down &&
	cl_wait 15 cl_is_link c b down
rc=$?
kill "${QPID[shut-c]}"
wait "${QPID[shut-c]}" 2>/dev/null
cl_ifup b c || rc=1
cl_wait 60 cl_all_up b c || rc=1
ktap_result $rc "link b-c down, c's consumer closed meanwhile, link up again"
cl_wait 10 consumers_at_b shut 0
ktap_result $? "b let go of c's descriptor (consumers: $(qstat b shut consumers))"

# ---- 6d: a consumer that read its window while its home was
# unreachable: its credit goes once the route is back, and nothing polls
# for it meanwhile ----

# push_runs SECS: how many times the queue push work ran (on any node)
# over the next SECS seconds, from the workqueue tracepoint, in a tracing
# instance of our own
push_runs()
{
	local t=/sys/kernel/tracing i n

	[ -d $t/instances ] || mount -t tracefs nodev $t 2>/dev/null ||
		return 1
	i=$t/instances/qclu.$$
	mkdir "$i" || return 1
	echo 1 >"$i/events/workqueue/workqueue_execute_start/enable" &&
		sleep "$1" && n=$(grep -c 'function push_work_fn' "$i/trace")
	rmdir "$i"
	echo "${n:-}"
}

# acked A B: all A sent on its link to B is acknowledged
acked()
{
	[ "$(cl_q "$1" "link show -s" \
		'first(rows | select(.id == $id) | .stats.queued)' \
		--argjson id "${CL_ID[$2]}")" = 0 ]
}

W=128	# the default prefetch, COHORT_QPREFETCH_MAX
N=$((3 * W))
qt b produce cred@82 0 --create persistent >/dev/null 2>&1 &&
	bgq c cred-c consume cred $N -a none -t 60000 && opened cred-c &&
	kill -STOP "${QPID[cred-c]}" && qt b produce cred@82 $N >/dev/null &&
	cl_wait 10 depth_is cred $((N - W)) && cl_wait 10 acked b c
ktap_result $? "c's consumer of cred (home b), stopped, was sent a window of $W; $((N - W)) wait at b"
cl_ifdown b c && cl_wait 15 cl_is_link b c down &&
	cl_wait 15 cl_is_link c b down && kill -CONT "${QPID[cred-c]}" &&
	cl_wait 20 lines_at_least cred-c $W
rc=$?
runs=$(push_runs 2)
cl_ifup b c || rc=1
cl_wait 60 cl_all_up b c || rc=1
ktap_result $rc "link b-c down, c's consumer read its $W meanwhile, link up again"
[ -n "$runs" ] && [ "$runs" -lt 10 ]
ktap_result $? "nothing polled for the credit meanwhile: ${runs:-no} push work runs in 2 s"
finish cred-c && [ "$(msgs cred-c | wc -l)" = $N ] && drained b cred
ktap_result $? "c got all $N once the route was back"

# ---- 7: a node restarts: descriptors across it end, on both sides ----
# restart N P: N's namespace (where nothing runs) deleted, and made again
# as a new life of the same node, linked to P as before (and to nothing
# else) once the old link's end in P is gone.
no_if()
{
	! ip -n "${CL_NS[$1]}" link show "$2" >/dev/null 2>&1
}

restart()
{
	local n=$1 p=$2 ns=${CL_NS[$1]}

	cl_step ip netns del "$ns" && cl_wait 15 no_if "$p" "to-$n" &&
		cl_wait 15 cl_is_link "$p" "$n" down &&
		cl_step ip netns add "$ns" && cl_step ip -n "$ns" link set lo up &&
		cl_step cl_ctl "$n" node set id "${CL_ID[$n]}" name "$n" &&
		cl_hb "$n" $HB $TOL &&
		cl_step ip link add "to-$p" netns "$ns" type veth \
			peer name "to-$n" netns "${CL_NS[$p]}" &&
		cl_step ip -n "$ns" addr add "$(cl_addr "$n" "$p")/24" dev "to-$p" &&
		cl_step ip -n "${CL_NS[$p]}" addr add "$(cl_addr "$p" "$n")/24" dev "to-$n" &&
		cl_step ip -n "$ns" link set "to-$p" up &&
		cl_step ip -n "${CL_NS[$p]}" link set "to-$n" up &&
		cl_step cl_ctl "$n" peer add id "${CL_ID[$p]}" addr "$(cl_addr "$p" "$n")" &&
		cl_wait 30 cl_is_link "$p" "$n" up
}

# b, the home, restarts without its queues. a's producer finds no handle
# there with its next publish, and b says GONE instead of dropping it; a's
# idle consumer sends nothing, and hears it from b's new LSA.
qt b produce gone@82 0 --create persistent >/dev/null 2>&1 &&
	qt b produce gone2@82 0 --create persistent >/dev/null 2>&1 &&
	bgq a gone-a produce gone@82 100000 -P 50 -W 120000 && opened gone-a &&
	bgq a gone2-a consume gone2@82 1 -t 60000 -w 1000 && opened gone2-a &&
	restart b a
ktap_result $? "b deleted and made again as node 82 while a publishes to gone@82 and waits on gone2@82"
cl_wait 20 eval '! kill -0 "${QPID[gone-a]}" 2>/dev/null' || kill "${QPID[gone-a]}"
! finish gone-a && grep -q "Identifier removed" "$CL_TMP/gone-a.err"
ktap_result $? "a's producer stops with EIDRM from the new b instead of waiting for credit forever"
cl_wait 20 grep -q "recv: Identifier removed" "$CL_TMP/gone2-a.err"
ktap_result $? "a's idle consumer gets EIDRM once b's new life is known ($CL_WAITED ms)"
cl_stop "${QPID[gone2-a]}"

# a, holding a descriptor of a queue on b, restarts; its CLOSE never gets
# out (the link is down when the consumer dies), yet b lets go of it.
qt b produce ghost 0 --create persistent >/dev/null 2>&1 &&
	bgq a ghost-a consume ghost@82 1 -t 60000 && opened ghost-a &&
	cl_wait 10 consumers_at_b ghost 1 && cl_ifdown a b &&
	cl_wait 15 cl_is_link b a down && cl_stop "${QPID[ghost-a]}" &&
	consumers_at_b ghost 1 && restart a b
ktap_result $? "a's consumer of ghost@82 dies behind a downed link; a is made again as node 81"
cl_wait 20 consumers_at_b ghost 0
ktap_result $? "b closed the old a's descriptor: ghost has $(qstat b ghost consumers) consumers"

cl_final_checks
ktap_finish
