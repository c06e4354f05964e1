#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make bench, run inside the VM as root with cohort.ko loaded: cohort's
# one-way 64-byte message throughput and round-trip time between two nodes,
# each beside baselines measured in the same run (raw TCP, raw UDP, TIPC),
# printed as ratios, plus how many packets crossed the veth per message and
# per round trip (TIPC between namespaces of one kernel takes its
# "wormhole" and skips the veth: a same-host reference, not like-for-like).
#
#   [ cbench-a-PID: cohort node 1 ]            [ cbench-b-PID: cohort node 2 ]
#     veth-a 198.18.0.1/24  <------------------>  veth-b 198.18.0.2/24
#     senders, RTT clients                          receivers, echo servers
#     TIPC identity cbench1, bearer eth veth-a      cbench2, bearer eth veth-b
#
# Environment: COHORT_BUILD (required), BENCH_SECS (sending time per
# throughput run, default 3), BENCH_RTT_N (timed round trips, default 1000),
# BENCH_WARMUP (untimed round trips first, default 50).
# Without the module (e.g. on a host) cohort is reported unavailable and the
# baselines still run. Exit status 1 when a baseline could not be measured.
set -u
build=${COHORT_BUILD:?}
NB=$build/cohort-netbench
CTL=$build/cohortctl
A=cbench-a-$$
B=cbench-b-$$
ADDR_A=198.18.0.1
ADDR_B=198.18.0.2
SECS=${BENCH_SECS:-3}
RTT_N=${BENCH_RTT_N:-1000}
WARM=${BENCH_WARMUP:-50}
SIZE=64
tmp=$(mktemp -d /tmp/cohort-bench.XXXXXX)
failed=0

