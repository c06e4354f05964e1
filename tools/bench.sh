#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make bench, run inside the VM as root with cohort.ko loaded: cohort's
# one-way 64-byte message throughput and round-trip time between two nodes,
# each beside baselines measured in the same run (raw TCP, raw UDP, TIPC),
# printed as ratios, plus how many packets crossed the veth per message and
# per round trip (TIPC between namespaces of one kernel takes its
# "wormhole" and skips the veth: a same-host reference, not like-for-like).
# Then cohort queues (cohort-qbench, raw ioctls), 64-byte and 4-KiB
# messages: one-way throughput and round trips between two processes of
# node A against POSIX mqueue and a Unix SOCK_SEQPACKET socket pair, one
# message per call and batched, and the floor of the copies any queue
# makes (the payload into the kernel and out again, with no queue); and a
# queue homed on A used from B (and from A by a consumer in B) against raw
# TCP framed messages and TIPC.
#
#   [ cbench-a-PID: cohort node 1 ]            [ cbench-b-PID: cohort node 2 ]
#     veth-a 198.18.0.1/24  <------------------>  veth-b 198.18.0.2/24
#     senders, RTT clients                          receivers, echo servers
#     TIPC identity cbench1, bearer eth veth-a      cbench2, bearer eth veth-b
#
# Environment: COHORT_BUILD (required), BENCH_SECS (sending time per
# throughput run, default 3), BENCH_RTT_N (timed round trips, default 1000),
# BENCH_WARMUP (untimed round trips first, default 50), BENCH_QDEPTH
# (messages a queue holds: cohort max_msgs, mq_maxmsg; default 1024),
# BENCH_QREPEAT and BENCH_XREPEAT (rounds of the queue throughput runs on
# one node and across nodes, each round running every figure once,
# baselines and cohort in turn; each figure's median run is shown, and
# each ratio is the median of the rounds' own ratios; default 3 each).
# Runs with a receive ring size it to hold no more than the queue depth
# holds: the largest power of two up to depth x record size (BENCH_QRING
# overrides).
# Without the module (e.g. on a host) cohort is reported unavailable and the
# baselines still run. Exit status 1 when a baseline or an available cohort
# run could not be measured, 2 for a setting that is not a whole number.
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
QB=$build/cohort-qbench
QDEPTH=${BENCH_QDEPTH:-1024}

# whole NAME MIN: NAME, when set, is a whole number of at least MIN; the
# runs and the arithmetic below take no other (no fractions, no octal).
whole() {
	[ -z "${!1+set}" ] && return 0
	[[ ${!1} =~ ^(0|[1-9][0-9]{0,8})$ ]] && [ "${!1}" -ge "$2" ] && return 0
	echo "bench.sh: $1=${!1}: not a whole number of at least $2" >&2
	exit 2
}
for v in BENCH_SECS BENCH_RTT_N BENCH_QDEPTH BENCH_QREPEAT BENCH_XREPEAT \
	BENCH_QRING; do
	whole $v 1
