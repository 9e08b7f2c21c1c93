#!/usr/bin/env bash
# Installs the extra baselines of bench.backup and bench.restore when they are missing: restic and
# rclone, and GNU time that measures their peak RSS (Debian packages; apt-get update at most once). Never fatal: a benchmark prints a baseline
# whose tool is still missing as skipped, with the reason.
set -uo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

APT_PACKAGES=(restic rclone time)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  { $SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"; } \
    || echo "bench-deps: could not install ${missing[*]}; those baselines will be skipped" >&2
fi
exit 0
