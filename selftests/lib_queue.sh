#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Queue helpers for the queue scenarios (queue_*.sh): source it after
# lib_cluster.sh, once cl_init has run. Each qtool run writes its messages
# and a "# qtool" summary line to $CL_TMP/TAG, its progress marks ("# open",
# "# holding") and errors to $CL_TMP/TAG.err.
#
#   qt NODE ARGS...		qtool in NODE's namespace
#   bgq NODE TAG ARGS...	the same in the background: pid in QPID[TAG],
#				and among NODE's in PIDS_OF[NODE]
#   opened TAG			TAG's queue is open (a consumer is attached)
#   finish TAG			wait for TAG; its summary and errors as
#				diagnostics; TAG's exit status
#   msgs TAG			the message lines "SEQ PRODUCER MSG_ID
#				DELIVERIES"
#   field TAG KEY		a number from TAG's summary ("... KEY N ...")
#   qstat NODE NAME KEY		a counter of queue NAME at its home NODE
#   drained NODE NAME		nothing waiting or in flight at the home

QT=$CL_BUILD/selftests/qtool
[ -x "$QT" ] || ktap_skip_all "missing $QT (build first)"
declare -A QPID PIDS_OF

qt()
{
	local n=$1

	shift
	ip netns exec "${CL_NS[$n]}" "$QT" "$@"
}

bgq()
{
	local n=$1 tag=$2

	shift 2
	cl_bg "$n" "$CL_TMP/$tag" "$QT" "$@"
	QPID[$tag]=$CL_BG
	PIDS_OF[$n]="${PIDS_OF[$n]:-} $CL_BG"
}

opened()
{
	cl_wait_file "$CL_TMP/$1.err" "^# open" 30 && return 0
	ktap_info "$1 did not open its queue: $(tr '\n' ' ' <"$CL_TMP/$1.err")"
	return 1
}

finish()
{
	local rc

	wait "${QPID[$1]}"
	rc=$?
	ktap_info "$1: $(grep '^# qtool' "$CL_TMP/$1") $(grep -v '^#' "$CL_TMP/$1.err" | head -n 3 | tr '\n' ' ')"
	return $rc
}

msgs()
{
	grep -v '^#' "$CL_TMP/$1"
}

field()
{
	sed -n "s/^# qtool.* $2 \([0-9]*\) .*/\1/p" "$CL_TMP/$1"
}

qstat()
{
	qt "$1" stat "$2" 2>/dev/null | awk -v k="$3" '$1 == k { print $2 }'
}

drained()
{
	[ "$(qstat "$1" "$2" depth)" = 0 ] && [ "$(qstat "$1" "$2" inflight)" = 0 ]
}
