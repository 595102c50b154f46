"""A journal fault seen over real REST and admin listeners: every path answers with a code
(never a bare 500), /health tells the truth, and the instance trades again only once the
journal is back and a person resumed it."""

from __future__ import annotations

import time
from collections.abc import Callable

from api.conftest import ADMIN_TOKEN, Stack, bearer
from interlock.domain.reject import RejectCode
from interlock.journal.group_commit import RETRY_MAX_S
from interlock.sim.faulty_journal import FaultyJournal
from interlock.sim.harness import DESK_KEY

RESUME = {"scope": "instance", "target": "gw-1"}


def wait_for(cond: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what}"
        time.sleep(0.005)


def code_of(r: object) -> str:
    return r.json()["code"]  # type: ignore[attr-defined, no-any-return]


def test_journal_down_answers_JOURNAL_UNAVAILABLE_everywhere_and_resume_needs_a_person(
    faulty_stack: Stack,
) -> None:
    s, client, admin = faulty_stack, faulty_stack.rest_client, faulty_stack.admin_client
    journal = s.journal
    assert isinstance(journal, FaultyJournal)
    working = s.post(s.order())
    assert working.status_code == 201, working.text
    oid = working.json()["order_id"]
    journal.break_store()
    first = s.post(s.order())  # decided, journaled, never durable: 503, not 201
    assert (first.status_code, code_of(first)) == (503, "JOURNAL_UNAVAILABLE"), first.text
    assert s.harness.gateway.journal_watch.halted.wait(5)
    refused = s.post(s.order())
    assert (refused.status_code, code_of(refused)) == (503, "JOURNAL_UNAVAILABLE")
    gone = client.delete(f"/orders/{oid}", headers=bearer(DESK_KEY))  # the halt cancelled it
    assert (gone.status_code, code_of(gone)) == (409, RejectCode.ORDER_NOT_OPEN.value)
    mass = client.post("/orders/mass-cancel", json={}, headers=bearer(DESK_KEY))
    assert mass.status_code == 202, mass.text
    health = client.get("/health").json()
    assert health["status"] == health["gate"] == health["journal"] == "JOURNAL_UNAVAILABLE"
    assert health["journal_since_ns"] > 0 and "No space left" in health["journal_failure"]
    no = admin.post("/resume", json=RESUME, headers=bearer(ADMIN_TOKEN))
    assert (no.status_code, code_of(no)) == (503, "JOURNAL_UNAVAILABLE"), no.text
    journal.heal_store()
    wait_for(lambda: client.get("/health").json()["status"] == "ok", RETRY_MAX_S + 3, "ok")
    halted = s.post(s.order())
    assert (halted.status_code, code_of(halted)) == (423, "HALTED")  # back, still halted
    yes = admin.post("/resume", json=RESUME, headers=bearer(ADMIN_TOKEN))
    assert yes.status_code == 200 and yes.json()["lifted"] is True, yes.text
    assert s.post(s.order()).status_code == 201
