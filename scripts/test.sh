#!/usr/bin/env bash
# The whole test suite, as CI runs it: install with test extras, then lint, type-check
# and test. Runs every step even after a failure, then exits non-zero if any failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '[test] %s\n' "$*"; }

bash scripts/install.sh test

# -- system packages for later issues (none needed yet) ---------------------------------
# One apt-get line, after `apt-get update`, when a later issue needs them, e.g.
#   apt-get install -y --no-install-recommends etcd-server etcd-client postgresql chromium chromium-driver
# (see ../shared/DEPENDENCIES.md for what each takes and its traps).

# -- servers for later issues (none started yet) ----------------------------------------
# Start each one here, export where tests find it, and stop it in cleanup():
#   etcd:       a 3-node cluster on loopback          -> INTERLOCK_ETCD_ENDPOINTS
#   PostgreSQL: initdb + pg_ctl as user postgres      -> INTERLOCK_PG_DSN
#   Chromium:   nothing to start; tests launch /usr/bin/chromium --no-sandbox
cleanup() { :; }
trap cleanup EXIT

failed=()
run() {
  local name="$1"
  shift
  say "$name"
  local rc=0
  "$@" || rc=$?
  # pytest exit code 5 means "no tests collected": a suite that ran nothing has failed.
  if [ "$rc" -ne 0 ]; then
    failed+=("$name (exit $rc)")
  fi
}

run "ruff check src tests bench" .venv/bin/ruff check src tests bench
run "mypy" .venv/bin/mypy
run "pytest -q" .venv/bin/pytest -q

if [ "${#failed[@]}" -ne 0 ]; then
  say "FAILED: ${failed[*]}"
  exit 1
fi
say "all passed"
