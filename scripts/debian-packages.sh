#!/usr/bin/env bash
# Make sure Debian packages are installed: install the missing ones when running as root with apt-get,
# otherwise say which are missing. With --optional a missing package is only reported (exit 0).
# Usage: scripts/debian-packages.sh [--optional] package...
set -euo pipefail
optional=false
if [[ "${1:-}" == --optional ]]; then optional=true; shift; fi
missing=()
for package in "$@"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
(( ${#missing[@]} )) || exit 0
if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
  echo "Installing ${missing[*]} from Debian's packages…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null && exit 0
  echo "Could not install ${missing[*]}." >&2
fi
echo "Missing Debian packages: ${missing[*]} (apt-get install ${missing[*]})." >&2
$optional && exit 0
exit 1
