# SPDX-License-Identifier: GPL-2.0
#
# Tiny KTAP helpers for the shell scenarios; source it, do not run it.
#
#	ktap_plan N		header and plan
#	ktap_pass "desc"	ok N desc
#	ktap_fail "desc"	not ok N desc
#	ktap_skip "desc" [why]	ok N desc # SKIP why
#	ktap_result RC "desc"	pass if RC is 0, fail otherwise
#	ktap_expect RC PAT CMD...	CMD exits RC and prints PAT (else says why)
#	ktap_skip_all "why"	whole file skipped: exit 4 (kselftest's skip)
#	ktap_finish		Totals line; exit 0 without failures, 1 with
#
# A test that ends with fewer or more results than planned counts as a
# failure, so a scenario that dies half way cannot look green.

KTAP_PLANNED=0
KTAP_COUNT=0
KTAP_PASS=0
KTAP_FAIL=0
KTAP_SKIP=0

ktap_plan()
{
	KTAP_PLANNED=$1
	echo "TAP version 13"
	echo "1..$1"
}

ktap_pass()
{
	KTAP_COUNT=$((KTAP_COUNT + 1))
	KTAP_PASS=$((KTAP_PASS + 1))
	echo "ok $KTAP_COUNT $1"
}

ktap_fail()
{
	KTAP_COUNT=$((KTAP_COUNT + 1))
	KTAP_FAIL=$((KTAP_FAIL + 1))
	echo "not ok $KTAP_COUNT $1"
}

ktap_skip()
{
	KTAP_COUNT=$((KTAP_COUNT + 1))
	KTAP_SKIP=$((KTAP_SKIP + 1))
	echo "ok $KTAP_COUNT $1 # SKIP ${2:-}"
}

ktap_result()
{
	if [ "$1" -eq 0 ]; then
		ktap_pass "$2"
	else
		ktap_fail "$2"
	fi
}

ktap_info()
{
	echo "# $*"
}

# ktap_expect RC PATTERN CMD...: CMD exits RC and says PATTERN (an ERE) on
# stdout or stderr; otherwise what it said goes out as a diagnostic.
ktap_expect()
{
	local rc=$1 pat=$2 out got

	shift 2
	out=$("$@" 2>&1)
	got=$?
	if [ "$got" -eq "$rc" ] && echo "$out" | grep -qE -- "$pat"; then
		return 0
	fi
	ktap_info "'$*' exited $got (want $rc): $out"
	return 1
}

ktap_skip_all()
{
	echo "TAP version 13"
	echo "1..0 # SKIP $1"
	echo "# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:1 error:0"
	exit 4
}

ktap_finish()
{
	if [ "$KTAP_COUNT" -ne "$KTAP_PLANNED" ]; then
		echo "# planned $KTAP_PLANNED tests but ran $KTAP_COUNT"
		KTAP_FAIL=$((KTAP_FAIL + 1))
	fi
	echo "# Totals: pass:$KTAP_PASS fail:$KTAP_FAIL xfail:0 xpass:0 skip:$KTAP_SKIP error:0"
	[ "$KTAP_FAIL" -eq 0 ] || exit 1
	exit 0
}
