"""Every structured log event the source names is listed in docs/operations.md, and every
metric family `/metrics` exports too: both are part of what operators build on."""

from __future__ import annotations

import re
from pathlib import Path

from interlock.gateway.metrics import METRIC_NAMES

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "operations.md").read_text()


def test_every_log_event_in_the_source_is_documented() -> None:
    found = set()
    for path in (ROOT / "src" / "interlock").rglob("*.py"):
        found |= set(re.findall(r'"event": "([a-z_.]+)"', path.read_text()))
    found |= {"deploy.proposed", "deploy.committed", "deploy.aborted"}  # f"deploy.{kind}"
    assert {"order.decided", "halt.applied", "fix.logon", "fix.cancel_on_disconnect"} <= found
    missing = sorted(e for e in found if f"`{e}`" not in DOC)
    assert missing == [], f"events missing from docs/operations.md: {missing}"


def test_every_metric_is_documented() -> None:
    missing = sorted(n for n in METRIC_NAMES if f"`{n}`" not in DOC)
    assert missing == [], f"metrics missing from docs/operations.md: {missing}"
