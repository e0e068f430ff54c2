#!/usr/bin/env bash
# LocalStack, the second AWS emulator (README "AWS emulators"): installed only when asked, since
# `npm start` and the main suite do not use it. bootstrap.sh calls install_localstack when
# MBM_WITH_LOCALSTACK=1; it can also run alone: `bash scripts/bootstrap-localstack.sh`.
# Idempotent: a stamp records the pinned set, so a second run only checks it.
#
# Installs into $CACHE/localstack, a virtualenv whose bin/python scripts/local-servers.ts starts
# `-m localstack.runtime.main` with (not a link in $BIN: a venv's python reached through a symlink
# elsewhere does not see the venv).

# Pinned: localstack-core, and the pins it needed to start (newer cbor2, cryptography and pyopenssl
# releases break its import on these machines; service_identity is needed by its TLS gateway).
LOCALSTACK_REQUIREMENTS=(
  "localstack-core[runtime]==2026.3.0"
  "cbor2<5.7"
  "cryptography>=45,<46"
  "pyopenssl>=25.1,<25.2"
  "service_identity==24.2.0"
)

# LocalStack's code uses PEP 695 syntax, so it needs Python >= 3.12; the machines' python3 is 3.11.
# Where one comes from, in order: MBM_LOCALSTACK_PYTHON; pyenv's newest installed 3.12+ (these
# machines come with pyenv's 3.12 and 3.13); python3.13 / python3.12 on PATH. There is no further
# fallback: Debian 12's packages stop at 3.11, and uv's managed Pythons download from a host these
# machines cannot reach, so without one of the above the step stops and says so.
localstack_python() {
  local candidate
  if [[ -n "${MBM_LOCALSTACK_PYTHON:-}" ]]; then echo "$MBM_LOCALSTACK_PYTHON"; return; fi
  local pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
  if [[ -d "$pyenv_root/versions" ]]; then
    candidate="$(ls -1 "$pyenv_root/versions" | grep -E '^3\.(1[2-9]|[2-9][0-9])\.[0-9]+$' | sort -V | tail -1)"
    if [[ -n "$candidate" && -x "$pyenv_root/versions/$candidate/bin/python3" ]]; then
      echo "$pyenv_root/versions/$candidate/bin/python3"; return
    fi
  fi
  for candidate in python3.13 python3.12; do
    # A pyenv shim exists for every version pyenv knows, but fails unless that version is selected.
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys' 2>/dev/null; then
      command -v "$candidate"; return
    fi
  done
  return 1
}

install_localstack() {
  local cache="${CACHE:-${MBM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mongo-backup-manager}}"
  local venv="$cache/localstack"
  local want python
  want="$(printf '%s\n' "${LOCALSTACK_REQUIREMENTS[@]}")"
  mkdir -p "$cache"
  if [[ -f "$venv/.requirements" && "$(cat "$venv/.requirements")" == "$want" && -x "$venv/bin/python" ]] \
    && "$venv/bin/python" -c 'import localstack.runtime.main' 2>/dev/null; then
    return 0
  fi
  python="$(localstack_python)" || {
    printf '[bootstrap] LocalStack needs Python >= 3.12: none found (pyenv, python3.13, python3.12);' >&2
    printf ' set MBM_LOCALSTACK_PYTHON to one\n' >&2
    return 1
  }
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then
    printf '[bootstrap] %s is older than Python 3.12, which LocalStack needs\n' "$python" >&2
    return 1
  fi
  printf '[bootstrap] installing %s with %s\n' "${LOCALSTACK_REQUIREMENTS[0]}" "$("$python" --version)" >&2
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "${LOCALSTACK_REQUIREMENTS[@]}"
  "$venv/bin/python" -c 'import localstack.runtime.main'
  echo "$want" >"$venv/.requirements"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  install_localstack
fi
