"""The ADV file loaded at start, reloaded without a restart (daily at the pre-open, on
demand), journaled as AdvLoaded and folded back on restart (gateway/adv_reload.py)."""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path

import pytest

from interlock.api.config import load_config, parse_config
from interlock.domain.events import AdvLoaded
from interlock.domain.reject import RejectCode
from interlock.errors import ConfigError
from interlock.gateway.config import GatewayConfig
from interlock.journal.base import Journal
from interlock.journal.sqlite import SqliteJournal
from interlock.sim.harness import START_NS, ManualClock, build, new_york_ns


def write(path: Path, aapl: int, as_of: str = "2025-07-31", extra: str = "") -> Path:
    path.write_text(f"# as_of={as_of}\nsymbol,adv_shares\nAAPL,{aapl}\n{extra}")
    return path


def with_file(path: Path, **adv: object) -> GatewayConfig:
    data = load_config().model_dump(mode="json")
    data["limits"]["adv"].update(file=str(path), **adv)
    return parse_config(data, "test config")


def loaded(journal: Journal) -> list[AdvLoaded]:
    journal.flush()
    return [e for _, e in journal.read() if isinstance(e, AdvLoaded)]


def test_the_file_at_start_overrides_the_config_figure(tmp_path: Path) -> None:
    h = build(with_file(write(tmp_path / "adv.csv", 200_000)))  # 1%: 2,000
    assert h.submit(quantity=2_001).code is RejectCode.ADV_LIMIT
    assert h.submit(quantity=2_000).accepted
    status = h.gateway.adv.status()
    assert (status.as_of, status.count, status.stale) == ("2025-07-31", 1, "")
    assert len(loaded(h.journal)) == 1


def test_a_reload_changes_the_decision_between_two_orders(tmp_path: Path) -> None:
    f = write(tmp_path / "adv.csv", 200_000)
    h = build(with_file(f))
    assert h.submit(quantity=3_000).code is RejectCode.ADV_LIMIT
    write(f, 400_000)
    h.gateway.adv.reload("ops")
    assert h.submit(quantity=3_000).accepted
    assert [e.figures for e in loaded(h.journal)] == [(("AAPL", 200_000),), (("AAPL", 400_000),)]


def test_the_same_file_again_journals_nothing_new(tmp_path: Path) -> None:
    h = build(with_file(write(tmp_path / "adv.csv", 200_000)))
    h.gateway.adv.reload("ops")
    assert len(loaded(h.journal)) == 1


@pytest.mark.parametrize(
    "extra",
    ["AAPL,1\n", "MSFT,zero\n", "ZZZZ,5\n", "MSFT,0\n"],
    ids=["dup", "text", "unknown", "0"],
)
def test_a_bad_file_is_refused_whole_and_the_figures_in_force_stay(
    tmp_path: Path, extra: str, caplog: pytest.LogCaptureFixture
) -> None:
    f = write(tmp_path / "adv.csv", 200_000)
    h = build(with_file(f))
    write(f, 400_000, extra="MSFT,900000\n" + extra)  # good lines before the bad one
    with caplog.at_level(logging.ERROR), pytest.raises(ConfigError) as bad:
        h.gateway.adv.reload("ops")
    assert str(bad.value).startswith(f"{f}:5: ")
    assert any(getattr(r, "event", "") == "adv.refused" for r in caplog.records)
    assert h.gateway.book.adv_max_qty["AAPL"] == 2_000  # not half-loaded
    assert h.gateway.book.adv_shares["MSFT"] == load_config().limits.adv.shares["MSFT"]
    assert h.submit(quantity=2_001).code is RejectCode.ADV_LIMIT
    assert len(loaded(h.journal)) == 1


def test_a_missing_file_is_refused_and_the_figures_stay(tmp_path: Path) -> None:
    f = write(tmp_path / "adv.csv", 200_000)
    h = build(with_file(f))
    f.unlink()
    with pytest.raises(ConfigError, match="cannot read"):
        h.gateway.adv.reload("ops")
    assert h.gateway.book.adv_max_qty["AAPL"] == 2_000


@pytest.mark.parametrize("content", [None, "symbol,adv_shares\nAAPL,1\n"], ids=["missing", "bad"])
def test_a_bad_file_at_start_fails_the_start(tmp_path: Path, content: str | None) -> None:
    f = tmp_path / "adv.csv"
    if content is not None:
        f.write_text(content)
    with pytest.raises(ConfigError, match=str(f)):
        build(with_file(f))


def test_a_restart_folds_the_journaled_figures_and_journals_an_edited_file(
    tmp_path: Path,
) -> None:
    f, path = write(tmp_path / "adv.csv", 200_000), tmp_path / "journal.db"
    h = build(with_file(f), journal=SqliteJournal(path))
    assert h.submit(quantity=2_000).accepted
    h.gateway.close()

    write(f, 400_000)
    h2 = build(with_file(f), journal=SqliteJournal(path), restart_of=h, start=False)
    h2.gateway.state.fold(h2.journal)  # what the journal alone gives back: not the file
    assert h2.gateway.book.adv_max_qty["AAPL"] == 2_000
    h2.journal.close()
    h2 = build(with_file(f), journal=SqliteJournal(path), restart_of=h)
    assert h2.gateway.book.adv_max_qty["AAPL"] == 4_000  # the edited file, journaled anew
    h2.journal.flush()
    assert [e.figures[0][1] for e in loaded(h2.journal)] == [200_000, 400_000]
    h2.gateway.close()


