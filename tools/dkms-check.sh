#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# dkms add + build (not install) of this tree for every target kernel, in
# a scratch copy so the working tree is untouched; removed afterwards.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
ver=$(awk -F'"' '/^PACKAGE_VERSION=/ { print $2 }' "$top/dkms.conf")
kernels=$(make -s -C "$top" print-kernels)
status=0

dkms remove "cohort/$ver" --all >/dev/null 2>&1
rm -rf "/usr/src/cohort-$ver"
make -s -C "$top" dkms-install DESTDIR= >/dev/null || exit 1
dkms add "cohort/$ver" >/dev/null || exit 1
for k in $kernels; do
	if dkms build "cohort/$ver" -k "$k" >/dev/null 2>&1; then
		echo "# dkms build cohort/$ver for $k: ok"
	else
		echo "# dkms build cohort/$ver for $k: FAILED"
		cat "/var/lib/dkms/cohort/$ver/build/make.log" 2>/dev/null | tail -20
		status=1
	fi
done
dkms remove "cohort/$ver" --all >/dev/null 2>&1
rm -rf "/usr/src/cohort-$ver"
exit $status
