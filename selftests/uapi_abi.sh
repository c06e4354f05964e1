#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host-side ABI test for uapi/linux/cohort.h (needs no module, no root):
#
#   - the header compiles on its own as C99 (-Wall -Werror, also -Wpedantic)
#     for -m64 and -m32, and includes nothing but linux/types.h and
#     linux/ioctl.h;
#   - uapi_abi.c pins every struct's size and every field's offset and
#     width at compile time, with the same numbers for -m64 and -m32;
#   - the header also compiles as C++ (if g++ exists);
#   - with --run, in the test VM: the two builds print identical layouts
#     (some hosts, sandboxed ones among them, cannot execute i386 programs,
#     while the Debian kernels in the VM always can).
#
# Usage: selftests/uapi_abi.sh BUILD_DIR        (run by `make host-tests`)
#        selftests/uapi_abi.sh --run BUILD_DIR  (run by tools/vm-guest.sh)

DIR=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$DIR/.." && pwd)
. "$DIR/ktap.sh"

RUN=0
[ "${1:-}" = --run ] && { RUN=1; shift; }
BUILD=${1:-$TOP/build}
OUT=$BUILD/uapi_abi
CC=${CC:-gcc}
CXX=${CXX:-g++}
HDR=$TOP/uapi/linux/cohort.h
CSTD="-std=c99 -Wall -Wextra -Werror"

if [ $RUN = 1 ]; then
	# The VM sees the build read-only.
	SCRATCH=$(mktemp -d) || ktap_skip_all "no temporary folder"
	trap 'rm -rf "$SCRATCH"' EXIT
else
	SCRATCH=$OUT
	mkdir -p "$OUT" || ktap_skip_all "cannot create $OUT"
fi
command -v "$CC" >/dev/null || ktap_skip_all "no C compiler ($CC)"
[ -r "$HDR" ] || ktap_skip_all "missing $HDR"

# Run a command quietly; on failure show its output as KTAP diagnostics.
quiet()
{
	local log=$SCRATCH/last.log

	if "$@" >"$log" 2>&1; then
		return 0
	fi
	sed 's/^/# /' "$log"
	return 1
}

# The header alone, as the only include of a translation unit.
header_alone()
{
	local bits=$1; shift

	printf '#include <linux/cohort.h>\nint cohort_abi_dummy;\n' >"$OUT/alone.c"
	quiet "$CC" -m"$bits" $CSTD "$@" -I"$TOP/uapi" -c "$OUT/alone.c" \
		-o "$OUT/alone$bits.o"
}

check_includes()
{
	local bad

	bad=$(grep -E '^[[:space:]]*#[[:space:]]*include' "$HDR" |
	      grep -vE '<linux/(types|ioctl)\.h>')
	[ -z "$bad" ] && return 0
	echo "# unexpected includes: $bad"
	return 1
}

build_abi()
{
	local bits=$1

	quiet "$CC" -m"$bits" $CSTD -Wpedantic -I"$TOP/uapi" \
		-o "$OUT/uapi_abi$bits" "$DIR/uapi_abi.c"
}

compare_runs()
{
	[ -x "$OUT/uapi_abi64" ] && [ -x "$OUT/uapi_abi32" ] || return 1
	"$OUT/uapi_abi64" >"$SCRATCH/layout64.txt" || return 1
	"$OUT/uapi_abi32" >"$SCRATCH/layout32.txt" || return 1
	quiet diff -u "$SCRATCH/layout64.txt" "$SCRATCH/layout32.txt"
}

header_cxx()
{
	printf '#include <linux/cohort.h>\nint cohort_abi_dummy;\n' >"$OUT/alone.cc"
	quiet "$CXX" -Wall -Wextra -Werror -I"$TOP/uapi" -c "$OUT/alone.cc" \
		-o "$OUT/alone_cxx.o"
}

if [ $RUN = 1 ]; then
	ktap_plan 1
	compare_runs;		ktap_result $? "32- and 64-bit layouts identical at run time"
	ktap_finish
fi

ktap_plan 8

header_alone 64;		ktap_result $? "header compiles alone: c99 -m64"
header_alone 32;		ktap_result $? "header compiles alone: c99 -m32"
header_alone 64 -Wpedantic;	ktap_result $? "header compiles alone: c99 -Wpedantic -m64"
header_alone 32 -Wpedantic;	ktap_result $? "header compiles alone: c99 -Wpedantic -m32"
check_includes;			ktap_result $? "header includes only linux/types.h and linux/ioctl.h"
build_abi 64;			ktap_result $? "struct sizes and offsets as pinned: -m64"
build_abi 32;			ktap_result $? "struct sizes and offsets as pinned: -m32"
if command -v "$CXX" >/dev/null; then
	header_cxx;		ktap_result $? "header compiles as C++"
else
	ktap_skip "header compiles as C++" "no $CXX"
fi

ktap_finish
