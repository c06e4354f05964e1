#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the virtme-ng guest as root: MODE OUTDIR (OUTDIR holds
# cohort.ko and receives output.log, dmesg.log and summary "PASSED FAILED").
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
mode=$1
out=$2
ko=$out/cohort.ko
build=$top/build
log=$out/output.log
export COHORT_KO=$ko COHORT_BUILD=$build PATH=$build:$PATH

: >"$log"
exec 3>>"$log"
ktap_n=0
ktap_fail=0

# Checks made by this script itself, reported as one more KTAP program.
guest_ok() {
	ktap_n=$((ktap_n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $ktap_n $2" >&3
	else
		echo "not ok $ktap_n $2" >&3
		ktap_fail=$((ktap_fail + 1))
	fi
}

guest_totals() {
	echo "1..$ktap_n" >&3
	echo "# Totals: pass:$((ktap_n - ktap_fail)) fail:$ktap_fail xfail:0 xpass:0 skip:0 error:0" >&3
}

# One test program; one that prints no totals (crash, timeout) is a failure.
run_prog() {
	local name=$1 tmp rc
	shift

	tmp=$(mktemp)
	echo "# ==== $name" >&3
	timeout 600 "$@" >"$tmp" 2>&1
	rc=$?
	cat "$tmp" >&3
	if ! grep -q '^# Totals: ' "$tmp"; then
		echo "# cohort-test-crashed $name (exit $rc)" >&3
	fi
	rm -f "$tmp"
}

# Is test file $1 selected by COHORT_TESTS (all when unset)?
selected() {
	local - pat

	[ -z "${COHORT_TESTS:-}" ] && return 0
	set -f		# the patterns are for case, not for the file system
	for pat in $COHORT_TESTS; do
		# shellcheck disable=SC2254
		case "$1" in $pat) return 0 ;; esac
	done
	return 1
}

load() {
	insmod "$ko" && cohortctl node set id 1 name root
}

dmesg_clean() {
	dmesg >"$out/dmesg.log"
	! grep -E "WARNING:|BUG:|KFENCE|Oops|general protection|slab error|Poison overwritten|kmemleak|refcount_t:" \
		"$out/dmesg.log" >&3
}

run_check() {
	local t

	load
	guest_ok $? "guest: insmod cohort.ko and set root node"
	for t in "$build"/selftests/*_test; do
		[ -x "$t" ] && selected "$(basename "$t")" &&
			run_prog "$(basename "$t")" "$t"
	done
	for t in "$top"/selftests/*.sh; do
		case "$(basename "$t")" in uapi_abi.sh|ktap.sh|lib_*.sh) continue ;; esac
		selected "$(basename "$t")" || continue
		run_prog "$(basename "$t")" "$t"
	done
	# The layouts of the host's -m32 and -m64 builds (make host-tests).
	selected uapi_abi.sh &&
		run_prog uapi_abi.sh "$top/selftests/uapi_abi.sh" --run "$build"
	rmmod cohort
	guest_ok $? "guest: rmmod cohort"
	dmesg_clean
	guest_ok $? "guest: dmesg has no warning, bug or memory error report"
	guest_totals
	"$top/tools/ktap-totals.sh" "$log" >"$out/summary"
}

dmesg -C
case "$mode" in
check)	run_check ;;
demo|bench)
	load && "$top/tools/$mode.sh" >&3 2>&1
	echo $? >"$out/status"
	rmmod cohort ;;
*)	echo "unknown mode $mode" >&3 ;;
esac
dmesg >"$out/dmesg.log"
sync
