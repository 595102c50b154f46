#!/usr/bin/env bash
# The whole test suite, as CI runs it: install with test extras, then lint, type-check
# and test. Runs every step even after a failure, then exits non-zero if any failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '[test] %s\n' "$*"; }

bash scripts/install.sh test,peers  # peers: NautilusTrader, for tests/peers (docs/benchmarks.md)

# -- system packages ------------------------------------------------------------------
# Tests start their own etcd clusters (tests/conftest.py, src/interlock/sim/etcd_cluster.py;
# see docs/testing.md), so this only makes sure the binaries are here:
#   etcd-server, etcd-client  etcd and etcdctl >= 3.4 (Debian 12 has 3.4.23)
#   iptables                  partitions for fault tests (src/interlock/sim/partition.py)
#   postgresql                initdb + pg_ctl for the PostgreSQL journal's throwaway server
#                             (src/interlock/sim/postgres_cluster.py)
#   strace                    watches the SQLite journal fsync before it acks
#                             (tests/journal/test_sqlite_fsync_before_ack.py)
#   prometheus                its `promtool check rules` checks the shipped alert rules
#                             (tests/api/test_metrics.py); ~15 s with --no-install-recommends
#   chromium, chromium-driver the dashboard's browser test (tests/api/test_dashboard_browser.py),
#                             driven by Playwright with executable_path=/usr/bin/chromium
# Skipped when they are already installed; otherwise `apt-get update` always runs first.
# Later issues add their packages to `packages` (see ../shared/DEPENDENCIES.md for what
# each takes and its traps).
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
at_least_3_4() { # "MAJOR.MINOR[.PATCH]" >= 3.4
  local major="${1%%.*}" rest="${1#*.}"
  local minor="${rest%%.*}"
  [[ "$major" =~ ^[0-9]+$ && "$minor" =~ ^[0-9]+$ ]] || return 1
  [ "$major" -gt 3 ] || { [ "$major" -eq 3 ] && [ "$minor" -ge 4 ]; }
}
etcd_ok() {
  command -v etcd >/dev/null && command -v etcdctl >/dev/null || return 1
  at_least_3_4 "$(etcd --version 2>/dev/null | sed -n 's/^etcd Version: //p')" \
    && at_least_3_4 "$(ETCDCTL_API=3 etcdctl version 2>/dev/null | sed -n 's/^etcdctl version: //p')"
}
iptables_ok() { command -v iptables >/dev/null || [ -x /usr/sbin/iptables ]; }
postgres_ok() { compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null \
  && compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; }
packages=()
etcd_ok || packages+=(etcd-server etcd-client)
iptables_ok || packages+=(iptables)
postgres_ok || packages+=(postgresql)
command -v strace >/dev/null || packages+=(strace)
command -v promtool >/dev/null || packages+=(prometheus)
[ -x /usr/bin/chromium ] || packages+=(chromium chromium-driver)
if [ "${#packages[@]}" -ne 0 ]; then
  command -v apt-get >/dev/null || { say "error: need ${packages[*]} and there is no apt-get"; exit 1; }
  say "apt-get install ${packages[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${packages[@]}" >/dev/null
  etcd_ok || { say "error: etcd and etcdctl >= 3.4 still missing after apt-get"; exit 1; }
  postgres_ok || { say "error: PostgreSQL initdb/pg_ctl still missing after apt-get"; exit 1; }
  command -v strace >/dev/null || { say "error: strace still missing after apt-get"; exit 1; }
  [ -x /usr/bin/chromium ] || { say "error: chromium still missing after apt-get"; exit 1; }
else
  say "etcd $(etcd --version | sed -n 's/^etcd Version: //p'), iptables, postgresql, strace and chromium already installed"
fi

# -- servers ----------------------------------------------------------------------------
# None started here: each test starts what it needs and stops it (etcd: the fixtures
# `etcd_cluster` and `etcd_cluster_factory` in tests/conftest.py). Later issues:
#   PostgreSQL: the fixtures `postgres_dsn` and `postgres_cluster_factory` (initdb +
#               pg_ctl as user postgres in a temp dir, stopped after)
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
