#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install everything cohort needs on Debian 12 (idempotent; run as root).
#
# virtme-ng is not packaged for Debian 12; its Debian 13 package is
# architecture "all" and installs there. We fetch it with apt through a
# temporary list directory whose source line reuses the mirror URI that the
# machine already has configured, so no host name lives in this repository.
set -euo pipefail

[ "$(id -u)" = 0 ] || exec sudo -E "$0" "$@"
export DEBIAN_FRONTEND=noninteractive

PKGS=(
	build-essential pkg-config git kmod dkms sparse bc flex bison
	libelf-dev libssl-dev xz-utils
	linux-headers-amd64 linux-image-amd64
	linux-headers-6.12-amd64 linux-image-6.12-amd64 linux-source-6.12
	libnl-3-dev libnl-genl-3-dev
	qemu-system-x86 qemu-utils busybox-static gcc-multilib
	python3 python3-yaml python3-jsonschema python3-pyroute2
	iproute2 iputils-ping ethtool linuxptp jq procps
	perl
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The mirror already configured for this machine (deb822 or one-line form).
mirror_uri() {
	local f uri
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		uri=$(awk '/^URIs:/ { print $2; exit }' "$f")
		case "$uri" in */debian) echo "$uri"; return 0 ;; esac
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		uri=$(awk '$1 == "deb" && $2 !~ /^\[/ && $2 ~ /\/debian$/ { print $2; exit }' "$f")
		[ -n "$uri" ] && { echo "$uri"; return 0; }
	done
	return 1
}

if ! command -v vng >/dev/null; then
	uri=$(mirror_uri) || { echo "no Debian mirror configured" >&2; exit 1; }
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	mkdir -p "$tmp/lists/partial" "$tmp/parts" "$tmp/cache/archives/partial"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri trixie main" >"$tmp/sources.list"
	opts=(-o Dir::Etc::sourcelist="$tmp/sources.list"
	      -o Dir::Etc::sourceparts="$tmp/parts"
	      -o Dir::State::Lists="$tmp/lists"
	      -o Dir::Cache="$tmp/cache"
	      -o APT::Get::List-Cleanup=0)
	apt-get "${opts[@]}" update -qq
	(cd "$tmp" && apt-get "${opts[@]}" download virtme-ng)
	apt-get install -y -qq --no-install-recommends "$tmp"/virtme-ng_*.deb
fi

# Module loading inside the guest needs the headers-matched images only;
# nothing here loads a module on the host.
echo "cohort dependencies installed"
