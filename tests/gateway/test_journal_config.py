"""`[journal]`: SQLite or PostgreSQL, the DSN never with a password in the file, every
problem at its dotted key, and the journal kept out of the fleet digest."""

from __future__ import annotations

from pathlib import Path

import pytest

from interlock.api.config import load_config, parse_config
from interlock.errors import ConfigError
from interlock.gateway.config import read_toml
from interlock.gateway.journal_config import JournalConfig, open_journal
from interlock.journal.sqlite import SqliteJournal


def _with_journal(**journal: object) -> dict[str, object]:
    data, _ = read_toml()
    return {**data, "journal": journal}


def _problems(**journal: object) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(_with_journal(**journal), "t.toml")
    return str(caught.value)


def test_postgres_needs_a_dsn_source_reported_at_journal_dsn_env() -> None:
    text = _problems(kind="postgres")
    assert "journal.dsn_env: " in text and "needs dsn_env" in text


def test_an_inline_dsn_with_a_password_is_refused_without_echoing_it() -> None:
    for dsn in ("host=db user=gw password=hunter2", "postgresql://gw:hunter2@db/journal"):
        text = _problems(kind="postgres", dsn=dsn)
        assert "journal.dsn: " in text and "holds a password" in text
        assert "hunter2" not in text


def test_every_journal_problem_at_once_each_at_its_key() -> None:
    text = _problems(kind="sqlite", dsn="host=db", dsn_env="X", connect_timeout_ms=0)
    assert "3 invalid key(s)" in text
    for key in ("journal.dsn: ", "journal.dsn_env: ", "journal.connect_timeout_ms: "):
        assert key in text
    assert "journal.kind: " in _problems(kind="mysql")
    assert "give dsn or dsn_env, not both" in _problems(kind="postgres", dsn="host=d", dsn_env="X")
    assert "not a libpq DSN" in _problems(kind="postgres", dsn="host='")


def test_the_dsn_is_read_from_its_variable_when_the_journal_opens(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cfg = JournalConfig(kind="postgres", dsn_env="ILK_TEST_DSN")
    monkeypatch.delenv("ILK_TEST_DSN", raising=False)
    with pytest.raises(ConfigError, match=r"journal\.dsn_env: \$ILK_TEST_DSN is not set"):
        open_journal(cfg, "gw-1")
    monkeypatch.setenv("ILK_TEST_DSN", " ")
    with pytest.raises(ConfigError, match="is empty"):
        cfg.resolved_dsn()
    monkeypatch.setenv("ILK_TEST_DSN", "host=db password=secret")
    assert cfg.resolved_dsn() == "host=db password=secret"
    assert "secret" not in cfg.describe("gw-1") and "$ILK_TEST_DSN" in cfg.describe("gw-1")


def test_the_default_opens_sqlite_at_its_path(tmp_path: Path) -> None:
    journal = open_journal(JournalConfig(path=f"{tmp_path}/j.db"), "gw-1")
    try:
        assert isinstance(journal, SqliteJournal)
    finally:
        journal.close()


def test_the_journal_stays_out_of_the_fleet_digest() -> None:
    base = load_config()
    on_postgres = parse_config(_with_journal(kind="postgres", dsn="host=db user=gw"))
    assert on_postgres.fleet_digest() == base.fleet_digest()
    assert on_postgres.digest() != base.digest()
