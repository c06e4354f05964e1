#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Stamped frames: a causal chain of messages across three nodes carries
# Lamport and vector stamps exactly as the seed's rules predict. Sender: C
# = C + 1, V[self] += 1, stamp the message with (C, V). Receiver: C =
# max(C, stamp) + 1; V = max(V, stamp) component-wise, then V[self] += 1.
# The expected values are computed from each node's clocks (node show)
# read just before each step, so nothing is assumed about where they start.
# No pings or other routed traffic run meanwhile ("quiet clocks").
#
#   a (81) ---- link 1 ---- b (82) ---- link 2 ---- c (83)
#
#   step 1  b -> c   (c's clocks run ahead of a's)
#   step 2  a -> b   (b takes max(its own, a's) + 1)
#   step 3  b -> c   (carries a's send on to c)
#   step 4  a -> c   through b: c applies the receive rule to the stamps
#                    of the last hop, and they cover a's send

DIR=$(cd "$(dirname "$0")" && pwd)
. "$DIR/ktap.sh"
. "$DIR/lib_cluster.sh"

cl_init tstamp

# jq: the receive and send rules over vectors [{id, counter}] sorted by id.
JQ_VC='
def vinc($id): if any(.[]; .id == $id)
	then map(if .id == $id then .counter += 1 else . end)
	else . + [{id: $id, counter: 1}] | sort_by(.id) end;
def vmax($b): (. + $b) | group_by(.id) |
	map({id: .[0].id, counter: (map(.counter) | max)});
def vnorm: map({id, counter}) | map(select(.counter != 0)) | sort_by(.id);
'

# clocks NAME: "LAMPORT VCLOCK_JSON" of the node.
clocks()
{
	cl_json "$1" node show | jq -c -r "$JQ_VC"'"\(.lamport) \(.vclock | vnorm | tojson)"'
}

# recv_start NAME PORT: cohortctl msg recv, bound before this returns.
recv_start()
{
	cl_bg "$1" "$CL_TMP/recv-$2" "$CL_CTL" -j msg recv "$2" -c 1 -W 20000
	RECV=$CL_BG
	cl_wait_file "$CL_TMP/recv-$2.err" "# bound port" 20
}

# step FROM TO PORT: send one message and check its stamps, the sender's
# clocks and the receiver's clocks. Two KTAP results. $MSG: the message.
step()
{
	local from=$1 to=$2 port=$3 lf vf lt vt got want rc=0 text

	text="step-$from-$to-$port"
	MSG=
	if ! recv_start "$to" "$port"; then
		ktap_fail "$from -> $to: message stamped (receiver did not start)"
		ktap_fail "$from -> $to: clocks after the step"
		return
	fi
	read -r lf vf <<<"$(clocks "$from")"
	read -r lt vt <<<"$(clocks "$to")"
	ktap_info "before: $from lamport $lf vclock $vf; $to lamport $lt vclock $vt"
	cl_step cl_ctl "$from" msg send "${CL_ID[$to]}" "$port" "$text" || rc=1
	wait "$RECV" || rc=1
	MSG=$(head -n 1 "$CL_TMP/recv-$port")
	ktap_info "message: $MSG"

	want=$(jq -n -c "$JQ_VC"'{lamport: ($lf + 1), vclock: ($vf | vinc($f))}' \
		--argjson lf "$lf" --argjson vf "$vf" --argjson f "${CL_ID[$from]}")
	got=$(printf '%s' "$MSG" | jq -c "$JQ_VC"'{lamport, vclock: (.vclock | vnorm)}' 2>/dev/null)
	[ $rc = 0 ] && [ -n "$got" ] && [ "$got" = "$want" ] &&
		printf '%s' "$MSG" | jq -e --argjson s "${CL_ID[$from]}" --arg t "$text" \
			'.src == $s and .hops == 1 and .payload == $t' >/dev/null
	rc=$?
	[ $rc = 0 ] || ktap_info "message stamps $got, want $want"
	ktap_result $rc "$from -> $to: message stamped with $from's clocks after its send event"

	want="$(jq -n -c -r "$JQ_VC"'"\($lf + 1) \($vf | vinc($f) | tojson)"' \
		--argjson lf "$lf" --argjson vf "$vf" --argjson f "${CL_ID[$from]}")"
	want="$want|$(jq -n -c -r "$JQ_VC"'
		"\([$lt, $lf + 1] | max + 1) \($vt | vmax($vf | vinc($f)) | vinc($t) | tojson)"' \
		--argjson lf "$lf" --argjson vf "$vf" --argjson lt "$lt" --argjson vt "$vt" \
		--argjson f "${CL_ID[$from]}" --argjson t "${CL_ID[$to]}")"
	got="$(clocks "$from")|$(clocks "$to")"
	[ "$got" = "$want" ]
	rc=$?
	[ $rc = 0 ] || ktap_info "clocks after (sender|receiver) '$got', want '$want'"
	ktap_result $rc "$from -> $to: sender's and receiver's clocks follow the rules"
}

