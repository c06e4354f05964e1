#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Actors on two nodes (two network namespaces) get distinct ids whose high
# 32 bits are their node's id, and deleting a namespace while a handle in
# it is still open leaves nothing broken behind.
#
#   +----------------------------+         +----------------------------+
#   | netns ca-$$                |         | netns cb-$$                |
#   | node id 11, name n11       |         | node id 12, name n12       |
#   |                            |  veth   |                            |
#   | vca 198.18.0.1/24 ---------+---------+- vcb 198.18.0.2/24         |
#   |                            |         |                            |
#   | actor_id x2, actor_id      |         | actor_id                   |
#   |   --hold (deleted with it) |         |                            |
#   +----------------------------+         +----------------------------+
#   netns cc-$$: node 13, a handle held by a process that has moved back
#   to the initial namespace, so the handle is all that is left of it.
#
# Needs root and the module loaded. Binaries come from $COHORT_BUILD
# (default: the build/ directory next to this one).

DIR=$(cd "$(dirname "$0")" && pwd)
. "$DIR/ktap.sh"

BUILD=${COHORT_BUILD:-$DIR/../build}
CTL=$BUILD/cohortctl
ACTOR=$BUILD/selftests/actor_id
NSA=ca-$$
NSB=cb-$$
NSC=cc-$$
TMP=
HOLD_PIDS=()
DMESG_BAD="WARNING:|BUG:|KFENCE|Oops|general protection|refcount_t:"
MARK="cohort-selftest netns_actors $$ start"

cleanup()
{
	local pid ns

	for pid in "${HOLD_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	for ns in "$NSA" "$NSB" "$NSC"; do
		ip netns del "$ns" 2>/dev/null
	done
	[ -n "$TMP" ] && rm -rf "$TMP"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || ktap_skip_all "needs root"
command -v ip >/dev/null || ktap_skip_all "needs iproute2"
[ -x "$CTL" ] || ktap_skip_all "missing $CTL (build first)"
[ -x "$ACTOR" ] || ktap_skip_all "missing $ACTOR (build first)"
[ -e /dev/cohort ] || ktap_skip_all "/dev/cohort missing: module not loaded"
TMP=$(mktemp -d) || ktap_skip_all "mktemp failed"

# Lines the kernel logged since our marker that look like trouble.
dmesg_mark()
{
	echo "$MARK" >/dev/kmsg 2>/dev/null
}

dmesg_new_trouble()
{
	dmesg | sed -n "/$MARK/,\$p" | grep -E "$DMESG_BAD"
}

# ns_node NS ID NAME: give the namespace's node an id and a name.
ns_node()
{
	ip netns exec "$1" "$CTL" node set id "$2" name "$3"
}

# actor_in NS: print "ACTOR NODE" of a fresh actor in NS.
actor_in()
{
	ip netns exec "$1" "$ACTOR"
}

# check_actor "ACTOR NODE" NODE: the actor lives on NODE.
check_actor()
{
	local actor=${1% *} node=${1#* }

	[ -n "$actor" ] && [ "$node" = "$2" ] || {
		ktap_info "actor '$1' is not on node $2"
		return 1
	}
	[ $((actor >> 32)) -eq "$2" ] || {
		ktap_info "actor $actor: high 32 bits $((actor >> 32)), want $2"
		return 1
	}
}

# start_hold NS FILE [--leave-netns]: a held actor; its pid is appended
# to HOLD_PIDS once it printed its id into FILE.
start_hold()
{
	local ns=$1 out=$2
	shift 2

	ip netns exec "$ns" "$ACTOR" --hold "$@" >"$out" 2>&1 &
	HOLD_PIDS+=($!)
	for _ in $(seq 50); do
		[ -s "$out" ] && return 0
		sleep 0.1
	done
	ktap_info "held actor in $ns did not start: $(cat "$out")"
	return 1
}

# stop_hold PID FILE: end a held actor; it must exit cleanly.
stop_hold()
{
	kill -TERM "$1" && wait "$1"
	local rc=$?

	ktap_info "held actor said: $(tr '\n' ' ' <"$2")"
	return $rc
}

ns_exists()
{
	ip netns list | grep -qw "$1"
}

ktap_plan 12
dmesg_mark

ip netns add "$NSA" && ip netns add "$NSB" && ip netns add "$NSC" &&
	ip link add vca netns "$NSA" type veth peer name vcb netns "$NSB" &&
	ip -n "$NSA" addr add 198.18.0.1/24 dev vca &&
	ip -n "$NSB" addr add 198.18.0.2/24 dev vcb &&
	ip -n "$NSA" link set vca up && ip -n "$NSB" link set vcb up
ktap_result $? "create namespaces and veth pair"

ns_node "$NSA" 11 n11 && ns_node "$NSB" 12 n12 && ns_node "$NSC" 13 n13
ktap_result $? "set node ids 11, 12 and 13 with cohortctl"

A1=$(actor_in "$NSA") && check_actor "$A1" 11
ktap_result $? "actor in $NSA is on node 11 ($A1)"

B1=$(actor_in "$NSB") && check_actor "$B1" 12
ktap_result $? "actor in $NSB is on node 12 ($B1)"

[ -n "$A1" ] && [ "${A1% *}" != "${B1% *}" ]
ktap_result $? "actors on two nodes have distinct ids"

A2=$(actor_in "$NSA") && check_actor "$A2" 11 && [ "${A2% *}" != "${A1% *}" ]
ktap_result $? "two actors on one node have distinct ids ($A2)"

# The root namespace is untouched by what the others set.
R=$("$ACTOR") && [ "${R#* }" != 11 ] && [ "${R#* }" != 12 ]
ktap_result $? "root namespace keeps its own node id ($R)"

# A handle whose process still lives in the namespace: `ip netns del`
# only drops the name, the namespace dies when the process exits.
start_hold "$NSA" "$TMP/hold-a" && ip netns del "$NSA" &&
	stop_hold "${HOLD_PIDS[0]}" "$TMP/hold-a"
ktap_result $? "delete $NSA with a handle open, then close it"

# A handle whose process left: the handle is all that refers to the node.
start_hold "$NSC" "$TMP/hold-c" --leave-netns && ip netns del "$NSC" &&
	sleep 1 && stop_hold "${HOLD_PIDS[1]}" "$TMP/hold-c"
ktap_result $? "delete $NSC while only a handle refers to it, then close it"

ip netns del "$NSB"
ktap_result $? "delete $NSB"

# Namespace teardown runs from a workqueue: give it a moment.
sleep 2
left=""
for ns in "$NSA" "$NSB" "$NSC"; do
	ns_exists "$ns" && left="$left $ns"
done
[ -z "$left" ] && ! ip link show vca >/dev/null 2>&1
ktap_result $? "every namespace and link created was deleted${left:+ (left:$left)}"

trouble=$(dmesg_new_trouble)
[ -z "$trouble" ] || ktap_info "$trouble"
[ -z "$trouble" ]
ktap_result $? "dmesg has no warning, bug or oops"

ktap_finish
