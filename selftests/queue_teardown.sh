#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Teardown with queues in use: every client killed mid-traffic, namespaces
# deleted under local and remote queue traffic, and rmmod right after the
# last descriptor closed with messages still queued and in flight. Nothing
# may be left: no consumer, producer or message in flight after the kill,
# no queue after QUEUE_DEL, no memory after a namespace or the module goes,
# no warning in dmesg.
#
#   part 1 (close)   x (96): queue tq (persistent): 2 producers, a consumer,
#                    a consumer holding 50 unacked; topic tt (persistent):
#                    a producer, a durable and a plain subscriber.
#                    kill -9 all; QUEUE_DEL tq and tt.
#
#   part 2 (netns)   a (97) ---- link 1 ---- b (98)
#                    queue big on b, fed from a with 1500-byte messages;
#                    a consumer on a holding 50 of them; topic tb on a with
#                    a producer on a and a subscriber on b.
#                    delete b with all that running, then a.
#
#   part 3 (rmmod)   p (99) ---- link 2 ---- q (100)
#                    the same traffic; rmmod refused while descriptors are
#                    open; kill -9 all and rmmod at once; insmod again.
#
# Memory: messages of 1500 bytes live in the 2 KiB kmalloc caches. Parts 2
# and 3 fill a queue with N of them (checked: the caches grow by that
# much) and the caches must come back to where they started, give or take
# N / 4; kmemleak, where the kernel has it, must report nothing of cohort.
# Leaves the module loaded with the root node set, as it found it.

DIR=$(cd "$(dirname "$0")" && pwd)
. "$DIR/ktap.sh"
. "$DIR/lib_cluster.sh"

cl_init qtdown
. "$DIR/lib_queue.sh"
[ -n "$COHORT_KO" ] && [ -r "$COHORT_KO" ] ||
	ktap_skip_all "set COHORT_KO to the path of cohort.ko"
[ -r /proc/slabinfo ] || ktap_skip_all "needs /proc/slabinfo"
command -v ss >/dev/null || ktap_skip_all "needs ss (iproute2)"

N=4000
SIZE=1500
KMEMLEAK=/sys/kernel/debug/kmemleak

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

kill_all()
{
	local pid

	for pid in ${PIDS_OF[$1]}; do
		kill -KILL "$pid" 2>/dev/null
	done
	for pid in ${PIDS_OF[$1]}; do
		wait "$pid" 2>/dev/null
	done
	PIDS_OF[$1]=
}

# at_least NODE NAME KEY MIN
at_least()
{
	local v

	v=$(qstat "$1" "$2" "$3")
	[ -n "$v" ] && [ "$v" -ge "$4" ]
}

holding()
{
	cl_wait_file "$CL_TMP/$1.err" "^# holding" 30 && return 0
	ktap_info "$1 holds nothing: $(tr '\n' ' ' <"$CL_TMP/$1.err")"
	return 1
}

# Active objects in the 2 KiB kmalloc caches (plain, accounted, reclaimable).
slab2k()
{
	awk '$1 ~ /^kmalloc-(cg-|rcl-)?2k$/ { s += $2 } END { print s + 0 }' \
		/proc/slabinfo
}

# back_to BASE: the caches shrink to BASE + N / 4 within 10 s.
back_to()
{
	cl_wait 10 eval "[ \$(slab2k) -le $(($1 + N / 4)) ]" && return 0
	ktap_info "2 KiB caches: $(slab2k) objects, $1 before"
	return 1
}

# traffic FROM HOME: queue big on HOME fed from FROM with N (and more)
# 1500-byte messages, a consumer on FROM holding 50, topic tb on FROM with
# a producer there and a subscriber on HOME. Returns once big holds N.
traffic()
{
	local from=$1 home=$2 id=${CL_ID[$2]}

	bgq "$from" "big-$from" produce "big@$id" 100000000 --create persistent \
		-m 20000 -B 100000000 -s $SIZE -b 32 -W 600000 &&
		cl_wait 120 at_least "$home" big depth $N &&
		bgq "$from" "hold-$from" consume "big@$id" 50 --hold 50 &&
		holding "hold-$from" &&
		bgq "$from" "tb-$from" produce "tb@${CL_ID[$from]}" 100000000 --topic \
			--create transient -b 8 -W 600000 &&
		opened "tb-$from" &&
		bgq "$home" "sub-$home" consume "tb@${CL_ID[$from]}" 100000000 \
			--topic -a none -q -t 600000 &&
		opened "sub-$home"
}

ktap_plan 19

[ -w $KMEMLEAK ] && echo clear >$KMEMLEAK 2>/dev/null

# ---- part 1: kill every client mid-traffic ----
rc=0
cl_node x 96 && qt x produce tq 0 --create persistent >/dev/null 2>&1 &&
	qt x produce tt 0 --topic --create persistent >/dev/null 2>&1 || rc=1
for i in 1 2; do
	bgq x "p$i" produce tq 100000000 -b 8 -W 600000 || rc=1