ktap_plan 13

rc=0
for n in a b c; do
	cl_node "$n" $((81 + ${#CL_NODES[@]})) || rc=1
done
cl_link a b && cl_link b c || rc=1
[ $rc = 0 ] && cl_wait 60 cl_all_up a b c && cl_wait 30 cl_all_reachable a b c
ktap_result $? "line a-b-c converged (${CL_WAITED} ms)"

before="$(clocks a)|$(clocks b)|$(clocks c)"
sleep 1.5
after="$(clocks a)|$(clocks b)|$(clocks c)"
[ -n "$before" ] && [ "$before" = "$after" ]
ktap_result $? "node clocks are quiet without messages ($after)"
[ "$before" = "$after" ] || ktap_info "were $before"

step b c 11
step a b 12
m2=$MSG
step b c 13
m3=$MSG

# a's send reached c through b: happened-before shows in the stamps.
printf '%s\n%s' "$m2" "$m3" | jq -e -s --argjson a 81 '
	(.[0].lamport < .[1].lamport) and
	([.[1].vclock[] | select(.id == $a) | .counter][0] >=
	 [.[0].vclock[] | select(.id == $a) | .counter][0])' >/dev/null 2>&1
ktap_result $? "chain a -> b -> c: c's stamp is later than a's and covers a's send"

# ---- step 4: through b ----
recv_start c 14
rc=$?
read -r la va <<<"$(clocks a)"
read -r lc vc <<<"$(clocks c)"
cl_step cl_ctl a msg send 83 14 forwarded || rc=1
wait "$RECV" || rc=1
m4=$(head -n 1 "$CL_TMP/recv-14")
ktap_info "message: $m4"
[ $rc = 0 ] && printf '%s' "$m4" | jq -e "$JQ_VC"'
	.src == 81 and .hops == 2 and .lamport >= $la + 1 and
	((.vclock | vnorm) as $m | ($va | vinc(81)) | all(.[];
		. as $e | any($m[]; .id == $e.id and .counter >= $e.counter)))' \
	--argjson la "$la" --argjson va "$va" >/dev/null
ktap_result $? "a -> c via b: arrives over 2 hops, stamps cover a's send"

want=$(printf '%s' "$m4" | jq -c -r "$JQ_VC"'
	. as $m |
	"\([$lc, $m.lamport] | max + 1) \($vc | vmax($m.vclock | vnorm) | vinc(83) | tojson)"' \
	--argjson lc "${lc:-0}" --argjson vc "${vc:-[]}" 2>/dev/null)
got=$(clocks c)
[ -n "$want" ] && [ "$got" = "$want" ]
rc=$?
[ $rc = 0 ] || ktap_info "c's clocks '$got', want '$want'"
ktap_result $rc "a -> c via b: c applied the receive rule to the last hop's stamps"

cl_final_checks
ktap_finish
