#!/usr/bin/env bash
# Newcomer's launcher: bootstraps (idempotent) and runs a project command under the cached toolchain.
#   bash scripts/dev.sh test        # the whole test suite (what CI runs)
#   bash scripts/dev.sh <npm script> [args...]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh >/dev/null
eval "$(bash scripts/bootstrap.sh --env)"
cmd="${1:-test}"
shift || true
exec npm run "$cmd" -- "$@"