done
whole BENCH_WARMUP 0
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
# SPIN and CPIN, when set, are commands the server and the client run under.
SPIN=()
CPIN=()
run() {
	local name=$1 sns=$2 sargs=$3 cns=$4 cargs=$5 spid p0 rc

	# shellcheck disable=SC2086 # word splitting of the argument strings
	ip netns exec "$sns" "${SPIN[@]}" "$NB" $sargs >"$tmp/$name.srv" 2>&1 &
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
	timeout 120 ip netns exec "$cns" "${CPIN[@]}" "$NB" $cargs >"$tmp/$name.cli" 2>&1
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

# ---- queues: cohort-qbench, producer and consumer in two processes ----

# median_run: of "RATE RUN" lines on stdin, the RUN of the median rate.
median_run() {
	sort -n | awk '{ l[NR] = $2 } END { print l[int((NR + 1) / 2)] }'
}

# qmedian NAME N [LINE]: of runs NAME.1..N, the one whose rate (on the
# line LINE, default consumer) is the median becomes run NAME (the last one
# if any has no rate).
qmedian() {
	local name=$1 n=$2 line=${3:-consumer} r rate list=

	for r in $(seq "$n"); do
		rate=$(qkv "$name.$r" "$line" rate)
		[ -n "$rate" ] || { list=; break; }
		list+="$rate $r"$'\n'
	done
	r=$n
	[ -n "$list" ] && r=$(printf '%s' "$list" | median_run)
	cp "$tmp/$name.$r.q" "$tmp/$name.q"
}

# srvmedian NAME N: of runs NAME.1..N, the one whose server rate is the
# median becomes run NAME (none when no run has a rate).
srvmedian() {
	local name=$1 n=$2 r rate list=

	for r in $(seq "$n"); do
		rate=$(kv "$tmp/$name.$r.srv" rate)
		[ -n "$rate" ] && list+="$rate $r"$'\n'
	done
	[ -n "$list" ] || return 0
	r=$(printf '%s' "$list" | median_run)
	cp "$tmp/$name.$r.srv" "$tmp/$name.srv"
}

# qrounds S NAME...: run NAME_S of each NAME is the median of its rounds
# NAME_S.1, NAME_S.2, ... (those that ran).
qrounds() {
	local s=$1 n r

	shift
	for n in "$@"; do
		r=0
		while [ -f "$tmp/${n}_$s.$((r + 1)).q" ]; do
			r=$((r + 1))
		done
		[ $r = 0 ] || qmedian "${n}_$s" "$r"
	done
}

# qrun NAME NS ARGS...: a cohort-qbench run inside namespace NS ("" for
# this one), its lines in $tmp/NAME.q, shown as comments; qbench's status.
qrun() {
	local name=$1 ns=$2 rc

	shift 2
	if [ -n "$ns" ]; then
		timeout 300 ip netns exec "$ns" "$QB" "$@" >"$tmp/$name.q" 2>&1
	else
		timeout 300 "$QB" "$@" >"$tmp/$name.q" 2>&1
	fi
	rc=$?
	sed "s/^/# $name: /" "$tmp/$name.q"
	return $rc
}

# A baseline run: a failure counts.
qbase() {
	qrun "$@" || failed=$((failed + 1))
}

# A cohort queue run: once cohort-qbench says queues are unavailable (exit
# 2), the other cohort runs are skipped; VAR (qlocal or qremote) is 1 while
# they run.
qcohort() {
	local var=$1 name=$2 rc

	shift
	[ "${!var}" = 1 ] || return 0
	qrun "$@"
	rc=$?
	case $rc in
	0) ;;
	2) printf -v "$var" 0
	   qreason=$(grep -m 1 ': unavailable' "$tmp/$name.q") ;;
	*) echo "# $name: failed (exit $rc)"
	   qfailed="$qfailed $name"
	   failed=$((failed + 1)) ;;
	esac
}

# rrate RUN: the rate of one round's run RUN (NAME.R): a queue run's
# consumer (or copy) line, else a server's.
rrate() {
	local r

	r=$(qkv "$1" consumer rate)
	[ -n "$r" ] || r=$(qkv "$1" copy rate)
	[ -n "$r" ] || r=$(kv "$tmp/$1.srv" rate)
	echo "$r"
}

# pratio X Y N: X's rate over Y's, round by round (runs X.1, Y.1, ...,
# X.N, Y.N: each pair ran minutes apart at most, in the same spell of
# the host): their median, then each round's, as "M [A B C]".
# The ratio of two medians would pair one round's cohort with another's
# baseline.
pratio() {
	local r list= all=

	for r in $(seq "$3"); do
		list+="$(ratio "$(rrate "$1.$r")" "$(rrate "$2.$r")")"$'\n'
	done
	all=$(printf '%s' "$list" | tr '\n' ' ')
	printf '%s' "$list" | grep -v '^n/a$' | sort -n |
		awk -v all="${all% }" '{ v[NR] = $1 }
			END { printf "%s [%s]\n",
				NR ? v[int((NR + 1) / 2)] : "n/a", all }'
}

