#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bad input on the wire: garbage, truncated, wrong magic or version,
# oversized and undersized lengths, huge vectors, unknown types, and frames
# from senders nobody configured, sent from plain sockets (wirefuzz.py) to
# x's UDP and TCP ports. x drops and counts them, keeps its link to y up,
# still answers pings, and the kernel logs no warning.
#
#   y (71) ---- link 1 ---- x (72) ---- link 2 ---- z (73, no peers)
#   198.18.1.2        198.18.1.1 198.18.2.1       198.18.2.2
#   wirefuzz from y: the configured peer's address, malformed frames
#   wirefuzz from z: an address x has no peer at, malformed and
#                    unknown-sender frames, a HELLO claiming to be y
#   wirefuzz from z as "f" (70): then x gets peer 70 at z's address; the
#                    fuzzer heartbeats as 70 and, per session, sends a real
#                    HELLO, waits for x's, then one malformed frame;
#                    last, only the malformed batched queue frames (a
#                    count of 0, message lengths that do not add up to
#                    the body, trailing bytes...), each counted as bad
#   wirefuzz from z as 70 (--stream): one session of 20000 well-formed
#                    frames written in pieces cut anywhere: all arrive
#   wirefuzz from z as queue home 70 (--play-home): x's consumer without
#                    acks opens fz@70; the fake home answers, delivers,
#                    and sends DELIVER frames x must refuse: their window
#                    slots must come back in CREDIT frames
#
# x has the higher id, so y's and f's connections are the incoming ones.

DIR=$(cd "$(dirname "$0")" && pwd)
. "$DIR/ktap.sh"
. "$DIR/lib_cluster.sh"

cl_init tbad
. "$DIR/lib_queue.sh"
FUZZ=$DIR/tools/wirefuzz.py
command -v python3 >/dev/null || ktap_skip_all "needs python3"
[ -r "$FUZZ" ] || ktap_skip_all "missing $FUZZ"

# counters: "BAD UNKNOWN TTL" for x; BAD sums the node's and every link's
# bad_frames (whether the node total includes the links' is not assumed).
counters()
{
	cl_q x "node show -s" '.stats | "\(.bad_frames) \(.unknown_peer) \(.ttl_expired)"' |
	{
		read -r nb nu nt
		lb=$(cl_q x "link show -s" '[rows | .stats.bad_frames // 0] | add // 0')
		echo "$((nb + ${lb:-0})) $nu $nt"
	}
}

# fuzz NAME OUT ARGS...: wirefuzz in NAME's namespace; its summary line
# goes to $SUMMARY as "key=value ..." words.
fuzz()
{
	local n=$1 out=$2 rc

	shift 2
	ip netns exec "${CL_NS[$n]}" python3 "$FUZZ" "$@" >"$out" 2>&1
	rc=$?
	SUMMARY=$(sed -n 's/^summary //p' "$out")
	ktap_info "wirefuzz from $n ($*): exit $rc, ${SUMMARY:-no summary}"
	[ $rc = 0 ] || sed 's/^/#   /' "$out" | tail -n 5
	return $rc
}