cleanup() {
	local pid

	for pid in $(jobs -p); do
		kill "$pid" 2>/dev/null
	done
	wait 2>/dev/null
	ip netns del "$A" 2>/dev/null
	ip netns del "$B" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# Packets that crossed the veth so far, both directions (sysfs as seen in A).
# shellcheck disable=SC2016 # expanded by the inner shell
pkts() {
	ip netns exec "$A" sh -c \
		'echo $(( $(cat /sys/class/net/veth-a/statistics/tx_packets) + $(cat /sys/class/net/veth-a/statistics/rx_packets) ))'
}

# kv FILE KEY: the value of KEY= in the result line of FILE.
kv() {
	grep -oE "(^| )$2=[^ ]*" "$1" 2>/dev/null | tail -n 1 | cut -d= -f2
}

# run NAME SERVER_NS "SERVER ARGS" CLIENT_NS "CLIENT ARGS": the server's
# result in $tmp/NAME.srv, the client's in NAME.cli, packets in NAME.pkts.
run() {
	local name=$1 sns=$2 sargs=$3 cns=$4 cargs=$5 spid p0 rc

	# shellcheck disable=SC2086 # word splitting of the argument strings
	ip netns exec "$sns" "$NB" $sargs >"$tmp/$name.srv" 2>&1 &
	spid=$!
	for _ in $(seq 100); do
		grep -q '^ready' "$tmp/$name.srv" && break
		kill -0 "$spid" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q '^ready' "$tmp/$name.srv"; then
		kill "$spid" 2>/dev/null
		wait "$spid"
		sed "s/^/# $name server: /" "$tmp/$name.srv"
		return 1
	fi
	p0=$(pkts)
	# shellcheck disable=SC2086
	timeout 120 ip netns exec "$cns" "$NB" $cargs >"$tmp/$name.cli" 2>&1
	rc=$?
	# A server outlives its client by its idle timeout at most; one whose
	# client failed, or that missed the end marker, is stopped.
	for _ in $(seq 50); do
		[ $rc = 0 ] && kill -0 "$spid" 2>/dev/null || break
		sleep 0.2
	done
	kill "$spid" 2>/dev/null && echo "# $name: server stopped"
	wait "$spid" || rc=1
	echo $(($(pkts) - p0)) >"$tmp/$name.pkts"
	sed "s/^/# $name server: /" "$tmp/$name.srv" | grep -v ': ready$'
	sed "s/^/# $name client: /" "$tmp/$name.cli"
	echo "# $name: $(cat "$tmp/$name.pkts") packets crossed the veth"
	return $rc
}

# Client-only run (cohort ping: the peer kernel answers).
run1() {
	local name=$1 ns=$2 args=$3 p0 rc

	p0=$(pkts)
	# shellcheck disable=SC2086
	timeout 120 ip netns exec "$ns" "$NB" $args >"$tmp/$name.cli" 2>&1
	rc=$?
	echo $(($(pkts) - p0)) >"$tmp/$name.pkts"
	sed "s/^/# $name: /" "$tmp/$name.cli"
	echo "# $name: $(cat "$tmp/$name.pkts") packets crossed the veth"
	return $rc
}

ctl() {
	local ns=$1

	shift
	ip netns exec "$ns" "$CTL" "$@"
}

link_up() {
	ctl "$1" -j link show id "$2" 2>/dev/null | tr -d ' \n' |
		grep -q '"state":"up"'
}

cohort_setup() {
	[ -x "$CTL" ] || { cohort_reason="no $CTL"; return 1; }
	ctl "$A" node set id 1 name bench-a >"$tmp/cohort.err" 2>&1 &&
		ctl "$B" node set id 2 name bench-b >>"$tmp/cohort.err" 2>&1 &&
		ctl "$A" peer add id 2 addr $ADDR_B >>"$tmp/cohort.err" 2>&1 &&
		ctl "$B" peer add id 1 addr $ADDR_A >>"$tmp/cohort.err" 2>&1 || {
		cohort_reason=$(head -n 1 "$tmp/cohort.err")
		return 1
	}
	for _ in $(seq 300); do
		link_up "$A" 2 && link_up "$B" 1 && return 0
		sleep 0.1
	done
	cohort_reason="link 1-2 not up after 30 s: $(ctl "$A" link show 2>&1 | head -n 1)"
	return 1
}

tipc_setup() {
	local ns dev id

	modprobe tipc >"$tmp/tipc.err" 2>&1 || {
		tipc_reason="modprobe tipc: $(head -n 1 "$tmp/tipc.err")"
		return 1
	}
	for ns in "$A:veth-a:cbench1" "$B:veth-b:cbench2"; do
		IFS=: read -r ns dev id <<<"$ns"
		ip netns exec "$ns" tipc node set identity "$id" >"$tmp/tipc.err" 2>&1 &&
			ip netns exec "$ns" tipc bearer enable media eth device "$dev" \
				>"$tmp/tipc.err" 2>&1 || {
			tipc_reason="tipc setup in $ns: $(head -n 1 "$tmp/tipc.err")"
			return 1
		}
	done
	for _ in $(seq 100); do
		ip netns exec "$A" tipc link list 2>/dev/null | grep -v broadcast |
			grep -q ': up' && return 0
		sleep 0.1
	done
	tipc_reason="no TIPC link up after 10 s"
	return 1
}

# ratio NUM DEN: NUM/DEN with 2 decimals, n/a when either is missing.
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "" || b == "" || b + 0 == 0) print "n/a";
		else printf "%.2f\n", a / b }'
}

# per NAME DIVISOR: packets of run NAME per unit, 2 decimals.
per() {
	local p

	p=$(cat "$tmp/$1.pkts" 2>/dev/null)
	awk -v a="$p" -v b="$2" 'BEGIN {
		if (a == "" || b == "" || b + 0 == 0) print "n/a";
		else printf "%.2f\n", a / b }'
}

val() {
	[ -n "$1" ] && echo "$1" || echo "n/a"
}