done
bgq x c1 consume tq 100000000 -b 8 -q -t 600000 &&
	bgq x c2 consume tq 50 --hold 50 &&
	bgq x tp produce tt 100000000 --topic -b 8 -W 600000 &&
	bgq x s1 consume tt 100000000 --topic --sub dur -q -t 600000 &&
	bgq x s2 consume tt 100000000 --topic -a none -q -t 600000 &&
	holding c2 && cl_wait 60 at_least x tq acked 1000 &&
	cl_wait 60 at_least x tt delivered 1000 || rc=1
ktap_result $rc "x: producers, consumers and subscribers busy on tq and tt"

kill_all x
sleep 0.5
[ "$(qstat x tq consumers)" = 0 ] && [ "$(qstat x tq producers)" = 0 ] &&
	[ "$(qstat x tq inflight)" = 0 ]
ktap_result $? "after kill -9 of all: tq has no consumer, producer or message in flight"
[ "$(qstat x tt consumers)" = 0 ] && [ "$(qstat x tt producers)" = 0 ] &&
	[ "$(qstat x tt inflight)" = 0 ] && [ "$(qstat x tt subs)" = 1 ]
ktap_result $? "tt keeps only its durable subscription, with no consumer"

qt x del tq && qt x del tt && [ "$(qt x count)" = "queues 0 subs 0" ]
ktap_result $? "QUEUE_DEL of both: no queue left on x"
cl_step ip netns del "${CL_NS[x]}"
ktap_result $? "delete x"

# ---- part 2: delete namespaces under local and remote traffic ----
base=$(slab2k)
cl_node a 97 && cl_node b 98 && cl_link a b &&
	cl_wait 60 cl_all_up a b && cl_wait 30 cl_all_reachable a b
ktap_result $? "a and b linked (${CL_WAITED} ms)"

traffic a b
rc=$?
grown=$(($(slab2k) - base))
ktap_info "2 KiB caches grew by $grown objects with $(qstat b big depth) messages queued"
[ $rc = 0 ] && [ $grown -ge $N ]
ktap_result $? "b holds $N+ messages from a (and a holds 50), topic tb a -> b flowing"

cl_step ip netns del "${CL_NS[b]}" && kill_all b &&
	cl_wait 15 cl_is_member a b unreachable
ktap_result $? "delete b, home of big, under traffic: a sees b unreachable (${CL_WAITED} ms)"

alive=0
for pid in ${PIDS_OF[a]}; do
	kill -0 "$pid" 2>/dev/null && alive=$((alive + 1))
done
# The clients on a still answer: a topic send and a queue stat work.
qt a stat tb >/dev/null && qt a produce tb 10 --topic >/dev/null 2>&1
ktap_result $? "a's node still serves its own topic ($alive of a's clients still running)"

kill_all a
cl_step ip netns del "${CL_NS[a]}" && back_to "$base"
ktap_result $? "delete a: the messages are freed ($(slab2k) objects, $base before)"

# ---- part 3: rmmod right after the last descriptor closes ----
base=$(slab2k)
cl_node p 99 && cl_node q 100 && cl_link p q &&
	cl_wait 60 cl_all_up p q && cl_wait 30 cl_all_reachable p q && traffic p q
ktap_result $? "p and q linked, the same traffic between them"

refcnt=$(cat /sys/module/cohort/refcnt 2>/dev/null)
[ "${refcnt:-0}" -gt 0 ] && ! rmmod cohort 2>/dev/null && loaded
ktap_result $? "rmmod refused while queue descriptors are open (refcnt $refcnt)"

kill_all p
kill_all q
ok=1
for i in 1 2 3 4 5 6 7 8 9 10; do
	if rmmod cohort 2>"$CL_TMP/rmmod"; then
		ok=0
		break
	fi
	sleep 0.2
done
[ $ok = 0 ] || ktap_info "rmmod: $(cat "$CL_TMP/rmmod")"
! loaded && [ $ok = 0 ]
ktap_result $? "kill -9 all, rmmod at once with $N+ messages queued (attempt $i)"

left=$(for n in p q; do
	ip netns exec "${CL_NS[$n]}" ss -Htuan 2>/dev/null |
		grep -vE "^tcp +(TIME-WAIT|FIN-WAIT-1|FIN-WAIT-2|CLOSING|LAST-ACK) " |
		grep -E ":6230\b"
done)
[ -z "$left" ] || ktap_info "sockets left: $(echo "$left" | tr '\n' ' ')"
[ -z "$left" ]
ktap_result $? "no cohort socket left in p or q"

back_to "$base"
ktap_result $? "the unload freed every message ($(slab2k) objects, $base before)"

cl_step insmod "$COHORT_KO" && cl_step "$CL_CTL" node set id 1 name root &&
	cl_q p "node show" '.id == 0' >/dev/null && cl_q q "node show" '.id == 0' >/dev/null
ktap_result $? "insmod again: root node back, p and q start with no id"

if [ -w $KMEMLEAK ]; then
	echo scan >$KMEMLEAK
	sleep 1
	echo scan >$KMEMLEAK
	leaks=$(grep -c cohort $KMEMLEAK)
	[ "$leaks" = 0 ] || head -n 40 $KMEMLEAK | sed 's/^/#   /'
	[ "$leaks" = 0 ]
	ktap_result $? "kmemleak reports nothing of cohort"
else
	ktap_skip "kmemleak reports nothing of cohort" "no $KMEMLEAK in this kernel"
fi

cl_final_checks
ktap_finish
