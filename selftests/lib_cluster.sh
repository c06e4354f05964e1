#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Cluster helpers for the transport scenarios (transport_*.sh): source it
# after ktap.sh. A node is a network namespace; a link is a veth pair with a
# /24 of its own from 198.18.0.0/15; peers are configured on both ends.
#
#   cl_init TAG [netem]		skip (exit 4) without root, iproute2, jq, the
#				built tools or the module ("netem": also tc
#				netem); temp dir $CL_TMP, dmesg mark,
#				trap cl_cleanup EXIT
#   cl_node NAME ID		namespace "$TAG-$$-NAME" (lo up), node ID
#				named NAME
#   cl_hb NAME MS TOL		heartbeat interval and tolerance of NAME
#   cl_veth A B			link L (1, 2, ... in call order): "to-B" in A
#				with 198.18.L.1/24, "to-A" in B with
#				198.18.L.2/24, both up
#   cl_peer A B			"peer add" on both ends of the link A-B
#   cl_link A B			cl_veth, then cl_peer
#   cl_ifup/cl_ifdown A B	set A's end of the link A-B up or down
#   cl_netem A B SPEC...	tc netem on A's end of the link A-B
#   cl_ctl NAME ARGS...		cohortctl in NAME's namespace
#   cl_json NAME ARGS...	cohortctl -j in NAME's namespace
#   cl_q NAME "ARGS" FILTER [JQ OPTS...]
#				jq FILTER (with the defs of $CL_JQ_DEFS) over
#				cohortctl -j ARGS in NAME; prints the result,
#				fails when it is false, null or empty
#   cl_link_state A B		state of A's link to B ("up", ...)
#   cl_member A B		"STATE NEXT_HOP HOPS" of B as A sees it
#   cl_members A		"ID STATE NEXT_HOP HOPS" of every other node A
#				knows, sorted by id ("-" for an absent field)
#   cl_stat NAME KEY		node-wide counter KEY (node show -s)
#   cl_lstat A B KEY		counter KEY of A's link to B (link show -s)
#   cl_all_up NAMES...		every configured link of every NAME is up
#   cl_all_reachable NAMES...	every NAME sees every other NAME reachable
#   cl_wait SECS CMD...		retry CMD every 50 ms until it succeeds or
#				SECS pass; $CL_WAITED: ms taken
#   cl_bg NAME OUT CMD...	CMD in NAME's namespace in the background,
#				stdout to OUT, stderr to OUT.err; $CL_BG: pid
#   cl_monitor NAME FILE	cohortctl -j monitor in NAME, each line
#				prefixed with the wall clock in microseconds
#				when it was read; returns once the monitor
#				is seen receiving events
#   cl_mon_first FILE SINCE_US FILTER
#				time stamp (us) of the first event at or after
#				SINCE_US for which jq FILTER is true
#   cl_mon_order FILE		problems with the order of the link and
#				member events in FILE (prints nothing if none)
#   cl_us			$CL_US = wall clock now, in microseconds
#   cl_stop PID			kill PID and reap it
#   cl_teardown			stop every background process, delete every
#				namespace; fails if something would not go
#   cl_gone			every namespace created is deleted and every
#				background process is gone
#   cl_dmesg_trouble		kernel lines since cl_init that look bad
#
# Run directly (not sourced), it tests its own parsers on canned input and
# prints KTAP: no module needed.

export LC_ALL=C

