#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# cohortctl as a user sees it: help, exit codes, messages that say what was
# wrong, JSON output, privilege checks and the live monitor.
#
#   [ ns $NS: node 31 "ctl" ]   cohortctl as root and as uid 65534
#
set -u
dir=$(cd "$(dirname "$0")" && pwd)
. "$dir/ktap.sh"
build=${COHORT_BUILD:-$dir/../build}
NS=cohort-ctl-$$

cleanup() {
	[ -n "${mon:-}" ] && kill "$mon" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -f "${tmp:-}"
}
trap cleanup EXIT

ctl() {
	ip netns exec "$NS" "$build/cohortctl" "$@"
}

ktap_plan 12
ip netns add "$NS"
tmp=$(mktemp)

ktap_expect 0 "Usage: cohortctl" ctl help
ktap_result $? "help prints usage and exits 0"
ktap_expect 0 "node set \[ id ID \]" ctl node help
ktap_result $? "node help documents set"
ktap_expect 1 'unknown argument "colour"' ctl node set colour red
ktap_result $? "unknown keyword named in the error, exit 1"
ktap_expect 1 "id" ctl node set id 0
ktap_result $? "id 0 refused before reaching the kernel"
ktap_expect 1 "id" ctl node set id 4294967296
ktap_result $? "id out of range refused"
ktap_expect 1 "name" ctl node set name "a b"
ktap_result $? "bad name refused with a message naming it"

ctl node set id 31 name ctl >/dev/null
ktap_expect 0 '^node 31 name ctl actors 0 lamport 0' ctl node show
ktap_result $? "node show in text"
json=$(ctl -j node show)
echo "$json" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert (d["id"], d["name"], d["actors"], d["vclock"]) == (31, "ctl", 0, [])' 2>/dev/null
ktap_result $? "node show -j is valid JSON with the node's fields"

ktap_expect 1 "Operation not permitted|CAP_NET_ADMIN" \
	ip netns exec "$NS" setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$build/cohortctl" node set id 32
ktap_result $? "unprivileged node set refused"
ktap_expect 0 "^node 31 " ip netns exec "$NS" setpriv --reuid=65534 --regid=65534 \
	--clear-groups "$build/cohortctl" node show
ktap_result $? "unprivileged node show allowed"

ctl -j monitor -c 1 >"$tmp" 2>&1 &
mon=$!
sleep 1
ctl node set name ctl2 >/dev/null
for _ in $(seq 50); do
	kill -0 "$mon" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$mon" 2>/dev/null && kill "$mon"
python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).readline()); assert d["name"] == "ctl2" and d["id"] == 31' "$tmp" 2>/dev/null
ktap_result $? "monitor -j prints the node change"
wait "$mon" 2>/dev/null
ktap_result $? "monitor -c 1 exits 0 after one event"
mon=
ktap_finish
