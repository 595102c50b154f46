"""docs/rest-api.md lists the HTTP status of every reject code, as the code maps it."""

from __future__ import annotations

import re
from pathlib import Path

from interlock.api.rest import STATUS_BY_CODE
from interlock.api.rest.status import COMMAND_STATUS
from interlock.domain.reject import COMMAND_CODES, ORDER_CODES, RejectCode

DOC = Path(__file__).resolve().parents[2] / "docs" / "rest-api.md"


def test_every_reject_code_has_a_status_and_the_doc_states_it() -> None:
    assert set(STATUS_BY_CODE) == set(ORDER_CODES)
    retry_later = {RejectCode.JOURNAL_UNAVAILABLE: 503}  # the server's fault, not the order's
    assert all(400 <= s < 500 or retry_later.get(c) == s for c, s in STATUS_BY_CODE.items())
    section = DOC.read_text().split("| code | status |")[1].split("\n\n")[0]
    documented = dict(re.findall(r"^\| `([A-Z_]+)` \| (\d{3}) \|$", section, re.M))
    assert documented == {c.value: str(s) for c, s in STATUS_BY_CODE.items()}


def test_every_command_code_has_a_status_and_the_doc_states_it() -> None:
    assert set(COMMAND_STATUS) == set(COMMAND_CODES)
    section = DOC.read_text().split("| command code | status |")[1].split("\n\n")[0]
    documented = dict(re.findall(r"^\| `([A-Z_]+)` \| (\d{3}) \|$", section, re.M))
    assert documented == {c.value: str(s) for c, s in COMMAND_STATUS.items()}
