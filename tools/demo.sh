#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The demo cluster, run inside the VM (make demo): three nodes in three
# network namespaces in a line, two processes exchanging messages stamped
# with Lamport and vector clocks, then the cohort transport at work:
# links, membership, routes, ping and a message across two hops.
#
# Then queues: a work queue on beta fed from alpha and drained by alpha
# and gamma (gamma through a receive ring), a queue on alpha written
# straight into a consumer's ring, and a topic on gamma with subscribers
# on alpha and beta.
#
#   [ demo-a: node 1 "alpha" ]    [ demo-b: node 2 "beta" ]    [ demo-c: node 3 "gamma" ]
#     veth-a 198.18.0.1/24 <------> veth-b 198.18.0.2/24
#                                   veth-bc 198.18.1.2/24 <----> veth-c 198.18.1.3/24
set -eu
build=${COHORT_BUILD:?}
A=cohort-demo-a
B=cohort-demo-b
C=cohort-demo-c
ctl() { local ns=$1; shift; ip netns exec "$ns" "$build/cohortctl" "$@"; }

cleanup() {
	for ns in $A $B $C; do ip netns del "$ns" 2>/dev/null || true; done
}
trap cleanup EXIT

for ns in $A $B $C; do ip netns add "$ns"; done
ip link add veth-a netns $A type veth peer name veth-b netns $B
ip link add veth-bc netns $B type veth peer name veth-c netns $C
ip -n $A addr add 198.18.0.1/24 dev veth-a
ip -n $B addr add 198.18.0.2/24 dev veth-b
ip -n $B addr add 198.18.1.2/24 dev veth-bc
ip -n $C addr add 198.18.1.3/24 dev veth-c
for dev in "$A veth-a" "$B veth-b" "$B veth-bc" "$C veth-c"; do
	set -- $dev
	ip -n "$1" link set "$2" up
done

ctl $A node set id 1 name alpha
ctl $B node set id 2 name beta
ctl $C node set id 3 name gamma
echo "== nodes"
for ns in $A $B $C; do ctl "$ns" node show; done

echo "== ping-pong between processes with Lamport and vector clocks"
echo "   (actor ids in hex: node << 32 | number)"
ip netns exec $B "$build/cohort-clockdemo" serve 7000 4 &
pong=$!
sleep 1
ip netns exec $A "$build/cohort-clockdemo" ping 198.18.0.2 7000 4
wait $pong

echo "== the overlay: each node knows only its neighbours"
ctl $A peer add id 2 addr 198.18.0.2
ctl $B peer add id 1 addr 198.18.0.1
ctl $B peer add id 3 addr 198.18.1.3
ctl $C peer add id 2 addr 198.18.1.2
for _ in $(seq 100); do
	ctl $A -j route show | grep -q '"dst":3' && break
	sleep 0.1
done
echo "-- links of beta"
ctl $B link show
echo "-- members and routes as alpha sees them"
ctl $A member show
ctl $A route show

echo "== ping gamma from alpha, through beta"
ctl $A ping 3 -c 3 -i 100

echo "== a message from alpha to port 9 on gamma, stamped hop by hop"
ctl $C msg recv 9 -c 1 -W 5000 &
recv=$!
sleep 1
ctl $A msg send 3 9 "hello from alpha"
wait $recv
echo "-- node clocks afterwards (the message was a send on alpha, a"
echo "   receive and a send on beta, a receive on gamma)"
for ns in $A $B $C; do ctl "$ns" -j node show; done

echo "== a persistent work queue on beta: the producer on alpha, consumers"
echo "   on alpha and gamma compete for the jobs (each gets different ones)"
ctl $B queue add jobs persistent mode 0666 ack-timeout 2000
ctl $A queue send jobs@2 job-1 job-2 job-3 job-4 job-5 job-6
ctl $A queue send jobs@2 prio 7 urgent-job
ctl $B queue show jobs
echo "-- gamma takes three (the urgent one first) through a receive ring,"
echo "   alpha the other four"
ctl $C queue recv jobs count 3 ack ring 65536
ctl $A queue recv jobs count 4 ack
echo "-- the queue manager's counters on beta"
ctl $B queue stats jobs

echo "== a queue on alpha whose consumer reads a receive ring: the producer"
echo "   on alpha writes each message straight into it (one copy, no store)"
ctl $A queue add fast mode 0666
ctl $A queue recv fast count 3 ring 65536 &
ring=$!
sleep 1
ctl $A queue send fast one two three
wait $ring
ctl $A queue stats fast

echo "== a topic on gamma: every subscriber, local or remote, gets each"
ctl $C topic add news mode 0666
ctl $A topic sub news count 2 &
sub_a=$!
ctl $B topic sub news@3 count 2 &
sub_b=$!
sleep 1
ctl $C topic pub news "cohort 0.1" "queues across the cluster"
wait $sub_a $sub_b
ctl $C topic stats news
