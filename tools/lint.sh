#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# sparse (make C=2) for every target kernel and checkpatch --strict from
# the installed kernel source on the kernel-side files. Prints KTAP-ish
# lines and fails on any finding.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
src_tar=${KSRC_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
cp_dir=$top/build/checkpatch
status=0

for kver in "$@"; do
	log=$top/build/lint-sparse-$kver.log
	mkdir -p "$top/build"
	make -s -C "$top" clean-kmod >/dev/null
	make -C "/lib/modules/$kver/build" M="$top" C=2 CHECK="sparse -Wsparse-error" \
		modules >"$log" 2>&1
	rc=$?
	if [ $rc -ne 0 ] || grep -E "warning:|error:" "$log"; then
		echo "not ok sparse $kver (see $log)"
		status=1
	else
		echo "ok sparse $kver"
	fi
done
make -s -C "$top" clean-kmod >/dev/null

if [ ! -x "$cp_dir/checkpatch.pl" ]; then
	mkdir -p "$cp_dir"
	tar -xJf "$src_tar" -C "$cp_dir" --strip-components=2 --wildcards \
		'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch' || exit 1
fi
if (cd "$top" && "$cp_dir/checkpatch.pl" --strict --no-tree --terse \
	--show-types --ignore FILE_PATH_CHANGES \
	-f kmod/*.[ch] uapi/linux/cohort.h); then
	echo "ok checkpatch --strict"
else
	echo "not ok checkpatch --strict"
	status=1
fi
exit $status
