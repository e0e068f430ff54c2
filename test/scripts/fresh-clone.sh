#!/usr/bin/env bash
# A fresh clone, as a newcomer gets it: the bootstrap installs exactly the committed lock (npm ci) and
# leaves the working tree as cloned; `npm run bench` and `npm run clean` bootstrap themselves under the
# machine's own Node (no env line run first); the tree is still clean afterwards.
#   bash test/scripts/fresh-clone.sh [commit]   # default HEAD (committed work only)
# About a minute with a warm cache (the clone's npm ci is most of it): a .ci/run step, not a vitest file.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
ref="${1:-HEAD}"
clone="$(mktemp -d)/clone"
trap 'rm -rf "$(dirname "$clone")"' EXIT
fail() { printf 'fresh-clone: FAIL: %b\n' "$*" >&2; exit 1; }

git clone --quiet --no-checkout "$repo" "$clone"
git -C "$clone" checkout --quiet "$(git -C "$repo" rev-parse "$ref")"
# The machine's PATH without the bootstrap's cache: what a new shell has.
cache="${MBM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mongo-backup-manager}"
plain_path="$(tr ':' '\n' <<<"$PATH" | grep -v -F "$cache" | paste -sd:)"
cd "$clone"

log="$(PATH="$plain_path" bash scripts/bootstrap.sh 2>&1 >/dev/null)" || fail "bootstrap failed:\n$log"
grep -q '\[bootstrap\] npm ci' <<<"$log" || fail "the bootstrap did not install with npm ci:\n$log"
dirty="$(git status --porcelain)"
[[ -z "$dirty" ]] || fail "git status after the bootstrap:\n$dirty"
# What npm ci installed is what the lock says (npm ls exits non-zero on a missing or invalid package).
PATH="$cache/node/bin:$plain_path" npm ls --all >/dev/null || fail "npm ls: the tree differs from the lock"

# `npm run bench` under the machine's Node: it must reach the benchmark's own argument check, which
# runs only under Node >= 22.18 (a .ts entry point), rather than fail on the Node it was started with.
bench="$(PATH="$plain_path" npm run --silent bench -- --no-such-option 2>&1)" && fail "bench accepted a bad option"
grep -q "ERR_PARSE_ARGS_UNKNOWN_OPTION" <<<"$bench" || fail "npm run bench did not reach the benchmark:\n$bench"

data="$(mktemp -d)"
echo token >"$data/api-token"
clean="$(PATH="$plain_path" DATA_DIR="$data" npm run --silent clean 2>&1)" || fail "npm run clean: $clean"
[[ ! -e "$data" ]] || fail "npm run clean left $data:\n$clean"

dirty="$(git status --porcelain)"
[[ -z "$dirty" ]] || fail "git status at the end:\n$dirty"
echo "fresh-clone: ok (clean tree after the bootstrap, npm run bench and npm run clean)"