# qkv NAME LINE KEY: KEY= on the line of run NAME that starts with LINE.
qkv() {
	grep "^$2 " "$tmp/$1.q" 2>/dev/null | grep -oE " $3=[^ ]*" |
		tail -n 1 | cut -d= -f2
}

# "RATE msg/s (MB/s)" of run NAME's consumer, or n/a.
qrate() {
	local r

	r=$(qkv "$1" consumer rate)
	[ -n "$r" ] && echo "$r msg/s ($(qkv "$1" consumer mb_s) MB/s)" ||
		echo "n/a"
}

[ -x "$QB" ] || { echo "queues: unavailable (no $QB)"; failed=$((failed + 1)); }
qlocal=1
qremote=$cohort
qreason=
qfailed=
[ -x "$QB" ] || qlocal=0
QT=(-t "$SECS" -W 0.5 -d "$QDEPTH")
QC=(-t "$SECS" -W 0.5)
QR=(-n "$RTT_N" -w "$WARM" -d "$QDEPTH")
# Each side of every queue figure and of the raw TCP it is compared with
# keeps one CPU, the sender 0 and the receiver 1: left to the scheduler,
# whether the two share a CPU changed a figure by up to a half from one run
# to the next, for cohort and its baselines alike.
qpin=
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
	qpin="sender on CPU 0, receiver on CPU 1"
	QT+=(-c 0,1)
	QC+=(-c 0,1)
	QR+=(-c 0,1)
	SPIN=(taskset -c 1)
	CPIN=(taskset -c 0)
fi
# ring_for SIZE: ring bytes for SIZE-byte messages (record: header, one or
# two stamp entries, payload, padded).
ring_for() {
	local want=$((QDEPTH * ((80 + 32 + $1 + 7) / 8 * 8))) r=65536

	while [ $((r * 2)) -le $want ] && [ $((r * 2)) -le 67108864 ]; do
		r=$((r * 2))
	done
	echo "${BENCH_QRING:-$r}"
}
NSA=/run/netns/$A
NSB=/run/netns/$B

# One node (A): BENCH_QREPEAT rounds, each running every throughput figure
# once, baselines and cohort in turn, so that a cohort run and its
# baseline's run of the same round see the same spell of a busy host: a
# ratio is the median of the rounds' ratios (pratio), a rate shown the
# figure's median run.
LREP=${BENCH_QREPEAT:-3}
for s in 64 4096; do
	[ -x "$QB" ] || break
	RING=(-R "$(ring_for $s)")
	for r in $(seq "$LREP"); do
		qbase "mq_$s.$r" "$A" tput -k mq -s $s "${QT[@]}"
		qbase "sp_$s.$r" "$A" tput -k seqpacket -s $s "${QT[@]}"
		qbase "sp64_$s.$r" "$A" tput -k seqpacket -s $s -b 64 "${QT[@]}"
		qcohort qlocal "crw_$s.$r" "$A" tput -k cohort-rw -s $s "${QT[@]}"
		qcohort qlocal "c1_$s.$r" "$A" tput -k cohort -s $s "${QT[@]}"
		qcohort qlocal "c64_$s.$r" "$A" tput -k cohort -s $s -b 64 "${QT[@]}"
		qcohort qlocal "c256_$s.$r" "$A" tput -k cohort -s $s -b 256 "${QT[@]}"
		qcohort qlocal "crwr_$s.$r" "$A" tput -k cohort-rw -s $s "${RING[@]}" "${QT[@]}"
		qcohort qlocal "c64r_$s.$r" "$A" tput -k cohort -s $s -b 64 "${RING[@]}" "${QT[@]}"
		qcohort qlocal "c64z_$s.$r" "$A" tput -k cohort -s $s -b 64 "${RING[@]}" -Z "${QT[@]}"
		qbase "cp64_$s.$r" "$A" copy -s $s -b 64 "${QC[@]}"
	done
	qrounds $s mq sp sp64 crw c1 c64 c256 crwr c64r c64z
	qmedian "cp64_$s" "$LREP" copy
	qbase mqrtt_$s "$A" rtt -k mq -s $s "${QR[@]}"
	qbase sprtt_$s "$A" rtt -k seqpacket -s $s "${QR[@]}"
	qcohort qlocal crwrtt_$s "$A" rtt -k cohort-rw -s $s "${QR[@]}"
	qcohort qlocal c1rtt_$s "$A" rtt -k cohort -s $s "${QR[@]}"
	qcohort qlocal crwrrtt_$s "$A" rtt -k cohort-rw -s $s "${RING[@]}" "${QR[@]}"