# ---- topology ----
set -e
ip netns add "$A"
ip netns add "$B"
ip link add veth-a netns "$A" type veth peer name veth-b netns "$B"
ip -n "$A" addr add $ADDR_A/24 dev veth-a
ip -n "$B" addr add $ADDR_B/24 dev veth-b
ip -n "$A" link set lo up
ip -n "$B" link set lo up
ip -n "$A" link set veth-a up
ip -n "$B" link set veth-b up
set +e
# Let the veth settle (IPv6 DAD, carrier) before counting its packets.
sleep 1

cohort=1
cohort_reason=
cohort_setup || cohort=0
tipc=1
tipc_reason=
tipc_setup || tipc=0

echo "# cohort bench: kernel $(uname -r), ${SIZE}-byte messages, ${SECS} s per throughput run, $RTT_N round trips (+$WARM warm-up)"
[ $cohort = 1 ] || echo "cohort: unavailable ($cohort_reason)"
[ $tipc = 1 ] || echo "tipc: unavailable ($tipc_reason)"

S=$((SECS * 3 + 20))
# ---- one-way throughput: sender in A, receiver in B ----
run tcp1 "$B" "tcp-recv -p 7401 -t $S" "$A" "tcp-send -a $ADDR_B -p 7401 -t $SECS -s $SIZE -b 1" ||
	failed=$((failed + 1))
run tcp64 "$B" "tcp-recv -p 7402 -t $S" "$A" "tcp-send -a $ADDR_B -p 7402 -t $SECS -s $SIZE -b 64" ||
	failed=$((failed + 1))
if [ $tipc = 1 ]; then
	run tipc_tput "$B" "tipc-recv -t $S" "$A" "tipc-send -t $SECS -s $SIZE" || {
		tipc=0
		tipc_reason="throughput run failed"
		echo "tipc: unavailable ($tipc_reason)"
	}
fi
if [ $cohort = 1 ]; then
	run cohort_tput "$B" "cohort-recv -p 7400 -t $S -r 33554432" \
		"$A" "cohort-send -N 2 -p 7400 -t $SECS -s $SIZE" || cohort=0
	run cohort_tput64 "$B" "cohort-recv -p 7404 -t $S -r 33554432" \
		"$A" "cohort-send -N 2 -p 7404 -t $SECS -s $SIZE -b 64" || cohort=0
fi

# ---- round trips: client in A, server in B ----
R="-n $RTT_N -w $WARM -s $SIZE -t 90"
run udp "$B" "udp-echo -p 7403 -t 150" "$A" "udp-rtt -a $ADDR_B -p 7403 $R" ||
	failed=$((failed + 1))
if [ $tipc = 1 ]; then
	run tipc_rtt "$B" "tipc-echo -t 150" "$A" "tipc-rtt $R" || tipc=0
fi
if [ $cohort = 1 ]; then
	run1 cohort_ping "$A" "cohort-ping -N 2 $R" || cohort=0
	run cohort_echo "$B" "cohort-echo -p 7410 -t 150" \
		"$A" "cohort-rtt -N 2 -p 7410 $R" || cohort=0
fi
[ $cohort = 1 ] || [ -n "$cohort_reason" ] || echo "cohort: a run failed (see above)"

