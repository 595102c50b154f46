"""The pre-open readiness gate on a real gateway (manual clock, default NYSE calendar):
causes read from real state, the block at the open, acknowledgement journaled, cancels
never blocked, and the fleet checks naming the member that differs."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from interlock.api.config import load_config
from interlock.control.plane import Attestation, Member, Release
from interlock.domain.clock import ManualClock
from interlock.domain.events import ReadinessAcknowledged
from interlock.domain.reject import RejectCode
from interlock.gateway.preopen import fleet_causes
from interlock.observe import error_capture
from interlock.sim.harness import DESK_KEY, Harness, build, new_york_ns

DAY = "2025-08-01"  # a Friday: the default calendar opens at 09:30 New York
OPEN = new_york_ns(DAY, "09:30")


def _harness(**preopen: object) -> Harness:
    cfg = load_config()
    if preopen:
        cfg = cfg.model_copy(update={"preopen": cfg.preopen.model_copy(update=preopen)})
    return build(cfg, clock=ManualClock(new_york_ns(DAY, "07:50")))


def _at(h: Harness, ts: int, *, fresh: bool = True) -> None:
    """Move the clock to `ts`, the lease renewed, with reference prices fresh there unless
    `fresh` is False."""
    assert isinstance(h.clock, ManualClock)
    h.clock.now = ts
    assert h.gateway.heartbeat()
    if fresh:
        h.refresh_references()


@pytest.fixture
def capture_on() -> Iterator[list[error_capture.ErrorCapture]]:
    installed: list[error_capture.ErrorCapture] = []
    yield installed
    for handler in installed:
        error_capture.remove(handler)


def test_all_well_at_the_open_is_ready_and_orders_route() -> None:
    h = _harness()
    _at(h, OPEN)
    verdict = h.gateway.preopen.look()
    assert verdict.ready and verdict.causes == ()
    assert h.gateway.preopen.refusal is None
    assert h.submit().rejection is None


def test_error_logged_after_since_blocks_at_the_open_until_a_person_acks(
    capture_on: list[error_capture.ErrorCapture],
) -> None:
    h = _harness()
    gw = h.gateway
    capture_on.append(error_capture.install(gw.preopen.gate, h.clock))
    _at(h, new_york_ns(DAY, "09:00"))
    resting = h.submit(limit_price=None, quantity=100)  # routes before the open: not blocked
    assert resting.rejection is None
    _at(h, new_york_ns(DAY, "08:01"))
    logging.getLogger("interlock.venue.fix").error("BNET reject: Power Peg disabled")
    assert len(gw.preopen.gate.pages) == 1  # the first error pages at once
    _at(h, OPEN)
    verdict = gw.preopen.look()
    assert not verdict.ready
    assert [c.check for c in verdict.causes] == ["errors"]
    assert "1 unacknowledged error-level event(s) since 08:00:00" in verdict.causes[0].text
    assert "interlock.venue.fix (1)" in verdict.causes[0].text
    refused = h.submit()
    assert refused.rejection is not None and refused.rejection.code is RejectCode.NOT_READY
    assert "errors: 1 unacknowledged" in refused.rejection.reason
    assert gw.health().gate == "NOT_READY"
    assert gw.cancel(resting.order_id, DESK_KEY) is None  # cancels are never blocked
    acked = gw.preopen.acknowledge("alice")
    assert acked.lifted and acked.alerts == 1 and acked.causes[0].startswith("errors: 1")
    h.journal.flush()
    records = [e for _, e in h.journal.read() if isinstance(e, ReadinessAcknowledged)]
    assert [(r.who, r.ts, r.causes, r.alerts) for r in records] == [
        ("alice", OPEN, acked.causes, 1)
    ]
    assert gw.preopen.look().ready
    assert h.submit().rejection is None


def test_an_error_before_since_does_not_count(capture_on: list[error_capture.ErrorCapture]) -> None:
    h = _harness()
    capture_on.append(error_capture.install(h.gateway.preopen.gate, h.clock))
    _at(h, new_york_ns(DAY, "07:55"))
    logging.getLogger("interlock.gateway").error("something yesterday-ish")
    _at(h, OPEN)
    assert h.gateway.preopen.look().ready


def test_stale_reference_at_the_open_blocks_and_until_clear_lifts_when_fresh() -> None:
    h = _harness(until="clear")
    _at(h, OPEN, fresh=False)  # no fresh reference price since 07:50
    verdict = h.gateway.preopen.look()
    assert [c.check for c in verdict.causes] == ["reference"]
    assert h.submit().rejection.code is RejectCode.NOT_READY  # type: ignore[union-attr]
    _at(h, OPEN + 1_000_000)
    assert h.gateway.preopen.look().ready
    assert h.gateway.preopen.refusal is None
    assert h.submit().rejection is None


def test_until_ack_keeps_the_block_after_the_cause_clears() -> None:
    h = _harness()
    _at(h, OPEN, fresh=False)
    assert not h.gateway.preopen.look().ready
    _at(h, OPEN + 1_000_000)
    assert h.gateway.preopen.look().ready  # the cause cleared ...
    assert h.submit().rejection.code is RejectCode.NOT_READY  # type: ignore[union-attr]
    h.gateway.preopen.acknowledge("bob")  # ... and a person opens
    assert h.submit().rejection is None


def test_block_at_open_false_answers_not_ready_but_routes() -> None:
    h = _harness(block_at_open=False)
    _at(h, OPEN, fresh=False)
    assert not h.gateway.preopen.look().ready
    h.refresh_references()
    assert h.submit().rejection is None


def test_halts_pass_a_blocked_instance() -> None:
    h = _harness()
    _at(h, OPEN, fresh=False)
    h.gateway.preopen.look()
    assert h.gateway.preopen.refusal is not None
    report = h.gateway.halt(*_global(), "ops")
    assert report.complete


def _global() -> tuple[object, str, str]:
    from interlock.domain.enums import HaltScope

    return HaltScope.GLOBAL, "", "drill"


def _member(name: str, build: str = "b1", flags: str = "f1", refusal: str = "") -> Member:
    return Member(Attestation(name, build, flags, "c1", "host", 1), 0, refusal)


def test_fleet_causes_name_the_old_build_the_missing_member_and_other_flags() -> None:
    release = Release("b1", "f1", 3, ("gw-1", "gw-2", "gw-8"), config_digest="c1")
    causes = fleet_causes(release, (_member("gw-1"), _member("gw-8", build="b0", flags="f0")))
    lines = [c.line() for c in causes]
    assert lines == [
        "members: gw-2 is expected on the release but not live",
        "members: gw-8 runs build b0, not the release's b1",
        "flags: gw-8 declares flags f0, not the release's f1",
    ]
    assert fleet_causes(release, tuple(_member(n) for n in release.members)) == []
    bad = _member("gw-8", refusal="reads retired flag power_peg")
    refused = fleet_causes(release, (_member("gw-1"), _member("gw-2"), bad))
    assert [c.line() for c in refused] == ["flags: gw-8: reads retired flag power_peg"]
    assert [c.check for c in fleet_causes(None, ())] == ["members"]