done
[ $qlocal = 1 ] || qremote=0
# Across the veth: the queue lives on A (node 1). "ba": producer in B,
# consumer in A; "ab": producer in A, consumer in B. Raw TCP framed (one
# and 64 messages per write) and TIPC right before, same sizes. A round
# runs each once; of XREP rounds, ratios and rates are taken as on one
# node.
XREP=${BENCH_XREPEAT:-3}
for s in 64 4096; do
	[ $qremote = 1 ] || break
	RING=(-R "$(ring_for $s)")
	for r in $(seq "$XREP"); do
		run "tcpq1_$s.$r" "$B" "tcp-recv -p 7411 -t $S" "$A" "tcp-send -a $ADDR_B -p 7411 -t $SECS -s $s -b 1" ||
			failed=$((failed + 1))
		run "tcpq64_$s.$r" "$B" "tcp-recv -p 7412 -t $S" "$A" "tcp-send -a $ADDR_B -p 7412 -t $SECS -s $s -b 64" ||
			failed=$((failed + 1))
		[ $tipc = 1 ] && run "tipcq_$s.$r" "$B" "tipc-recv -t $S" "$A" "tipc-send -t $SECS -s $s"
		qcohort qremote "xba_$s.$r" "" tput -k cohort-rw -s $s -H cons -P "$NSB" -C "$NSA" "${QT[@]}"
		qcohort qremote "xba64_$s.$r" "" tput -k cohort -b 64 -s $s -H cons -P "$NSB" -C "$NSA" "${QT[@]}"
		qcohort qremote "xab_$s.$r" "" tput -k cohort-rw -s $s -H prod -P "$NSA" -C "$NSB" "${QT[@]}"
		qcohort qremote "xab64_$s.$r" "" tput -k cohort -b 64 -s $s -H prod -P "$NSA" -C "$NSB" "${QT[@]}"
		qcohort qremote "xbar_$s.$r" "" tput -k cohort-rw -s $s "${RING[@]}" -H cons -P "$NSB" -C "$NSA" "${QT[@]}"
		qcohort qremote "xabr_$s.$r" "" tput -k cohort-rw -s $s "${RING[@]}" -H prod -P "$NSA" -C "$NSB" "${QT[@]}"
	done
	for n in tcpq1 tcpq64 tipcq; do
		srvmedian ${n}_$s "$XREP"
	done
	qrounds $s xba xba64 xab xab64 xbar xabr
done
# Round trips from B through two queues on A; raw UDP is the one above.
[ $qremote = 1 ] &&
	qcohort qremote xrtt_64 "" rtt -k cohort-rw -s 64 -H cons -P "$NSB" -C "$NSA" "${QR[@]}"

