"""The ADV file over the admin listener as served (api/admin/adv.py, cli/adv.py): an
operator or risk token reloads it and the next order over REST is judged against the new
figures; a reader may only look; a bad file is 422 CONFIG_INVALID and changes nothing."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from api.conftest import ADMIN_TOKEN, DESK_KEY, Stack, _stack, bearer
from interlock.api.config import parse_config
from interlock.cli import app
from interlock.domain.events import AdvLoaded
from interlock.sim.harness import around_the_clock

RISK, READER = "adv-risk-token", "adv-reader-token"
YESTERDAY = (datetime.now(ZoneInfo("America/New_York")) - timedelta(days=1)).date()


def _token(token: str, principal: str, role: str) -> dict[str, str]:
    digest = hashlib.sha256(token.encode()).hexdigest()
    return {"principal": principal, "token_sha256": digest, "role": role}


def _write(path: Path, aapl: int, extra: str = "") -> None:
    path.write_text(f"# as_of={YESTERDAY}\nsymbol,adv_shares\nAAPL,{aapl}\n{extra}")


@pytest.fixture
def adv_stack(tmp_path: Path) -> Iterator[Stack]:
    _write(tmp_path / "adv.csv", 10_000)  # 100 bps: 100 shares
    data = around_the_clock().model_dump(mode="json")
    data["limits"]["adv"]["file"] = "adv.csv"  # relative: to the config file's directory
    data["admin"]["tokens"] += [_token(RISK, "risk-a", "risk"), _token(READER, "viewer", "reader")]
    config = parse_config(data, "adv file").located(tmp_path / "interlock.toml")
    yield from _stack(tmp_path, config)


def test_an_operator_reload_changes_the_next_orders_decision(
    adv_stack: Stack, tmp_path: Path
) -> None:
    s = adv_stack
    assert s.post(s.order(quantity=150)).json()["code"] == "ADV_LIMIT"
    _write(tmp_path / "adv.csv", 20_000)
    r = s.admin_client.post("/adv/reload", headers=bearer(ADMIN_TOKEN))
    assert r.status_code == 200, r.text
    assert (r.json()["as_of"], r.json()["count"], r.json()["stale"]) == (str(YESTERDAY), 1, "")
    assert s.post(s.order(quantity=150)).status_code == 201
    shown = s.admin_client.get("/adv", headers=bearer(READER)).json()
    assert shown["digest"] == r.json()["digest"] and shown["loaded_at"] > 0
    s.journal.flush()
    assert [e.figures for _, e in s.journal.read() if isinstance(e, AdvLoaded)] == [
        (("AAPL", 10_000),),
        (("AAPL", 20_000),),
    ]


def test_a_risk_token_may_reload_and_a_reader_or_trading_key_may_not(adv_stack: Stack) -> None:
    admin = adv_stack.admin_client
    assert admin.post("/adv/reload", headers=bearer(RISK)).status_code == 200
    r = admin.post("/adv/reload", headers=bearer(READER))
    assert r.status_code == 403 and r.json()["code"] == "UNAUTHENTICATED"
    assert admin.post("/adv/reload", headers=bearer(DESK_KEY)).status_code == 401


def test_a_bad_file_is_422_CONFIG_INVALID_and_the_figures_stay(
    adv_stack: Stack, tmp_path: Path
) -> None:
    s = adv_stack
    _write(tmp_path / "adv.csv", 20_000, extra="AAPL,30000\n")
    r = s.admin_client.post("/adv/reload", headers=bearer(ADMIN_TOKEN))
    assert r.status_code == 422 and r.json()["code"] == "CONFIG_INVALID"
    assert "adv.csv:4: AAPL is given twice" in r.json()["message"]
    assert s.post(s.order(quantity=150)).json()["code"] == "ADV_LIMIT"  # still 10,000


def test_the_cli_reloads_and_shows_through_the_admin_listener(
    adv_stack: Stack, tmp_path: Path
) -> None:
    runner, where = CliRunner(), ["--admin", adv_stack.admin.url, "--token", ADMIN_TOKEN]
    _write(tmp_path / "adv.csv", 20_000)
    done = runner.invoke(app, ["adv", "reload", *where])
    assert done.exit_code == 0, done.output
    assert f"ADV as_of {YESTERDAY}: 1 figure(s), digest" in done.output
    shown = runner.invoke(app, ["adv", "show", *where])
    assert shown.exit_code == 0 and str(tmp_path / "adv.csv") in shown.output
    _write(tmp_path / "adv.csv", 0)
    bad = runner.invoke(app, ["adv", "reload", *where])
    assert bad.exit_code == 1 and "CONFIG_INVALID" in bad.output
