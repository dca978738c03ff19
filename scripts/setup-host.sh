#!/usr/bin/env bash
# Install the host packages the tests and drivers need: every line of scripts/host-packages.d/*.txt.
# Idempotent: only missing packages are installed (apt-get update once, when something is missing).
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t wanted < <(cat scripts/host-packages.d/*.txt | sed 's/#.*//' | tr -s ' \t' '\n' | sed '/^$/d' | sort -u)
missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "setup-host: need root to install: ${missing[*]}" >&2; exit 1; fi
  echo "setup-host: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
