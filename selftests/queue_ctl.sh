#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# cohortctl queue and topic as an administrator or a script uses them: add,
# show, stats, send, recv, pub, sub and del, their -j output read with jq,
# errors that say what was wrong (from cohortctl or the kernel's extack),
# the monitor seeing queues come and go, and the kernel's YNL client driving
# queue-add/get/del through uapi/cohort.yaml.
#
#   [ ns q: node 41 "q" ]
#      cohortctl queue/topic ...    cohortctl -j monitor    ynl cli.py
#      root, and uid 65534 for the permission checks
#
# Queues: jobs (persistent, 0640, uid 7, gid 8, max-msgs 4, dlq jobs.dead),
# eph (transient), fresh (made by "send ... create"); topic news
# (persistent, overflow reject, max-msgs 2) with the durable subscription
# "keep"; queue watched and topic wt only for the monitor.

DIR=$(cd "$(dirname "$0")" && pwd)
. "$DIR/ktap.sh"
. "$DIR/lib_cluster.sh"

cl_init qctl
YNL=$CL_BUILD/ynl/tools/net/ynl/cli.py
SPEC=$DIR/../uapi/cohort.yaml
SCHEMA=$CL_BUILD/ynl/Documentation/netlink/genetlink-legacy.yaml

# ok "desc" CMD...: one result from CMD's exit code.
ok()
{
	local desc=$1

	shift
	"$@"
	ktap_result $? "$desc"
}

# payloads ARGS...: the payloads cohortctl -j ARGS printed, as a JSON array.
payloads()
{
	cl_json q "$@" 2>/dev/null | jq -s -c '[.[].payload]'
}

# qok ARGS...: cl_q without printing what matched.
qok()
{
	cl_q "$@" >/dev/null
}

# consumer OUT ARGS...: cohortctl -j ARGS in the background, attached
# before this returns.
consumer()
{
	local out=$1

	shift
	cl_bg q "$out" "$CL_CTL" -j "$@"
	cl_wait_file "$out.err" "# receiving from" 10 && return 0
	ktap_info "consumer did not attach: $(cat "$out.err")"
	return 1
}

# got PID FILE WANT: the consumer PID exited 0 after printing the payloads
# WANT (a JSON array) into FILE.
got()
{
	wait "$1" || return 1
	[ "$(jq -s -c '[.[].payload]' "$2")" = "$3" ]
}

unpriv()
{
	ip netns exec "${CL_NS[q]}" setpriv --reuid=65534 --regid=65534 \
		--clear-groups "$CL_CTL" "$@"
}

ynl()
{
	ip netns exec "${CL_NS[q]}" python3 "$YNL" --spec "$SPEC" \
		--schema "$SCHEMA" --output-json "$@"
}

ktap_plan 50
cl_node q 41 || ktap_info "node setup failed"

# ---- help and bad input: refused before the kernel is asked ----
ok "queue help documents add, send and recv" \
	ktap_expect 0 "queue recv NAME" cl_ctl q queue help
ktap_expect 0 "overflow \{ drop-old \| reject \}" cl_ctl q topic add help &&
	ktap_expect 0 "sub SUB: a durable subscription" cl_ctl q topic help
ktap_result $? "topic help documents overflow and durable subscriptions"
ok "bad mode named in the error" \
	ktap_expect 1 'invalid mode "0800"' cl_ctl q queue add x mode 0800
ok "unknown keyword named in the error" \
	ktap_expect 1 'unknown argument "colour"' cl_ctl q queue add x colour red
ok "overflow is a topic attribute only" \
	ktap_expect 1 'unknown argument "overflow"' cl_ctl q queue add x overflow reject
ok "priority above the maximum refused" \
	ktap_expect 1 'invalid prio "8"' cl_ctl q queue send x prio 8 hello
ok "name longer than 63 characters refused" \
	ktap_expect 1 "invalid name" cl_ctl q queue add "$(printf 'n%.0s' $(seq 64))"
ok "the kernel's message for a bad name reaches the user" \
	ktap_expect 1 "[Nn]ame" cl_ctl q queue add "a b"

