#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build cohort.ko for each target kernel and run MODE (check, demo, bench)
# in one virtme-ng VM per kernel. Host side: nothing privileged runs here.
#
#   tools/vm-check.sh MODE KVER...
#
# COHORT_TESTS="queue_* ioctl_test" runs only the tests whose file names
# match one of the patterns (a development aid; CI runs them all).
# COHORT_KVM=1 uses KVM (default: TCG, since nested KVM hangs at boot on
# many CI machines). COHORT_VM_TIMEOUT bounds one VM run (seconds).
# The benchmark's BENCH_* variables (tools/bench.sh) reach the guest too:
# virtme-ng passes no environment of its own.
# The last line of "check" is "N passed, N failed" over all kernels plus the
# host-only tests. Exit status 0 only when every test passed, or the demo
# or benchmark script ran to success on every kernel.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:?usage: vm-check.sh check|demo|bench KVER...}
shift
[ $# -gt 0 ] || { echo "no target kernel with headers and image installed" >&2; exit 1; }
out_root=$top/build/vm
timeout_s=${COHORT_VM_TIMEOUT:-1500}

vng_opts=(-v --memory 2G --cpus 2)
# Tests run with slab debugging to catch memory errors; benchmarks without
# it: it stores a stack trace per allocation, which is most of the time.
[ "$mode" = bench ] || vng_opts+=(--append "slub_debug=FZPU")
# Multi-threaded TCG races with the guest kernel's own code patching at
# boot (int3 oopses in 6.12 seen here); one TCG thread does not.
[ "${COHORT_KVM:-0}" = 1 ] ||
	vng_opts+=(--disable-kvm --qemu-opts="-accel tcg,thread=single")

passed=0
failed=0

# Module objects land in kmod/ whatever the kernel: build one at a time.
build_ko() {
	local kver=$1 dst=$2

	make -s -C "$top" clean-kmod >/dev/null
	make -s -C "$top" module KVER="$kver" >"$dst/build.log" 2>&1 || {
		cat "$dst/build.log" >&2
		return 1
	}
	if grep -E "warning:|error:" "$dst/build.log" >&2; then
		return 1
	fi
	cp "$top/kmod/cohort.ko" "$dst/cohort.ko"
}

# The guest's environment, as shell words: COHORT_TESTS and any BENCH_*.
guest_env() {
	local v

	printf "COHORT_TESTS=%q" "${COHORT_TESTS:-}"
	for v in $(compgen -v BENCH_); do
		printf " %s=%q" "$v" "${!v}"
	done
}

run_vm() {
	local kver=$1 dst=$2

	(cd / && timeout "$timeout_s" vng "${vng_opts[@]}" -r "/boot/vmlinuz-$kver" \
		--rwdir="$dst" \
		--exec "$(guest_env) $top/tools/vm-guest.sh $mode $dst" \
		>"$dst/console.log" 2>&1)
}

count() {
	local p=0 f=0

	if [ -r "$1/summary" ]; then
		read -r p f <"$1/summary"
	else
		echo "# $kver: the VM left no summary (see $1/console.log)"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
}

if [ "$mode" = check ]; then
	make -s -C "$top" host-tests >"$out_root.host.ktap" 2>&1
	mkdir -p "$out_root"
	mv "$out_root.host.ktap" "$out_root/host.ktap"
	cat "$out_root/host.ktap"
	read -r p f < <("$top/tools/ktap-totals.sh" "$out_root/host.ktap")
	passed=$((passed + p))
	failed=$((failed + f))
fi

for kver in "$@"; do
	dst=$out_root/$kver
	rm -rf "$dst"
	mkdir -p "$dst"
	echo "# ---- $mode on $kver ----"
	if ! build_ko "$kver" "$dst"; then
		echo "# $kver: module build failed"
		failed=$((failed + 1))
		continue
	fi
	start=$(date +%s)
	run_vm "$kver" "$dst"
	# A guest that died before our script started is a boot failure, not a
	# test result: boot it once more.
	if [ ! -e "$dst/output.log" ]; then
		echo "# $kver: the guest did not reach the test script; booting again"
		mv "$dst/console.log" "$dst/console-boot1.log"
		run_vm "$kver" "$dst"
	fi
	echo "# $kver: VM finished in $(($(date +%s) - start)) s"
	[ -r "$dst/output.log" ] && cat "$dst/output.log"
	if [ "$mode" = check ]; then
		count "$dst"
	else
		status=$(cat "$dst/status" 2>/dev/null)
		[ "$status" = 0 ] || {
			echo "# $kver: $mode failed (status ${status:-none})"
			failed=$((failed + 1))
		}
	fi
done
make -s -C "$top" clean-kmod >/dev/null

[ "$mode" = check ] && echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
