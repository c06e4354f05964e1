#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The kernel's own YNL client (tools/net/ynl/cli.py, from the installed
# kernel source) drives cohort through uapi/cohort.yaml: a client none of
# us wrote agrees with cohortctl on what the family says.
#
#   [ root ns ]    [ ns $NS: node 21 "ynl" ]
#      ynl cli.py  --do node-set / node-get, --subscribe events
#
set -u
dir=$(cd "$(dirname "$0")" && pwd)
. "$dir/ktap.sh"
build=${COHORT_BUILD:-$dir/../build}
spec=$dir/../uapi/cohort.yaml
ynl=$build/ynl/tools/net/ynl/cli.py
schema=$build/ynl/Documentation/netlink/genetlink-legacy.yaml
NS=cohort-ynl-$$

[ -r "$ynl" ] || ktap_skip_all "$ynl missing (make selftests extracts it)"

cleanup() {
	ip netns del "$NS" 2>/dev/null
	[ -n "${mon:-}" ] && kill "$mon" 2>/dev/null
}
trap cleanup EXIT

ynl() {
	ip netns exec "$NS" python3 "$ynl" --spec "$spec" --schema "$schema" \
		--output-json "$@"
}

ktap_plan 5
ip netns add "$NS"

out=$(ynl --do node-set --json '{"id": 21, "name": "ynl"}' 2>&1)
if [ $? -eq 0 ]; then ktap_pass "ynl node-set"; else ktap_fail "ynl node-set: $out"; fi

out=$(ynl --do node-get --json '{}')
if [ "$(echo "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["id"], d["name"], d["actors"], d["lamport"])')" = "21 ynl 0 0" ]; then
	ktap_pass "ynl node-get decodes id, name, actors, lamport"
else
	ktap_fail "ynl node-get: $out"
fi

ctl=$(ip netns exec "$NS" "$build/cohortctl" -j node show)
if [ "$(echo "$ctl" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["id"], d["name"])')" = "21 ynl" ]; then
	ktap_pass "cohortctl agrees with ynl"
else
	ktap_fail "cohortctl node show: $ctl"
fi

out=$(ynl --do node-set --json '{"id": 0}' 2>&1)
if [ $? -ne 0 ] && echo "$out" | grep -q "node id"; then
	ktap_pass "ynl sees the extack message for id 0"
else
	ktap_fail "id 0 accepted or no extack: $out"
fi

tmp=$(mktemp)
# Python starts slowly under TCG: give the subscriber time to join.
ip netns exec "$NS" python3 "$ynl" --spec "$spec" --no-schema --output-json \
	--subscribe events --sleep 10 >"$tmp" 2>&1 &
mon=$!
sleep 6
ip netns exec "$NS" "$build/cohortctl" node set name ynl2 >/dev/null
wait "$mon"
mon=
if grep -q '"ynl2"' "$tmp" && grep -q "node-ntf" "$tmp"; then
	ktap_pass "ynl receives node-ntf on the events group"
else
	ktap_fail "no node-ntf seen: $(cat "$tmp")"
fi
rm -f "$tmp"
ktap_finish