# ---- the table ----
tcp1=$(kv "$tmp/tcp1.srv" rate)
tcp64=$(kv "$tmp/tcp64.srv" rate)
tipct=$(kv "$tmp/tipc_tput.srv" rate)
ct=$(kv "$tmp/cohort_tput.srv" rate)
ct64=$(kv "$tmp/cohort_tput64.srv" rate)
tcp1_n=$(kv "$tmp/tcp1.cli" msgs)
tcp64_n=$(kv "$tmp/tcp64.cli" msgs)
tipct_n=$(kv "$tmp/tipc_tput.cli" msgs)
ct_n=$(kv "$tmp/cohort_tput.cli" msgs)
echo
echo "== cohort vs baselines (same run; throughput counted at the receiver)"
echo "throughput ${SIZE}B one-way: cohort 64/call $(val "$ct64") msg/s, raw TCP framed $(val "$tcp1") msg/s, ratio $(ratio "$ct64" "$tcp1") (cohort/baseline, higher is better; target >= 1.0)"
echo "throughput ${SIZE}B one-way: cohort 1/call $(val "$ct") msg/s, raw TCP framed $(val "$tcp1") msg/s, ratio $(ratio "$ct" "$tcp1") (one message per system call each)"
echo "throughput ${SIZE}B one-way: cohort 64/call $(val "$ct64") msg/s, raw TCP framed 64 msgs/write $(val "$tcp64") msg/s, ratio $(ratio "$ct64" "$tcp64") (64 per system call each)"
echo "throughput ${SIZE}B one-way: cohort $(val "$ct") msg/s, TIPC same-host $(val "$tipct") msg/s, ratio $(ratio "$ct" "$tipct") (reference: TIPC skips the veth)"
[ -n "$ct" ] && echo "cohort one-way: $(kv "$tmp/cohort_tput.srv" lost) lost at the receiver, $(kv "$tmp/cohort_tput.cli" eagain) -EAGAIN (backpressure) at the sender"

udp50=$(kv "$tmp/udp.cli" p50_us)
udp99=$(kv "$tmp/udp.cli" p99_us)
tipc50=$(kv "$tmp/tipc_rtt.cli" p50_us)
tipc99=$(kv "$tmp/tipc_rtt.cli" p99_us)
pw50=$(kv "$tmp/cohort_ping.cli" wall_p50_us)
pw99=$(kv "$tmp/cohort_ping.cli" wall_p99_us)
pk50=$(kv "$tmp/cohort_ping.cli" p50_us)
pk99=$(kv "$tmp/cohort_ping.cli" p99_us)
e50=$(kv "$tmp/cohort_echo.cli" p50_us)
e99=$(kv "$tmp/cohort_echo.cli" p99_us)
# rtt_rows P COHORT_WALL COHORT_KERNEL COHORT_ECHO UDP TIPC
rtt_rows() {
	local p=$1 pw=$2 pk=$3 e=$4 u=$5 t=$6

	echo "rtt p$p: cohort ping $(val "$pw") us, raw UDP $(val "$u") us, ratio $(ratio "$pw" "$u") (cohort/baseline, lower is better; target <= 1.5)"
	echo "rtt p$p: cohort ping kernel-measured $(val "$pk") us, raw UDP $(val "$u") us, ratio $(ratio "$pk" "$u") (as cohortctl ping prints; lower is better)"
	echo "rtt p$p: cohort message echo user to user $(val "$e") us, raw UDP $(val "$u") us, ratio $(ratio "$e" "$u") (like-for-like; lower is better)"
	echo "rtt p$p: cohort ping $(val "$pw") us, TIPC same-host $(val "$t") us, ratio $(ratio "$pw" "$t") (reference: TIPC skips the veth)"
}
rtt_rows 50 "$pw50" "$pk50" "$e50" "$udp50" "$tipc50"
rtt_rows 99 "$pw99" "$pk99" "$e99" "$udp99" "$tipc99"

rt() {
	local n l

	n=$(kv "$tmp/$1.cli" n)
	l=$(kv "$tmp/$1.cli" lost)
	[ -n "$n" ] && echo $((n + ${l:-0} + WARM))
}
echo "packets crossing the veth per round trip: raw UDP $(per udp "$(rt udp)"), TIPC $(per tipc_rtt "$(rt tipc_rtt)"), cohort ping $(per cohort_ping "$(rt cohort_ping)"), cohort echo $(per cohort_echo "$(rt cohort_echo)")"
echo "packets crossing the veth per message one-way: raw TCP $(per tcp1 "$tcp1_n"), raw TCP 64/write $(per tcp64 "$tcp64_n"), TIPC $(per tipc_tput "$tipct_n"), cohort $(per cohort_tput "$ct_n")"
echo "# wall: user-observed time of one cohort_ping() call; kernel-measured: the RTT the kernel reports (no netlink/user wake-up cost); packet counts include heartbeats and ACKs"
[ "$failed" = 0 ]
