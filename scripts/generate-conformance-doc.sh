#!/usr/bin/env bash
# Regenerate docs/conformance.md from `berth conformance --format markdown` on every available
# driver (as root, after `npm run build` and with the daemons some drivers need running).
set -euo pipefail
cd "$(dirname "$0")/.."
node dist/cli/main.js conformance --format markdown --output docs/conformance.md "$@"
echo "wrote docs/conformance.md" >&2
