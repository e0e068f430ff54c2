#!/usr/bin/env bash
# Newcomer's launcher: bootstraps (idempotent) and runs a project command under the cached toolchain.
#   bash scripts/dev.sh check       # the whole test suite (what `npm test` and CI run)
#   bash scripts/dev.sh local       # local mode (what `npm start` runs)
#   bash scripts/dev.sh bench [args...]   # the benchmark (what `npm run bench` runs)
#   bash scripts/dev.sh clean       # remove DATA_DIR and its demo cluster (what `npm run clean` runs)
#   bash scripts/dev.sh <npm script> [args...]
set -euo pipefail
cd "$(dirname "$0")/.."
cmd="${1:-check}"
shift || true
# Install only what the command needs: local mode needs no moto and no Chromium, the benchmark no
# Chromium, clean only Node; anything else gets everything.
case "$cmd" in
  local | bench) bash scripts/bootstrap.sh --for "$cmd" >/dev/null ;;
  clean) bash scripts/bootstrap.sh --for node >/dev/null ;;
  *) bash scripts/bootstrap.sh >/dev/null ;;
esac
eval "$(bash scripts/bootstrap.sh --env)"
# Local mode serves the console: build it first (about 1 s). The tests build it in their global setup.
if [[ "$cmd" == local ]]; then node scripts/build-web.ts --quiet; fi
# `npm run bench` and `npm run clean` run this script, so these start their program directly, not
# through npm again.
if [[ "$cmd" == bench ]]; then exec node test/bench/run.ts "$@"; fi
if [[ "$cmd" == clean ]]; then exec node scripts/clean.ts "$@"; fi
exec npm run "$cmd" -- "$@"
