#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unload and reload the module 20 times with handles and netlink in use in
# between, then unload with a namespace that died while a handle in it was
# open. Each unload must find the module unused (refcnt 0) and leave no
# warning in dmesg.
#
#   cycle i = 1..20:
#     rmmod cohort; insmod $COHORT_KO
#     root netns:      node set id 1 name root, actor_id (open/bind/close)
#     netns cl-$$-i:   node set id 100+i, actor_id, node show; netns del
#
#   then:
#     netns cz-$$ (node 200): actor_id --hold    -> rmmod must be refused
#     ip netns del cz-$$; stop the holder         -> refcnt back to 0
#     netns cy-$$ lives across rmmod/insmod       -> fresh node state in it
#
# Runs as root in the test VM. Needs COHORT_KO (path to cohort.ko); the
# module is loaded when this starts and is loaded again when it ends, with
# the root node back at id 1 name root. Binaries come from $COHORT_BUILD
# (default: the build/ directory next to this one).

DIR=$(cd "$(dirname "$0")" && pwd)
. "$DIR/ktap.sh"

BUILD=${COHORT_BUILD:-$DIR/../build}
CTL=$BUILD/cohortctl
ACTOR=$BUILD/selftests/actor_id
CYCLES=20
NSZ=cz-$$
NSY=cy-$$
TMP=
HOLD_PID=
STARTED=
DMESG_BAD="WARNING:|BUG:|KFENCE|Oops|general protection|refcount_t:"
MARK="cohort-selftest load_unload $$ start"

loaded()
{
	[ -e /sys/module/cohort ]
}

root_node()
{
	"$CTL" node set id 1 name root
}

cleanup()
{
	local ns

	if [ -n "$HOLD_PID" ]; then
		kill "$HOLD_PID" 2>/dev/null
		wait "$HOLD_PID" 2>/dev/null
	fi
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		case "$ns" in
		cl-$$-*|"$NSZ"|"$NSY") ip netns del "$ns" ;;
		esac
	done
	# Whatever happened, leave the module loaded and the root node set.
	if [ -n "$STARTED" ] && ! loaded; then
		insmod "$COHORT_KO"
	fi
	[ -n "$STARTED" ] && loaded && root_node >/dev/null 2>&1
	[ -n "$TMP" ] && rm -rf "$TMP"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || ktap_skip_all "needs root"
[ -n "$COHORT_KO" ] && [ -r "$COHORT_KO" ] ||
	ktap_skip_all "set COHORT_KO to the path of cohort.ko"
command -v ip >/dev/null || ktap_skip_all "needs iproute2"
[ -x "$CTL" ] || ktap_skip_all "missing $CTL (build first)"
[ -x "$ACTOR" ] || ktap_skip_all "missing $ACTOR (build first)"
TMP=$(mktemp -d) || ktap_skip_all "mktemp failed"
LOG=$TMP/log
STARTED=1

# Run a step quietly; show its output as diagnostics if it fails.
step()
{
	"$@" >"$LOG" 2>&1 && return 0
	ktap_info "failed: $*"
	sed 's/^/#   /' "$LOG"
	return 1
}

# refcnt_zero [SECONDS]: wait for the module's use count to drop to 0.
refcnt_zero()
{
	local i

	for i in $(seq $((${1:-5} * 10))); do
		[ "$(cat /sys/module/cohort/refcnt 2>/dev/null)" = 0 ] && return 0
		sleep 0.1
	done
	ktap_info "refcnt is $(cat /sys/module/cohort/refcnt 2>/dev/null)"
	return 1
}

# actor_on NODE [NS]: a fresh actor (in NS, if given) is on NODE.
actor_on()
{
	local out

	if [ -n "$2" ]; then
		out=$(ip netns exec "$2" "$ACTOR" 2>&1)
	else
		out=$("$ACTOR" 2>&1)
	fi || { ktap_info "actor_id: $out"; return 1; }
	[ "${out#* }" = "$1" ] && [ $((${out% *} >> 32)) -eq "$1" ] && return 0
	ktap_info "actor '$out' is not on node $1"
	return 1
}

unload()
{
	refcnt_zero && step rmmod cohort && ! loaded
}

cycle()
{
	local i=$1 ns=cl-$$-$1

	unload || return 1
	step insmod "$COHORT_KO" || return 1
	step root_node && actor_on 1 && step "$CTL" node show || return 1
	step ip netns add "$ns" &&
		step ip netns exec "$ns" "$CTL" node set id $((100 + i)) name "n$i" &&
		actor_on $((100 + i)) "$ns" &&
		step ip netns exec "$ns" "$CTL" node show
	local rc=$?

	step ip netns del "$ns" || rc=1
	return $rc
}

# start_hold NS: an actor in NS that keeps its handle open.
start_hold()
{
	local i

	ip netns exec "$1" "$ACTOR" --hold >"$TMP/hold" 2>&1 &
	HOLD_PID=$!
	for _ in $(seq 50); do
		[ -s "$TMP/hold" ] && return 0
		sleep 0.1
	done
	ktap_info "held actor did not start: $(cat "$TMP/hold")"
	return 1
}

stop_hold()
{
	local rc

	kill -TERM "$HOLD_PID" && wait "$HOLD_PID"
	rc=$?
	HOLD_PID=
	return $rc
}

if ! loaded; then
	ktap_info "module was not loaded; loading $COHORT_KO"
	insmod "$COHORT_KO" || ktap_skip_all "insmod $COHORT_KO failed"
fi

ktap_plan $((CYCLES + 10))
echo "$MARK" >/dev/kmsg

for i in $(seq "$CYCLES"); do
	cycle "$i"
	ktap_result $? "unload/load cycle $i with handles and netlink in root and netns"
done

# A handle open in a namespace pins the module, whatever the namespace does.
step ip netns add "$NSZ" && step ip netns exec "$NSZ" "$CTL" node set id 200 name z &&
	start_hold "$NSZ" && [ "$(cat /sys/module/cohort/refcnt)" -gt 0 ] &&
	! rmmod cohort 2>/dev/null && loaded
ktap_result $? "rmmod refused while a handle is open in a namespace"

step ip netns del "$NSZ" && stop_hold
ktap_result $? "delete the namespace with the handle open, then close it"

refcnt_zero 10
ktap_result $? "module use count back to 0"

# A namespace that exists across the reload must start from a clean node.
step ip netns add "$NSY" && step ip netns exec "$NSY" "$CTL" node set id 300 name y &&
	step rmmod cohort && ! loaded
ktap_result $? "rmmod with a namespace that had a node id"

step insmod "$COHORT_KO"
ktap_result $? "insmod again"

! ip netns exec "$NSY" "$ACTOR" >/dev/null 2>&1
ktap_result $? "node of a surviving namespace has no id after reload"

step ip netns exec "$NSY" "$CTL" node set id 301 name y2 && actor_on 301 "$NSY"
ktap_result $? "surviving namespace gets a node id after reload"

step root_node && actor_on 1
ktap_result $? "root node back at id 1 name root"

step ip netns del "$NSY"
left=$(ip netns list | awk '{print $1}' | grep -E "^(cl-$$-|$NSZ$|$NSY$)")
[ -z "$left" ] || ktap_info "left behind: $left"
[ -z "$left" ]
ktap_result $? "every namespace created was deleted"

sleep 1
trouble=$(dmesg | sed -n "/$MARK/,\$p" | grep -E "$DMESG_BAD")
[ -z "$trouble" ] || ktap_info "$trouble"
[ -z "$trouble" ]
ktap_result $? "dmesg has no warning, bug or oops"

ktap_finish