def test_a_restart_on_the_same_file_journals_no_new_load(tmp_path: Path) -> None:
    f, path = write(tmp_path / "adv.csv", 200_000), tmp_path / "journal.db"
    h = build(with_file(f), journal=SqliteJournal(path))
    h.gateway.close()
    h2 = build(with_file(f), journal=SqliteJournal(path), restart_of=h)
    h2.journal.flush()
    assert len(loaded(h2.journal)) == 1
    h2.gateway.close()


def test_a_stale_file_is_refused_and_the_check_fails_closed_saying_so(tmp_path: Path) -> None:
    f = write(tmp_path / "adv.csv", 200_000, as_of="2025-07-20")
    h = build(with_file(f))  # a stale file does not fail the start
    d = h.submit(quantity=1)
    assert d.code is RejectCode.ADV_LIMIT and d.rejection is not None
    assert "figures are stale (no fresh ADV file loaded" in d.rejection.reason
    write(f, 200_000, as_of="2025-08-01")
    h.gateway.adv.reload("ops")
    assert h.submit(quantity=1).accepted


def test_figures_go_stale_as_days_pass_and_the_daily_load_fires_once_at_the_pre_open(
    tmp_path: Path,
) -> None:
    f = write(tmp_path / "adv.csv", 200_000, as_of="2025-08-01")
    clock = ManualClock(START_NS)  # Friday 2025-08-01 10:00 New York
    h = build(with_file(f, max_age_days=1), clock=clock)
    adv = h.gateway.adv
    adv.tick()
    assert len(loaded(h.journal)) == 1  # today's pre-open had passed: the start was the load
    write(f, 300_000, as_of="2025-08-01")
    clock.now = new_york_ns("2025-08-04", "06:59")  # Monday before the 07:00 pre-open
    adv.tick()
    assert h.gateway.book.adv_stale.startswith("as_of 2025-08-01 is 3 days old")
    assert h.gateway.book.adv_max_qty == {} and len(loaded(h.journal)) == 1  # fails closed
    write(f, 300_000, as_of="2025-08-04")
    clock.now = new_york_ns("2025-08-04", "07:00")  # Monday's pre-open: the daily load
    adv.tick()
    clock.now += 60 * 10**9
    write(f, 500_000, as_of="2025-08-04")
    adv.tick()  # once a day: not again
    assert [e.figures[0][1] for e in loaded(h.journal)] == [200_000, 300_000]
    assert h.gateway.book.adv_stale == "" and h.gateway.book.adv_max_qty["AAPL"] == 3_000


def test_the_file_path_is_relative_to_the_config_files_directory(tmp_path: Path) -> None:
    write(tmp_path / "adv.csv", 200_000)
    cfg = with_file(Path("adv.csv")).located(tmp_path / "interlock.toml")
    assert cfg.adv_file() == tmp_path / "adv.csv"
    assert build(cfg).gateway.book.adv_max_qty["AAPL"] == 2_000


def test_the_file_setting_leaves_no_trace_in_digests_while_unset() -> None:
    cfg = load_config()
    assert '"file"' not in cfg.limits.canonical_json()
    assert '"file"' in with_file(Path("adv.csv")).limits.canonical_json()


def test_a_config_file_naming_the_adv_file_loads_it_from_beside_itself(tmp_path: Path) -> None:
    """As `interlock serve --config` reads it: the path is relative to the file's directory."""
    text = resources.files("interlock").joinpath("data/default.toml").read_text()
    assert "[limits.adv]\n" in text
    (tmp_path / "etc").mkdir()
    conf = tmp_path / "etc" / "interlock.toml"
    conf.write_text(text.replace("[limits.adv]\n", '[limits.adv]\nfile = "adv.csv"\n', 1))
    write(tmp_path / "etc" / "adv.csv", 200_000)
    cfg = load_config(conf)
    assert cfg.adv_file() == tmp_path / "etc" / "adv.csv"
    assert cfg.fleet_digest() == load_config(conf).fleet_digest()  # the path, not the figures
    assert build(cfg).gateway.book.adv_max_qty["AAPL"] == 2_000


def test_the_pre_open_watchs_periodic_look_runs_the_daily_load(tmp_path: Path) -> None:
    """The watch serve starts (api/service.py) is the tick: no thread of the ADV file's own."""
    f = write(tmp_path / "adv.csv", 200_000, as_of="2025-08-01")
    clock = ManualClock(START_NS)
    h = build(with_file(f), clock=clock)
    write(f, 300_000, as_of="2025-08-04")
    clock.now = new_york_ns("2025-08-04", "07:00:05")
    h.gateway.preopen.look()
    assert [e.figures[0][1] for e in loaded(h.journal)] == [200_000, 300_000]
