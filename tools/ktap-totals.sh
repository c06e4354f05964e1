#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Print "PASSED FAILED" summed over the KTAP "# Totals:" lines of FILE.
# A test program that printed no totals line counts as one failure.
awk '
/^# Totals: / {
	for (i = 3; i <= NF; i++) {
		split($i, kv, ":")
		if (kv[1] == "pass") p += kv[2]
		if (kv[1] == "fail" || kv[1] == "error") f += kv[2]
	}
	seen = 1
}
/^# cohort-test-crashed/ { f++ }
END { if (!seen && !f) f = 1; print p + 0, f + 0 }
' "$1"