# sval KEY: the value of KEY in $SUMMARY.
sval()
{
	echo "$SUMMARY" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# delta BEFORE AFTER FIELD...: sum over FIELDs (1-based) of AFTER - BEFORE.
delta()
{
	local b=($1) a=($2) f d=0

	shift 2
	for f in "$@"; do
		d=$((d + ${a[$((f - 1))]:-0} - ${b[$((f - 1))]:-0}))
	done
	echo $d
}

link_ok()
{
	[ "$(cl_link_state x y)" = up ] && [ "$(cl_link_state y x)" = up ]
}

ktap_plan 19

# A generous tolerance: the fuzzers keep x busy under emulation, and what
# is checked is that no fuzzed connection displaces the real one, not how
# fast x answers heartbeats meanwhile.
cl_node y 71 && cl_node x 72 && cl_node z 73 &&
	cl_hb x 250 5000 && cl_hb y 250 5000 &&
	cl_link x y && cl_veth x z &&
	cl_wait 60 cl_all_up x y && cl_wait 30 cl_all_reachable x y
ktap_result $? "x and y linked, z on a veth of x's with no peer (${CL_WAITED} ms)"

X_Y=$(cl_addr x y)
X_Z=$(cl_addr x z)
rc0=$(cl_lstat x y reconnects)
c0=$(counters)
ktap_info "x counters (bad unknown ttl): $c0, reconnects to y: $rc0"

# ---- UDP ----
fuzz y "$CL_TMP/udp-y" "$X_Y" --target 72 --proto udp --set malformed
rc=$?
sleep 0.5
c1=$(counters)
must=$(sval udp_must_drop)
d=$(delta "$c0" "$c1" 1 2)
[ $rc = 0 ] && [ -n "$must" ] && [ "$must" -gt 0 ] && [ "$d" -ge "$must" ] &&
	[ "$(delta "$c0" "$c1" 1)" -gt 0 ]
ktap_result $? "UDP from y's address: $must malformed datagrams all dropped and counted (+$d)"

fuzz z "$CL_TMP/udp-z" "$X_Z" --target 72 --proto udp --set all
rc=$?
sleep 0.5
c2=$(counters)
unk=$(sval udp_unknown)
d=$(delta "$c1" "$c2" 2)
[ $rc = 0 ] && [ -n "$unk" ] && [ "$unk" -gt 0 ] && [ "$d" -ge "$unk" ]
ktap_result $? "UDP from z: $unk heartbeats from unconfigured id 999 counted as unknown_peer (+$d)"

d=$(delta "$c1" "$c2" 1 2)
all=$(sval udp_sent)
[ -n "$all" ] && [ "$d" -ge "$all" ]
ktap_result $? "UDP from z: all $all datagrams dropped and counted (+$d)"

link_ok
ktap_result $? "after UDP fuzzing: the link x-y is still up"

# ---- TCP ----
fuzz z "$CL_TMP/tcp-z" "$X_Z" --target 72 --proto tcp --set all --peer 71
rc=$?
sleep 0.5
c3=$(counters)
d=$(delta "$c2" "$c3" 1 2)
[ $rc = 0 ] && [ "$(sval tcp_conns)" -gt 0 ] && [ "$d" -gt 0 ]
ktap_result $? "TCP from z: malformed, unknown-sender and impersonating streams counted (+$d)"

fuzz y "$CL_TMP/tcp-y" "$X_Y" --target 72 --proto tcp --set malformed
rc=$?
sleep 0.5
c4=$(counters)
d=$(delta "$c3" "$c4" 1 2)
[ $rc = 0 ] && [ "$(sval tcp_conns)" -gt 0 ] && [ "$d" -gt 0 ]
ktap_result $? "TCP from y's address: malformed streams dropped and counted (+$d)"

# ---- inside a session, as configured peer 70 ----
# Only now does z's address belong to a peer of x's.
cl_step cl_ctl x peer add id 70 addr "$(cl_addr z x)"
fuzz z "$CL_TMP/session" "$X_Z" --target 72 --session 70 --other 71
rc=$?
sleep 0.5
c5=$(counters)
sessions=$(sval sessions)
[ $rc = 0 ] && [ "${sessions:-0}" -gt 0 ]
ktap_result $? "session: x accepted HELLO from configured peer 70 (${sessions:-0} of $(sval cases) sessions)"

d=$(delta "$c4" "$c5" 1 2 3)
[ "${sessions:-0}" -gt 0 ] && [ "$d" -gt 0 ]
ktap_result $? "session: malformed frames after HELLO dropped and counted (+$d)"

# Batched PUB/DELIVER frames are checked whole, for any handle: each one
# of these is a bad frame.
fuzz z "$CL_TMP/session-q" "$X_Z" --target 72 --session 70 --cases q-
rc=$?
sleep 0.5
c6=$(counters)
sessions=$(sval sessions)
d=$(delta "$c5" "$c6" 1)
[ $rc = 0 ] && [ "${sessions:-0}" -gt 0 ] && [ "$d" -ge "$sessions" ]
ktap_result $? "session: ${sessions:-0} malformed batched queue frames each counted bad (+$d)"

# ---- well-formed frames, read cut anywhere, as peer 70 ----
# x parses frames where they land in its receive buffer, reads one begun
# near the end exactly to its end, and moves only a header cut short:
# every frame must still come through, once and in order (a frame out of
# place breaks the sequence, which closes the session).
STREAM=20000
stream_in() { [ $(($(cl_lstat x 70 rx_frames) - rx0)) -ge $STREAM ]; }

rx0=$(cl_lstat x 70 rx_frames)
np0=$(cl_stat x msg_dropped)
fuzz z "$CL_TMP/stream" "$X_Z" --target 72 --session 70 --stream $STREAM
rc=$?
cl_wait 20 stream_in
rx=$(($(cl_lstat x 70 rx_frames) - rx0))
np=$(($(cl_stat x msg_dropped) - np0))
c7=$(counters)
d=$(delta "$c6" "$c7" 1)
[ $rc = 0 ] && [ "$(sval closed)" = 0 ] && [ $rx = $STREAM ] &&
	[ $np = $STREAM ] && [ "$d" = 0 ]
ktap_result $? "session: $STREAM frames cut anywhere: $rx in, $np to no port, $d bad"

# ---- a home that sends what the opener must refuse, as peer 70 ----
# The home counts every delivery to a consumer without acks against its
# window until CREDIT says it was taken; one the opener refuses must be
# credited back too, or the window shrinks for good.
bgq x home-c consume fz@70 2 -a none -t 20000 -w 60000
fuzz z "$CL_TMP/home" "$X_Z" --target 72 --session 70 --play-home --wait 60
rc=$?
[ $rc = 0 ] || cl_stop "${QPID[home-c]}"
finish home-c
qrc=$?
sed -n 's/^home /#   /p' "$CL_TMP/home"

# credited CASE: the fake home got back as much credit as CASE delivered.
credited()
{
	local c

	c=$(sed -n "s/^home $1 count \([0-9]*\) credit \([0-9]*\)\$/\1 \2/p" \
		"$CL_TMP/home")
	[ -n "$c" ] && [ "${c% *}" -gt 0 ] && [ "${c% *}" = "${c#* }" ]
}

[ $rc = 0 ] && [ $qrc = 0 ] && [ "$(field home-c distinct)" = 2 ] &&
	credited deliver-ok && credited deliver-ok-after
ktap_result $? "fake home 70: x's consumer opened fz@70, took both good deliveries and credited them"

credited refused-tagged
ktap_result $? "a refused DELIVER (attempt tags to a consumer without acks) is credited back"

credited refused-bad-stamp
ktap_result $? "a refused DELIVER (a message with a bad stamp) is credited back"

# ---- x is unharmed ----
cl_wait 10 link_ok
ktap_result $? "after all fuzzing: the link x-y is up on both sides"

rc1=$(cl_lstat x y reconnects)
[ -n "$rc1" ] && [ "$rc1" = "$rc0" ]
ktap_result $? "no fuzzed connection disturbed the real one (reconnects $rc0 -> $rc1)"

out=$(cl_json y ping 72 -c 1 -W 5000 2>&1) &&
	printf '%s' "$out" | jq -e '.received == 1' >/dev/null &&
	out=$(cl_json x ping 71 -c 1 -W 5000 2>&1) &&
	printf '%s' "$out" | jq -e '.received == 1' >/dev/null
rc=$?
[ $rc = 0 ] || ktap_info "ping said: $out"
ktap_result $rc "x and y still ping each other"

cl_final_checks
ktap_finish
