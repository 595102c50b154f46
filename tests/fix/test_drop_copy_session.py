"""The drop-copy session (venue/drop_copy.py) on its own: it can never send an application
message, it hands every ExecutionReport (and nothing else) to the matcher decoded, and a
matcher fault does not take the session down."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("quickfix")

import quickfix as fix

from interlock.fixengine.engine import new_message
from interlock.venue.drop_copy import DropCopySession
from interlock.venue.drop_copy_report import DropCopyReport


def _session(tmp_path: Path) -> DropCopySession:
    return DropCopySession(port=1, work_dir=tmp_path, comp_id="T-DC", venue_comp_id="V-DC",
                           file_log=False)  # fmt: skip


@pytest.mark.parametrize("kind", ["D", "F", "G", "q", "H", "8"])
def test_the_session_refuses_to_send_any_application_message(tmp_path: Path, kind: str) -> None:
    s = _session(tmp_path)
    with pytest.raises(fix.DoNotSend):
        s.toApp(new_message(kind), None)


def test_execution_reports_reach_the_matcher_decoded_and_nothing_else_does(
    tmp_path: Path,
) -> None:
    s = _session(tmp_path)
    got: list[DropCopyReport] = []
    s.attach(got.append, lambda up: None)
    er = new_message("8")
    for tag, value in ((17, "E1"), (150, "F"), (11, "7"), (1, "desk-7"), (55, "AAPL"),
                       (54, "1"), (32, "10"), (14, "10"), (38, "100")):  # fmt: skip
        er.setField(tag, value)
    er.getHeader().setField(43, "Y")
    s.fromApp(er, None)
    s.fromApp(new_message("j"), None)
    assert [(r.exec_id, r.cl_ord_id, r.last_qty, r.poss_dup) for r in got] == [
        ("E1", "7", 10, True)
    ]


def test_a_matcher_fault_is_logged_not_raised_into_quickfix(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    s = _session(tmp_path)

    def broken(_: DropCopyReport) -> None:
        raise RuntimeError("boom")

    s.attach(broken, lambda up: None)
    s.fromApp(new_message("8"), None)
    assert any("could not be matched" in r.getMessage() for r in caplog.records)


def test_logon_and_logout_reach_the_status_sink_once_each(tmp_path: Path) -> None:
    s = _session(tmp_path)
    seen: list[bool] = []
    s.attach(lambda r: None, seen.append)
    sid = fix.SessionID("FIX.4.4", "T-DC", "V-DC")
    s.onLogout(sid)  # not up yet: nothing to say
    s.onLogon(sid)
    s.onLogout(sid)
    assert seen == [True, False] and not s.logged_on