CL_DIR=${CL_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
CL_BUILD=${COHORT_BUILD:-$CL_DIR/../build}
CL_CTL=$CL_BUILD/cohortctl
CL_MSGSEQ=$CL_BUILD/selftests/msgseq
CL_TAG=
CL_PREFIX=
CL_TMP=
CL_NLINKS=0
CL_US=0
CL_WAITED=0
CL_BG=
CL_NODES=()			# node names, in creation order
CL_PIDS=()			# background processes
declare -A CL_NS		# name -> namespace
declare -A CL_ID		# name -> node id
declare -A CL_LINK		# "a:b" and "b:a" -> link number
declare -A CL_PEERS		# name -> space-separated peer names
CL_DMESG_BAD="WARNING:|BUG:|KFENCE|Oops|general protection|refcount_t:|kmemleak|slab error|Poison overwritten|list_add corruption|list_del corruption|soft lockup|hung_task|blocked for more than"
CL_MARK=

# Normalise what cohortctl prints: a list of rows may come bare or as the
# one array member of an object.
CL_JQ_DEFS='
def rows: if type == "array" then .[]
	elif type == "object" then ([.[] | arrays] | first // []) | .[]
	else empty end;
def nz: if . == null then "-" else tostring end;
'

cl_us()
{
	CL_US=${EPOCHREALTIME/[.,]/}
}

cl_init()
{
	CL_TAG=$1
	CL_PREFIX=$1-$$
	trap cl_cleanup EXIT

	[ "$(id -u)" = 0 ] || ktap_skip_all "needs root"
	command -v ip >/dev/null || ktap_skip_all "needs iproute2"
	command -v jq >/dev/null || ktap_skip_all "needs jq"
	[ -n "$EPOCHREALTIME" ] || ktap_skip_all "needs bash 5 (EPOCHREALTIME)"
	[ -x "$CL_CTL" ] || ktap_skip_all "missing $CL_CTL (build first)"
	[ -e /sys/module/cohort ] || ktap_skip_all "module cohort not loaded"
	CL_TMP=$(mktemp -d) || ktap_skip_all "mktemp failed"
	if [ "${2:-}" = netem ]; then
		command -v tc >/dev/null || ktap_skip_all "needs tc"
		ip netns add "$CL_PREFIX-probe" &&
			ip -n "$CL_PREFIX-probe" link set lo up &&
			tc -n "$CL_PREFIX-probe" qdisc add dev lo root netem delay 1ms \
				2>/dev/null
		local rc=$?

		ip netns del "$CL_PREFIX-probe" 2>/dev/null
		[ $rc -eq 0 ] || ktap_skip_all "tc netem is not available"
	fi
	CL_MARK="cohort-selftest $CL_TAG $$ start"
	echo "$CL_MARK" >/dev/kmsg 2>/dev/null
}

cl_stop()
{
	[ -n "$1" ] || return 0
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

cl_teardown()
{
	local pid n rc=0

	for pid in "${CL_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${CL_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	for n in "${CL_NODES[@]}"; do
		if [ -e "/run/netns/${CL_NS[$n]}" ]; then
			ip netns del "${CL_NS[$n]}" || rc=1
		fi
	done
	return $rc
}

cl_cleanup()
{
	cl_teardown 2>/dev/null
	[ -n "$CL_TMP" ] && rm -rf "$CL_TMP"
}

# Namespaces, links, background processes: all gone?
cl_gone()
{
	local n pid left=

	for n in "${CL_NODES[@]}"; do
		ip netns list | awk '{print $1}' | grep -qxF "${CL_NS[$n]}" &&
			left="$left ${CL_NS[$n]}"
	done
	for pid in "${CL_PIDS[@]}"; do
		kill -0 "$pid" 2>/dev/null && left="$left pid:$pid"
	done
	ip netns list | awk '{print $1}' | grep -q "^$CL_PREFIX-" &&
		left="$left $(ip netns list | awk '{print $1}' | grep "^$CL_PREFIX-" | tr '\n' ' ')"
	[ -z "$left" ] && return 0
	ktap_info "left behind:$left"
	return 1
}

cl_dmesg_trouble()
{
	dmesg | sed -n "/$CL_MARK/,\$p" | grep -E "$CL_DMESG_BAD"
}

# The last two results of every scenario.
cl_final_checks()
{
	local trouble

	cl_teardown
	sleep 1
	cl_gone
	ktap_result $? "every namespace, link and process created is gone"
	trouble=$(cl_dmesg_trouble)
	[ -z "$trouble" ] || ktap_info "$trouble"
	[ -z "$trouble" ]
	ktap_result $? "dmesg has no warning, bug or oops"
}

# Run a command quietly; show what it said if it fails.
cl_step()
{
	local out

	out=$("$@" 2>&1) && return 0
	ktap_info "failed: $*"
	[ -n "$out" ] && echo "$out" | sed 's/^/#   /'
	return 1
}

cl_ctl()
{
	local n=$1

	shift
	ip netns exec "${CL_NS[$n]}" "$CL_CTL" "$@"
}

cl_json()
{
	local n=$1

	shift
	ip netns exec "${CL_NS[$n]}" "$CL_CTL" -j "$@"
}

cl_q()
{
	local n=$1 args=$2 filter=$3 out

	shift 3
	# shellcheck disable=SC2086
	out=$(cl_json "$n" $args 2>/dev/null) || return 1
	printf '%s' "$out" | jq -e -r "$@" "$CL_JQ_DEFS $filter" 2>/dev/null
}

cl_node()
{
	local n=$1 id=$2 ns=$CL_PREFIX-$1

	CL_NS[$n]=$ns
	CL_ID[$n]=$id
	CL_NODES+=("$n")
	cl_step ip netns add "$ns" &&
		cl_step ip -n "$ns" link set lo up &&
		cl_step cl_ctl "$n" node set id "$id" name "$n"
}

cl_hb()
{
	cl_step cl_ctl "$1" node set hb-interval "$2" tolerance "$3"
}

# cl_addr A B: A's address on the link A-B.
cl_addr()
{
	local l=${CL_LINK[$1:$2]} a b

	[ -n "$l" ] || return 1
	# The first node named when the link was made has .1.
	read -r a b <<<"${CL_LINK[$l]}"
	if [ "$1" = "$a" ]; then
		echo "198.18.$l.1"
	else
		echo "198.18.$l.2"
	fi
}

cl_veth()
{
	local a=$1 b=$2 l

	CL_NLINKS=$((CL_NLINKS + 1))
	l=$CL_NLINKS
	CL_LINK[$a:$b]=$l
	CL_LINK[$b:$a]=$l
	CL_LINK[$l]="$a $b"
	cl_step ip link add "to-$b" netns "${CL_NS[$a]}" type veth \
			peer name "to-$a" netns "${CL_NS[$b]}" &&
		cl_step ip -n "${CL_NS[$a]}" addr add "198.18.$l.1/24" dev "to-$b" &&
		cl_step ip -n "${CL_NS[$b]}" addr add "198.18.$l.2/24" dev "to-$a" &&
		cl_step ip -n "${CL_NS[$a]}" link set "to-$b" up &&
		cl_step ip -n "${CL_NS[$b]}" link set "to-$a" up
}

cl_peer()
{
	local a=$1 b=$2

	CL_PEERS[$a]="${CL_PEERS[$a]} $b"
	CL_PEERS[$b]="${CL_PEERS[$b]} $a"
	cl_step cl_ctl "$a" peer add id "${CL_ID[$b]}" addr "$(cl_addr "$b" "$a")" &&
		cl_step cl_ctl "$b" peer add id "${CL_ID[$a]}" addr "$(cl_addr "$a" "$b")"
}

cl_link()
{
	cl_veth "$1" "$2" && cl_peer "$1" "$2"
}

cl_ifdown()
{
	cl_step ip -n "${CL_NS[$1]}" link set "to-$2" down
}

cl_ifup()
{
	cl_step ip -n "${CL_NS[$1]}" link set "to-$2" up
}

cl_netem()
{
	local a=$1 b=$2

	shift 2
	cl_step tc -n "${CL_NS[$a]}" qdisc replace dev "to-$b" root netem "$@"
}

cl_link_state()
{
	cl_q "$1" "link show" 'first(rows | select(.id == $id) | .state)' \
		--argjson id "${CL_ID[$2]}"
}

cl_member()
{
	cl_q "$1" "member show" \
		'first(rows | select(.id == $id) | "\(.state) \(.next_hop | nz) \(.hops | nz)")' \
		--argjson id "${CL_ID[$2]}"
}

cl_members()
{
	cl_q "$1" "member show" \
		'[rows | select(.state != "self")] | sort_by(.id) | .[] | "\(.id) \(.state) \(.next_hop | nz) \(.hops | nz)"'
}

cl_stat()
{
	cl_q "$1" "node show -s" '.stats[$k]' --arg k "$2"
}

# cl_lstat A B FIELD: A's counter FIELD of its link to B, a node of the
# cluster or a peer's id
cl_lstat()
{
	cl_q "$1" "link show -s" 'first(rows | select(.id == $id) | .stats[$k])' \
		--argjson id "${CL_ID[$2]:-$2}" --arg k "$3"
}

# cl_is_link A B STATE, cl_is_member A B STATE: for cl_wait.
cl_is_link()
{
	[ "$(cl_link_state "$1" "$2")" = "$3" ]
}

cl_is_member()
{
	local m

	m=$(cl_member "$1" "$2") || return 1
	[ "${m%% *}" = "$3" ]
}

# cl_ids NAMES...: their node ids as a JSON array.
cl_ids()
{
	local n out=

	for n in "$@"; do
		out="$out${out:+,}${CL_ID[$n]}"
	done
	echo "[$out]"
}

cl_all_up()
{
	local n p

	for n in "$@"; do
		# shellcheck disable=SC2086
		p=$(cl_ids ${CL_PEERS[$n]})
		cl_q "$n" "link show" \
			'[rows | select(.state == "up") | .id] as $up | ($want - $up) == []' \
			--argjson want "$p" >/dev/null || return 1
	done
}

cl_all_reachable()
{
	local n m others

	for n in "$@"; do
		others=()
		for m in "$@"; do
			[ "$m" = "$n" ] || others+=("$m")
		done
		cl_q "$n" "member show" \
			'[rows | select(.state == "reachable") | .id] as $r |
			 ($want - $r) == [] and
			 ([rows | select(.state == "self") | .id] == [$self])' \
			--argjson want "$(cl_ids "${others[@]}")" \
			--argjson self "${CL_ID[$n]}" >/dev/null || return 1
	done
}

cl_wait()
{
	local secs=$1 start

	shift
	cl_us
	start=$CL_US
	while :; do
		if "$@"; then
			cl_us
			CL_WAITED=$(((CL_US - start) / 1000))
			return 0
		fi
		cl_us
		if [ $((CL_US - start)) -ge $((secs * 1000000)) ]; then
			CL_WAITED=$(((CL_US - start) / 1000))
			return 1
		fi
		sleep 0.05
	done
}

cl_bg()
{
	local n=$1 out=$2

	shift 2
	ip netns exec "${CL_NS[$n]}" "$@" >"$out" 2>"$out.err" &
	CL_BG=$!
	CL_PIDS+=("$CL_BG")
}

# Wait for a line matching PATTERN in FILE (e.g. "# bound port").
cl_wait_file()
{
	cl_wait "${3:-10}" grep -q -- "$2" "$1"
}

cl_stamp()
{
	local line

	while IFS= read -r line; do
		printf '%s %s\n' "${EPOCHREALTIME/[.,]/}" "$line"
	done
}

cl_monitor()
{
	local n=$1 file=$2 i

	: >"$file"
	ip netns exec "${CL_NS[$n]}" "$CL_CTL" -j monitor \
		> >(cl_stamp >"$file") 2>"$file.err" &
	CL_BG=$!
	CL_PIDS+=("$CL_BG")
	# Subscribed once a node event of ours shows up; setting the name it
	# already has is such an event.
	for i in $(seq 40); do
		cl_ctl "$n" node set name "$n" >/dev/null 2>&1
		sleep 0.25
		grep -q '"event": *"node"' "$file" && return 0
		kill -0 "$CL_BG" 2>/dev/null || break
	done
	ktap_info "monitor in $n did not start: $(cat "$file.err")"
	return 1
}

CL_JQ_MON='
capture("^(?<ts>[0-9]+) (?<j>.*)$") | (.ts | tonumber) as $ts |
(.j | fromjson? // empty) as $e | {ts: $ts, e: $e}'

cl_mon_first()
{
	jq -R -r --argjson since "$2" \
		"$CL_JQ_DEFS $CL_JQ_MON | select(.ts >= \$since) | select(.e | $3) | .ts" \
		"$1" 2>/dev/null | head -n 1 | grep .
}

# cl_mon_wait SECS FILE SINCE_US FILTER: wait for such an event; $CL_T: its
# time stamp.
cl_mon_wait()
{
	local secs=$1

	shift
	CL_T=0
	cl_wait "$secs" cl_mon_has "$@" || return 1
	CL_T=$(cl_mon_first "$@")
}

cl_mon_has()
{
	cl_mon_first "$@" >/dev/null
}

# Order rules for a fault-free start: a link goes (down ->) (connecting
# ->) up and reports no state twice in a row and no down after up; a member
# is reported reachable only through a next hop whose link was reported up
# before, and never unreachable after that.
cl_mon_order()
{
	jq -R -s -r "$CL_JQ_DEFS"'
	[split("\n")[] | select(length > 0) |
	 capture("^(?<ts>[0-9]+) (?<j>.*)$") | .j | fromjson? // empty] |
	reduce .[] as $e ({link: {}, mem: {}, bad: []};
		($e.id | tostring) as $k |
		if $e.event == "link" then
			if .link[$k] == $e.state then
				.bad += ["link \($k): state \($e.state) twice in a row"]
			elif .link[$k] == "up" and $e.state == "down" then
				.bad += ["link \($k): down after up"]
			elif $e.state != "down" and $e.state != "connecting" and
			     $e.state != "up" then
				.bad += ["link \($k): unknown state \($e.state)"]
			else . end |
			.link[$k] = $e.state
		elif $e.event == "member" then
			if $e.state == "reachable" then
				if $e.next_hop == null or
				   .link[$e.next_hop | tostring] != "up" then
					.bad += ["member \($k) reachable via \($e.next_hop | nz) before that link was up"]
				else . end
			elif $e.state == "unreachable" and .mem[$k] == "reachable" then
				.bad += ["member \($k): unreachable after reachable"]
			else . end |
			.mem[$k] = $e.state
		else . end) |
	.bad[]' "$1"
}

# cl_mon_final FILE: "link ID STATE" and "member ID STATE" lines, the last
# state each was reported in, sorted.
cl_mon_final()
{
	jq -R -s -r '
	[split("\n")[] | select(length > 0) |
	 capture("^(?<ts>[0-9]+) (?<j>.*)$") | .j | fromjson? // empty |
	 select(.event == "link" or .event == "member")] |
	reduce .[] as $e ({}; .["\($e.event) \($e.id)"] = $e.state) |
	to_entries[] | "\(.key) \(.value)"' "$1" | sort -k1,1 -k2,2n
}

# ---- self-test when run directly ----

cl_selftest()
{
	local tmp mon out f

	. "$CL_DIR/ktap.sh"
	command -v jq >/dev/null || ktap_skip_all "needs jq"
	tmp=$(mktemp -d) || exit 1
	trap 'rm -rf "$tmp"' EXIT
	ktap_plan 8

	out=$(echo '[{"id":2,"state":"up"},{"id":3,"state":"down"}]' |
		jq -r "$CL_JQ_DEFS"' first(rows | select(.id == 3) | .state)')
	[ "$out" = down ]
	ktap_result $? "rows: a bare list"
	out=$(echo '{"links":[{"id":2,"state":"up"}]}' |
		jq -r "$CL_JQ_DEFS"' first(rows | select(.id == 2) | .state)')
	[ "$out" = up ]
	ktap_result $? "rows: a list inside an object"

	mon=$tmp/mon
	cat >"$mon" <<-'EOF'
	100 {"event":"node","id":1,"name":"a"}
	200 {"event":"link","id":2,"state":"connecting"}
	300 {"event":"link","id":2,"state":"up"}
	400 {"event":"member","id":2,"state":"reachable","next_hop":2,"hops":1}
	500 {"event":"member","id":3,"state":"reachable","next_hop":2,"hops":2}
	EOF
	out=$(cl_mon_order "$mon")
	[ -z "$out" ]
	ktap_result $? "event order: a good start has no complaint${out:+ ($out)}"
	[ "$(cl_mon_first "$mon" 250 '.event == "member" and .id == 3')" = 500 ]
	ktap_result $? "first matching event after a time stamp"
	! cl_mon_first "$mon" 600 '.event == "member"' >/dev/null
	ktap_result $? "no matching event is a failure"
	[ "$(cl_mon_final "$mon" | tr '\n' ,)" = "link 2 up,member 2 reachable,member 3 reachable," ]
	ktap_result $? "final states"

	cat >"$mon" <<-'EOF'
	100 {"event":"member","id":3,"state":"reachable","next_hop":2,"hops":2}
	200 {"event":"link","id":2,"state":"up"}
	300 {"event":"link","id":2,"state":"up"}
	400 {"event":"link","id":2,"state":"down"}
	EOF
	out=$(cl_mon_order "$mon")
	[ "$(echo "$out" | wc -l)" = 3 ]
	ktap_result $? "event order: member before link, repeat, down after up"

	for f in "$CL_DIR"/transport_*.sh; do
		[ -e "$f" ] || continue
		bash -n "$f" || out=bad
	done
	[ "$out" != bad ]
	ktap_result $? "transport scenarios parse (bash -n)"
	ktap_finish
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	cl_selftest
fi