echo
echo "== cohort queues vs baselines (same run; msg/s at the consumer after 0.5 s of warm-up; queues hold $QDEPTH messages, rings $(ring_for 64) bytes for 64 B and $(ring_for 4096) for 4 KiB, no more than the queue; the median of $LREP rounds on one node, $XREP across nodes; a ratio is the median of the rounds' own ratios, each cohort run against its baseline's run of the same round, with every round's in brackets)"
[ -n "$qpin" ] && echo "cohort queues: each side pinned, $qpin (baselines alike)"
[ -n "$qreason" ] && echo "cohort queues: ${qreason#*: }"
[ -n "$qfailed" ] && echo "cohort queues: runs that failed (n/a below; see their lines above):$qfailed"
grep -qo 'slub_debug=[^ ]*' /proc/cmdline &&
	echo "# the kernel runs with $(grep -o 'slub_debug=[^ ]*' /proc/cmdline): every kmalloc and kfree records a stack trace, a large part of each message's cost for cohort and mq alike"
[ $cohort = 1 ] || echo "cohort queues across nodes: not measured (cohort: ${cohort_reason:-a run failed})"
for s in 64 4096; do
	echo "queue ${s}B one-way: cohort write/read $(qrate crw_$s), POSIX mq $(qrate mq_$s), ratio $(pratio crw_$s mq_$s $LREP) (cohort/mq, higher is better; target >= 1.0)"
	echo "queue ${s}B one-way: cohort QSEND/QRECV 1/call $(qrate c1_$s), POSIX mq $(qrate mq_$s), ratio $(pratio c1_$s mq_$s $LREP) (target >= 1.0)"
	for b in 64 256; do
		echo "queue ${s}B one-way: cohort QSEND/QRECV $b/call $(qrate c${b}_$s), POSIX mq $(qrate mq_$s), ratio $(pratio c${b}_$s mq_$s $LREP) (batched/mq; target >= 3)"
	done
	echo "queue ${s}B one-way: cohort write + ring $(qrate crwr_$s), POSIX mq $(qrate mq_$s), ratio $(pratio crwr_$s mq_$s $LREP) (one message per send call; the consumer reads a receive ring and copies each payload out, as a receive call would; target >= 1.0)"
	echo "queue ${s}B one-way: cohort QSEND 64/call + ring $(qrate c64r_$s), POSIX mq $(qrate mq_$s), ratio $(pratio c64r_$s mq_$s $LREP) (batched; payloads copied out of the ring; target >= 3)"
	echo "queue ${s}B one-way: cohort QSEND 64/call + ring read in place $(qrate c64z_$s), POSIX mq $(qrate mq_$s), ratio $(pratio c64z_$s mq_$s $LREP) (batched; zero-copy receive: the consumer reads each payload where it lies; target >= 3)"
	cp=$(qkv cp64_$s copy rate)
	echo "queue ${s}B copy floor: $(val "$(qkv cp64_$s copy in_ns)") ns in, $(val "$(qkv cp64_$s copy out_ns)") ns out per message (no queue: two processes at once, placed as the queue's two sides, one pwrite()s 64 messages per call into a memfd, the other pread()s 64 per call out of another); the slower side moves $(val "$cp") msg/s, $(pratio cp64_$s mq_$s $LREP) x POSIX mq: about the most any queue that copies each payload in and out can move; cohort 64/call reaches $(pratio c64_$s cp64_$s $LREP) of it (reference)"
	echo "queue ${s}B one-way: cohort write/read $(qrate crw_$s), SEQPACKET send/recv $(qrate sp_$s), ratio $(pratio crw_$s sp_$s $LREP) (reference)"
	echo "queue ${s}B one-way: cohort 64/call $(qrate c64_$s), SEQPACKET sendmmsg/recvmmsg 64/call $(qrate sp64_$s), ratio $(pratio c64_$s sp64_$s $LREP) (reference, both batched)"
