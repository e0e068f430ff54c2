#!/usr/bin/env bash
# Newcomer's launcher: bootstraps (idempotent) and runs a project command under the cached toolchain.
#   bash scripts/dev.sh check       # the whole test suite (what `npm test` and CI run)
#   bash scripts/dev.sh local       # local mode (what `npm start` runs)
#   bash scripts/dev.sh <npm script> [args...]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh >/dev/null
eval "$(bash scripts/bootstrap.sh --env)"
cmd="${1:-check}"
shift || true
# Local mode serves the console: build it first (about 1 s). The tests build it in their global setup.
if [[ "$cmd" == local ]]; then node scripts/build-web.ts --quiet; fi
exec npm run "$cmd" -- "$@"
