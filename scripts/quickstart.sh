#!/usr/bin/env bash
# The README's first command: on a fresh machine, as root, set everything up and run one container
# on the embedded default driver with the default busybox rootfs (built from the host's busybox-static).
# Extra arguments replace the default command: scripts/quickstart.sh /bin/sh -c 'id; hostname'
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-host.sh
[ -f node_modules/.package-lock.json ] || npm ci --no-audit --no-fund >/dev/null
node scripts/build.js
if [ "$#" -eq 0 ]; then set -- /bin/sh -c 'echo "hello from a berth container: pid $$ on host $(hostname)"; id'; fi
node dist/cli/main.js --debug run --rm --hostname berth-demo -- "$@"