# ---- a persistent system queue ----
cl_ctl q queue add jobs.dead persistent >/dev/null
ok "queue add with every attribute" \
	cl_step cl_ctl q queue add jobs persistent mode 0640 uid 7 gid 8 \
	max-msgs 4 max-size 100 ack-timeout 5000 max-deliveries 3 dlq jobs.dead
ok "queue show -j reports the attributes" \
	qok q "queue show jobs" 'rows | .name == "jobs" and .kind == "queue" and
		.home == 41 and .mode == "0640" and .uid == 7 and .gid == 8 and
		.persistent and .system and .max_msgs == 4 and
		.max_msg_size == 100 and .ack_timeout_ms == 5000 and
		.max_deliveries == 3 and .dlq == "jobs.dead" and .depth == 0 and
		.consumers == 0'
ok "queue show in text" \
	ktap_expect 0 "^queue jobs home 41 mode 0640 uid 7 gid 8 persistent system max-msgs 4 " \
	cl_ctl q queue show jobs
ok "adding it twice is refused" \
	ktap_expect 1 "[Ee]xist" cl_ctl q queue add jobs

ok "send three messages with nobody attached" \
	cl_step cl_ctl q queue send jobs one two three
ok "a persistent queue holds them: depth 3" \
	qok q "queue show jobs" 'rows | .depth == 3'
ok "recv count 2 -j: the first two, in order, from this node" \
	qok q "queue recv jobs count 2 timeout 2000" \
	'[.[].payload] == ["one", "two"] and .[0].id < .[1].id and
	 all(.[]; .deliveries == 1 and .sender_node == 41 and .prio == 0)' -s
ok "recv ack prints id, delivery, sender, prio, key, deliveries and payload" \
	ktap_expect 0 '^id [0-9]+ delivery [0-9]+ sender 41:[0-9]+ prio 0 key 0 deliveries 1 lamport [0-9]+ "three"$' \
	cl_ctl q queue recv jobs count 1 timeout 2000 ack
ok "stats -j counts enqueued 3, delivered 3, acked 1" \
	qok q "queue stats jobs" 'rows | .stats | .enqueued == 3 and
		.delivered == 3 and .acked == 1 and .depth == 0'
ok "stats in text lists every counter" \
	ktap_expect 0 "dead_lettered [0-9]+ rejected [0-9]+" cl_ctl q queue stats jobs

cl_ctl q queue send jobs again >/dev/null
cl_ctl q queue recv jobs count 1 timeout 2000 nack >/dev/null 2>&1
ok "a nacked message comes back, counted as redelivered" \
	qok q "queue recv jobs count 1 timeout 2000 ack" \
	'.payload == "again" and .deliveries == 2 and .redelivered'
ok "redelivered counter" \
	qok q "queue stats jobs" 'rows | .stats.redelivered == 1'
cl_ctl q queue send jobs poison >/dev/null
for _ in 1 2 3; do
	cl_ctl q queue recv jobs count 1 timeout 2000 nack >/dev/null 2>&1
done
qok q "queue stats jobs" 'rows | .stats | .dead_lettered == 1 and .depth == 0' &&
	[ "$(payloads queue recv jobs.dead count 1 timeout 2000)" = '["poison"]' ]
ktap_result $? "nacked max-deliveries times, a message moves to the dead-letter queue"
ok "recv on an empty queue gives up after the timeout, exit 1" \
	ktap_expect 1 "no message within 200 ms" cl_ctl q queue recv jobs timeout 200

cl_ctl q queue send jobs prio 1 low >/dev/null
cl_ctl q queue send jobs prio 5 high >/dev/null
ok "higher priority first" \
	[ "$(payloads queue recv jobs count 2 timeout 2000)" = '["high","low"]' ]

ok "a full queue refuses the fifth message without waiting" \
	ktap_expect 1 'is full \(4 of 5 messages sent\)' \
	cl_ctl q queue send jobs count 5 timeout 0 x
ok "rejected counter, and the four are there" \
	qok q "queue stats jobs" 'rows | .stats.rejected >= 1 and .stats.depth == 4'