done
for s in 64 4096; do
	for p in 50 99; do
		mq=$(qkv mqrtt_$s rtt p${p}_us)
		sp=$(qkv sprtt_$s rtt p${p}_us)
		crw=$(qkv crwrtt_$s rtt p${p}_us)
		crwr=$(qkv crwrrtt_$s rtt p${p}_us)
		c1=$(qkv c1rtt_$s rtt p${p}_us)
		echo "queue ${s}B rtt p$p: cohort write/read $(val "$crw") us, POSIX mq $(val "$mq") us, ratio $(ratio "$crw" "$mq") (cohort/mq, lower is better)"
		echo "queue ${s}B rtt p$p: cohort QSEND/QRECV $(val "$c1") us, POSIX mq $(val "$mq") us, ratio $(ratio "$c1" "$mq") (lower is better)"
		echo "queue ${s}B rtt p$p: cohort write + ring $(val "$crwr") us, POSIX mq $(val "$mq") us, ratio $(ratio "$crwr" "$mq") (lower is better)"
		echo "queue ${s}B rtt p$p: cohort write/read $(val "$crw") us, SEQPACKET $(val "$sp") us, ratio $(ratio "$crw" "$sp") (reference)"
	done
done
for s in 64 4096; do
	t1=$(kv "$tmp/tcpq1_$s.srv" rate)
	t64=$(kv "$tmp/tcpq64_$s.srv" rate)
	ti=$(kv "$tmp/tipcq_$s.srv" rate)
	for d in ba ab; do
		[ $d = ba ] && w="producer B, consumer A" || w="producer A, consumer B"
		echo "queue ${s}B across nodes ($w, queue on A): cohort write/read $(qrate x${d}_$s), raw TCP framed $(val "$t1") msg/s, ratio $(pratio x${d}_$s tcpq1_$s $XREP) (cohort/TCP, higher is better; target >= 0.8)"
		echo "queue ${s}B across nodes ($w, queue on A): cohort 64/call $(qrate x${d}64_$s), raw TCP framed $(val "$t1") msg/s, ratio $(pratio x${d}64_$s tcpq1_$s $XREP) (cohort batched, TCP one message per write, as the local batched target compares with mq)"
		echo "queue ${s}B across nodes ($w, queue on A): cohort 64/call $(qrate x${d}64_$s), raw TCP framed 64 msgs/write $(val "$t64") msg/s, ratio $(pratio x${d}64_$s tcpq64_$s $XREP) (both batched; target >= 0.8; for scale, cohort 64/call between two processes of one node, no network, moves $(ratio "$(qkv c64_$s consumer rate)" "$t64") of this TCP rate)"
		echo "queue ${s}B across nodes ($w, queue on A): cohort write + ring $(qrate x${d}r_$s), raw TCP framed $(val "$t1") msg/s, ratio $(pratio x${d}r_$s tcpq1_$s $XREP) (one message per send call; the consumer reads a receive ring; target >= 0.8)"
	done
	echo "queue ${s}B across nodes: cohort write/read (producer B) $(qrate xba_$s), TIPC same-host $(val "$ti") msg/s, ratio $(pratio xba_$s tipcq_$s $XREP) (reference: TIPC skips the veth)"
done
x50=$(qkv xrtt_64 rtt p50_us)
x99=$(qkv xrtt_64 rtt p99_us)
echo "queue 64B rtt across nodes (client B, queues on A): p50 $(val "$x50") us vs raw UDP $(val "$udp50") us, ratio $(ratio "$x50" "$udp50"); p99 $(val "$x99") us vs $(val "$udp99") us, ratio $(ratio "$x99" "$udp99") (lower is better)"
echo "cohort queue calls: messages per QRECV call at 64/call $(val "$(qkv c64_64 consumer per_call)") (64B) $(val "$(qkv c64_4096 consumer per_call)") (4KiB), at 256/call $(val "$(qkv c256_64 consumer per_call)") (64B) $(val "$(qkv c256_4096 consumer per_call)") (4KiB); across nodes at 64/call $(val "$(qkv xba64_64 consumer per_call)") (producer B) $(val "$(qkv xab64_64 consumer per_call)") (consumer B)"
[ "$failed" = 0 ]
