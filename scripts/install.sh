#!/usr/bin/env bash
# Create .venv (if needed) and install Interlock into it, editable.
#
#   bash scripts/install.sh           # the package and its runtime dependencies
#   bash scripts/install.sh test      # plus an extra from pyproject.toml (comma-separated list)
#
# Idempotent: an existing working .venv is reused, and pip runs again only when
# pyproject.toml or the extras changed since the last successful install.
# Needs Python >= 3.11 as `python3` (or set PYTHON=/path/to/python3.11).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

extras="${1:-}"
python="${PYTHON:-python3}"
venv=.venv
stamp="$venv/.interlock-install"

say() { printf '[install] %s\n' "$*"; }
die() { printf '[install] error: %s\n' "$*" >&2; exit 1; }

command -v "$python" >/dev/null || die "$python not found: install Python 3.11 or newer"
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || die "$("$python" -V 2>&1) is too old: Interlock needs Python >= 3.11"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

make_venv() {
  rm -rf "$venv"
  "$python" -m venv "$venv" >/dev/null 2>&1
}

if "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
  say "reusing $venv ($("$venv/bin/python" -V 2>&1))"
else
  say "creating $venv with $python -m venv"
  if ! make_venv; then
    # Debian and Ubuntu ship venv's ensurepip separately, in python3-venv.
    command -v apt-get >/dev/null || die "$python -m venv failed; install the venv module"
    say "$python -m venv failed: installing python3-venv with apt-get"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    make_venv || die "$python -m venv still fails after installing python3-venv"
  fi
fi

target="."
[ -n "$extras" ] && target=".[$extras]"
want="$(cat pyproject.toml; echo "extras=$extras")"
want="$(printf '%s' "$want" | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
  && "$venv/bin/python" -c 'import interlock' 2>/dev/null && [ -x "$venv/bin/interlock" ]; then
  say "interlock${extras:+[$extras]} already installed, pyproject.toml unchanged"
  exit 0
fi

say "upgrading pip"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
say "pip install -e '$target'"
rm -f "$stamp"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$target"
echo "$want" >"$stamp"
say "done: $venv/bin/interlock"