cl_ctl q queue recv jobs count 4 timeout 2000 >/dev/null 2>&1

# ---- transient queue, queue made by a producer ----
cl_ctl q queue add eph >/dev/null
cl_ctl q queue send eph lost >/dev/null
ok "a transient queue drops what nobody consumes, and counts it" \
	qok q "queue stats eph" 'rows | .stats.dropped == 1 and .stats.depth == 0'
consumer "$CL_TMP/eph" queue recv eph count 1 timeout 10000 &&
	cl_ctl q queue send eph kept >/dev/null
ok "with a consumer attached it delivers" \
	got "$CL_BG" "$CL_TMP/eph" '["kept"]'

# ---- receiving through a ring ----
cl_ctl q queue add ringq persistent >/dev/null
cl_ctl q queue send ringq r1 r2 >/dev/null
ok "recv through a ring prints what recv prints, in order" \
	qok q "queue recv ringq count 2 timeout 2000 ring 65536" \
	'[.[].payload] == ["r1", "r2"] and .[0].id < .[1].id and
	 all(.[]; .deliveries == 1 and .sender_node == 41)' -s
consumer "$CL_TMP/ring" queue recv ringq count 2 timeout 10000 ring 65536 ack &&
	cl_ctl q queue send ringq r3 r4 >/dev/null
got "$CL_BG" "$CL_TMP/ring" '["r3","r4"]' &&
	qok q "queue stats ringq" 'rows | .stats | .acked == 2 and .depth == 0'
ktap_result $? "a ring consumer with acks gets what is sent and acks it"
ok "a ring's size is a power of two" \
	ktap_expect 1 'invalid ring "70000"' cl_ctl q queue recv ringq ring 70000
ktap_expect 0 "prefetch: messages a home on another node sends ahead" \
	cl_ctl q queue help &&
	ktap_expect 1 'invalid prefetch "129" \(expected 1..128\)' \
	cl_ctl q queue recv ringq prefetch 129 &&
	ktap_expect 1 'invalid prefetch "0"' cl_ctl q topic sub news prefetch 0 &&
	cl_ctl q queue send ringq p1 >/dev/null &&
	qok q "queue recv ringq count 1 timeout 2000 prefetch 1" \
	'[.[].payload] == ["p1"]' -s
ktap_result $? "recv's prefetch is documented and 1..128; a consumer of a local queue with one receives as usual"

cl_ctl q queue send fresh create hello >/dev/null 2>&1
ok "send create makes a queue owned by the caller, not a system one" \
	qok q "queue show fresh" 'rows | .system == false and .uid == 0 and
		.mode == "0600"'

# ---- names that are wrong ----
ok "topic show of a queue says what it is" \
	ktap_expect 1 '"jobs" is a queue' cl_ctl q topic show jobs
ktap_expect 1 "is a queue" cl_ctl q topic del jobs &&
	qok q "queue show jobs" 'rows | .name == "jobs"'
ktap_result $? "topic del does not delete a queue"
ok "an unknown queue is an error, not a missing module (exit 1)" \
	ktap_expect 1 "." cl_ctl q queue show nope
ok "recv from an unknown queue names it" \
	ktap_expect 1 'no queue "nope"' cl_ctl q queue recv nope timeout 0

# ---- topic: fan-out, durable subscription, reject ----
cl_step cl_ctl q topic add news persistent overflow reject max-msgs 2
ok "topic show -j: overflow reject, no subscriptions" \
	qok q "topic show news" 'rows | .kind == "topic" and .persistent and
		.overflow == "reject" and .max_msgs == 2 and .subs == []'
consumer "$CL_TMP/keep" topic sub news sub keep count 2 timeout 10000
keep=$CL_BG
consumer "$CL_TMP/tmp" topic sub news count 2 timeout 10000 &&
	cl_ctl q topic pub news a b >/dev/null
got "$keep" "$CL_TMP/keep" '["a","b"]' && got "$CL_BG" "$CL_TMP/tmp" '["a","b"]'
ktap_result $? "every subscriber, durable or not, gets every message"

