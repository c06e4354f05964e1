#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Batched queue frames across nodes: PUB and DELIVER frames carry many
# messages each. Producers on other nodes than the queue's home send
# thousands of messages of mixed sizes (16 bytes to the 16 KiB maximum,
# odd lengths, several full-size ones in every batch) in large batches;
# consumers on other nodes check that every message arrives once, in
# order, with the length and contents it was sent with. A run of tiny
# messages must take far fewer frames than messages.
#
#   a (91) ======= link 1 ======= b (92) ======= link 2 ======= c (93)
#   producers; consumer         mix and tiny live here     consumer of mix
#   of far (2 hops)             (1 hop from a and c)       and tiny; far
#                                                          lives here
#
# Consumers print one line per message (qtool); "-s mixed" makes both ends
# derive each message's length from its sequence number.

DIR=$(cd "$(dirname "$0")" && pwd)
. "$DIR/ktap.sh"
. "$DIR/lib_cluster.sh"

cl_init qbat
. "$DIR/lib_queue.sh"

# exact TAG N: N messages, sequences 1..N each once, in order, none bad
# and none delivered twice.
exact()
{
	[ "$(field "$1" distinct)" = "$2" ] && [ "$(field "$1" dups)" = 0 ] &&
		[ "$(field "$1" bad)" = 0 ] &&
		[ "$(field "$1" redelivered)" = 0 ] &&
		msgs "$1" | awk -v n="$2" '$1 != NR { bad = 1 } END { exit bad || NR != n }'
}

ktap_plan 13

# ---- the cluster ----
rc=0
for n in a b c; do
	cl_node "$n" $((91 + ${#CL_NODES[@]})) || rc=1
done
cl_link a b && cl_link b c || rc=1
[ $rc = 0 ] && cl_wait 60 cl_all_up a b c && cl_wait 30 cl_all_reachable a b c
ktap_result $? "line a-b-c converged (${CL_WAITED} ms)"

# ---- 1: mixed sizes, producer a and consumer c, home b; with acks ----
N=3000
qt b produce mix@92 0 --create persistent >/dev/null 2>&1 &&
	bgq c mix-c consume mix $N -s mixed -b 256 -t 30000 && opened mix-c &&
	bgq a mix-a produce mix@92 $N -s mixed -b 200 -W 120000 && finish mix-a
ktap_result $? "a sends $N of mixed sizes (16 B to 16 KiB) to mix@92 in batches of 200"
finish mix-c && exact mix-c $N
ktap_result $? "c gets all $N once each, in order, each with its length and contents"
cl_wait 10 drained b mix && [ "$(qstat b mix enqueued)" = $N ] &&
	[ "$(qstat b mix acked)" = $N ]
ktap_result $? "mix at its home: $N enqueued and acked, nothing left (enqueued $(qstat b mix enqueued), acked $(qstat b mix acked))"

# ---- 2: two hops each way (relayed by b), no acks, largest batches ----
N=2000
qt c produce far@93 0 --create persistent >/dev/null 2>&1 &&
	bgq a far-r consume far $N -s mixed -a none -b 1024 -t 30000 &&
	opened far-r &&
	bgq a far-p produce far@93 $N -s mixed -b 1024 -W 120000 && finish far-p
ktap_result $? "a sends $N of mixed sizes to far@93, two hops away, 1024 per call"
finish far-r && exact far-r $N && cl_wait 10 drained c far
ktap_result $? "a's consumer of far (no acks) gets all $N once each, in order, intact"

# ---- 3: tiny messages share frames ----
N=4096
f0=$(cl_lstat a b tx_frames)
d0=$(cl_lstat b c tx_frames)
qt b produce tiny@92 0 --create persistent >/dev/null 2>&1 &&
	bgq c tiny-c consume tiny $N -s 16 -b 256 -t 30000 && opened tiny-c &&
	bgq a tiny-a produce tiny@92 $N -s 16 -b 256 -W 120000 && finish tiny-a &&
	finish tiny-c && exact tiny-c $N
ktap_result $? "$N 16-byte messages from a through tiny@92 to c, all once, in order"
f1=$(cl_lstat a b tx_frames)
d1=$(cl_lstat b c tx_frames)
pub=$((f1 - f0))
dlv=$((d1 - d0))
ktap_info "frames a->b (PUB) $pub, b->c (DELIVER) $dlv for $N messages"
[ -n "$f0" ] && [ -n "$f1" ] && [ "$pub" -gt 0 ] && [ "$pub" -le $((N / 8)) ]
ktap_result $? "the publishes took $pub frames a->b for $N messages (at most $((N / 8)))"
[ -n "$d0" ] && [ -n "$d1" ] && [ "$dlv" -gt 0 ] && [ "$dlv" -lt $N ]
ktap_result $? "the deliveries took $dlv frames b->c for $N messages (fewer than one each)"

# ---- 4: into a ring at the home, from two producers ----
# Publishes for a consumer that reads a ring on the home node go straight
# into its ring while the store is empty, and through the store when the
# ring is full: neither way may lose, repeat or reorder one.
N=1500
qt b produce mixr@92 0 --create persistent >/dev/null 2>&1 &&
	bgq b mixr-b consume mixr $((2 * N)) -s mixed -a none -b 256 \
		-r 1048576 -t 30000 && opened mixr-b &&
	bgq a mixr-a produce mixr@92 $N -s mixed -b 100 -W 120000 &&
	bgq c mixr-c produce mixr@92 $N -s mixed -b 100 -W 120000 &&
	finish mixr-a && finish mixr-c
ktap_result $? "a and c send $N each of mixed sizes to mixr@92, read through a ring on b"
finish mixr-b && [ "$(field mixr-b distinct)" = $((2 * N)) ] &&
	[ "$(field mixr-b dups)" = 0 ] && [ "$(field mixr-b bad)" = 0 ] &&
	msgs mixr-b | awk '$1 <= last[$2] { bad = 1 } { last[$2] = $1 }
		END { exit bad }' && cl_wait 10 drained b mixr
ktap_result $? "b's ring consumer gets all $((2 * N)) once each, in order per producer, intact"

cl_final_checks
ktap_finish
