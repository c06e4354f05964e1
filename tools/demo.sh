#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The demo cluster, run inside the VM (make demo): two nodes in two network
# namespaces joined by a veth pair, and two processes on them exchanging
# messages stamped with Lamport and vector clocks.
#
#   [ cohort-demo-a: node 1 "alpha" ]        [ cohort-demo-b: node 2 "beta" ]
#        veth-a 198.18.0.1/24  <----------->  veth-b 198.18.0.2/24
#        cohort-clockdemo ping                 cohort-clockdemo serve
set -eu
build=${COHORT_BUILD:?}
A=cohort-demo-a
B=cohort-demo-b

cleanup() {
	ip netns del $A 2>/dev/null || true
	ip netns del $B 2>/dev/null || true
}
trap cleanup EXIT

ip netns add $A
ip netns add $B
ip link add veth-a netns $A type veth peer name veth-b netns $B
ip -n $A addr add 198.18.0.1/24 dev veth-a
ip -n $B addr add 198.18.0.2/24 dev veth-b
ip -n $A link set veth-a up
ip -n $B link set veth-b up

ip netns exec $A "$build/cohortctl" node set id 1 name alpha
ip netns exec $B "$build/cohortctl" node set id 2 name beta
echo "== nodes"
ip netns exec $A "$build/cohortctl" node show
ip netns exec $B "$build/cohortctl" node show

echo "== ping-pong with Lamport and vector clocks (actor ids in hex: node<<32 | n)"
ip netns exec $B "$build/cohort-clockdemo" serve 7000 4 &
pong=$!
sleep 1
ip netns exec $A "$build/cohort-clockdemo" ping 198.18.0.2 7000 4
wait $pong

echo "== the nodes after the demo (two actors came and went)"
ip netns exec $A "$build/cohortctl" -j node show
ip netns exec $B "$build/cohortctl" -j node show