cl_ctl q topic pub news c d >/dev/null
ok "the durable subscription keeps messages while away" \
	qok q "topic show news" '[rows | .subs[]] |
		map(select(.name == "keep" and .depth == 2)) | length == 1'
ok "a full subscription rejects the publish" \
	ktap_expect 1 'is full \(0 of 1 messages sent\)' \
	cl_ctl q topic pub news timeout 0 e
ok "topic stats -j per subscription" \
	qok q "topic stats news" '[rows | .subs[] | select(.name == "keep") |
		.stats] | .[0] | .enqueued == 4 and .delivered == 2 and
		.depth == 2'
ok "the durable subscription hands them over later" \
	[ "$(payloads topic sub news sub keep count 2 timeout 2000)" = '["c","d"]' ]
cl_ctl q topic del news sub keep >/dev/null
ok "topic del NAME sub SUB removes only the subscription" \
	qok q "topic show news" 'rows | .name == "news" and .subs == []'

# ---- permissions ----
ok "unprivileged queue add refused" \
	ktap_expect 1 "Operation not permitted|CAP_NET_ADMIN|[Pp]ermi" unpriv queue add mine
ok "another user cannot consume from a 0640 queue" \
	ktap_expect 1 "does not allow" unpriv queue recv jobs timeout 0

# ---- events and the YNL client ----
# The queue events of the monitor, "KIND NAME OP [SUB]" a line.
mon_events()
{
	jq -R -r 'sub("^[0-9]+ "; "") | fromjson? // empty |
		select(.event == "queue") |
		"\(.kind) \(.name) \(.op)\(if .sub then " " + .sub else "" end)"' \
		"$1" 2>/dev/null | tr '\n' ,
}

mon_done()
{
	[ "$(mon_events "$mon")" = "$MON_WANT" ]
}

MON_WANT="queue watched add,topic wt add,topic wt sub-add s1,topic wt sub-del s1,topic wt del,queue watched del,"
mon=$CL_TMP/mon
if cl_monitor q "$mon"; then
	cl_ctl q queue add watched >/dev/null
	cl_ctl q topic add wt persistent >/dev/null
	# made by its first consumer, then consumed again: one sub-add
	cl_ctl q topic sub wt sub s1 timeout 0 >/dev/null 2>&1
	cl_ctl q topic sub wt sub s1 timeout 0 >/dev/null 2>&1
	cl_ctl q topic del wt sub s1 >/dev/null
	cl_ctl q topic del wt >/dev/null
	cl_ctl q queue del watched >/dev/null
fi
cl_wait 10 mon_done
ktap_result $? "monitor sees queues, topics and durable subscriptions come and go"
[ "$(mon_events "$mon")" = "$MON_WANT" ] || ktap_info "events: $(mon_events "$mon")"

if [ -r "$YNL" ]; then
	out=$(ynl --do queue-add --json '{"name": "ynlq", "kind": "topic",
		"flags": ["persistent"], "max-msgs": 9}' 2>&1) &&
		out=$(ynl --do queue-get --json '{"name": "ynlq"}' 2>&1)
	echo "$out" | jq -e '.kind == "topic" and .["max-msgs"] == 9 and
		(.flags | index("persistent")) and (.flags | index("system")) and
		.stats.depth == 0' >/dev/null &&
		qok q "topic show ynlq" 'rows | .max_msgs == 9 and .persistent' &&
		ynl --do queue-del --json '{"name": "ynlq"}' >/dev/null 2>&1
	ktap_result $? "ynl queue-add, queue-get and queue-del agree with cohortctl"
else
	ktap_skip "ynl queue-add, queue-get and queue-del" "$YNL missing"
fi

# ---- everything goes ----
for n in jobs jobs.dead eph fresh ringq; do
	cl_ctl q queue del "$n" >/dev/null
done
cl_ctl q topic del news >/dev/null
qok q "queue show" 'length == 0' && qok q "topic show" 'length == 0'
ktap_result $? "after del nothing is left"

cl_final_checks
ktap_finish
