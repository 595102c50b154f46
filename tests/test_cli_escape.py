"""`interlock journal show` and `interlock config check` never write a raw control byte to
the terminal, even for records of an old (or tampered) journal written before ids were
checked: the records are written straight into a SQLite journal, then shown by a real
process whose stdout bytes are inspected."""

from __future__ import annotations

import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from interlock.domain.commands import OrderRequest
from interlock.domain.enums import HaltScope, Side
from interlock.domain.events import CancelRequested, HaltApplied, OrderDecided
from interlock.journal.sqlite import SqliteJournal
from interlock.render_text import printable

EVIL = "\x1b[2J\x1b[H\n\r\x00\x07\x7f\x85\x9b31m\u2028"
# C0 but the newline Rich ends lines with, DEL, and C1 controls as UTF-8 (0xC2 0x80-0x9F).
RAW_CONTROL = re.compile(rb"[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\xa8\xa9]")
INTERLOCK = str(Path(sys.executable).with_name("interlock"))


def _show(*args: str) -> bytes:
    done = subprocess.run(
        [INTERLOCK, *args], capture_output=True, timeout=60, env={"COLUMNS": "200", "PATH": ""}
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_printable_escapes_every_control_character_and_keeps_plain_text() -> None:
    assert printable("desk-7 ordre-é") == "desk-7 ordre-é"
    shown = printable(EVIL)
    assert shown.isprintable() and "\\x1b[2J" in shown and "\\n" in shown and "\\x85" in shown


def test_journal_show_escapes_control_characters_of_records_already_journaled(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    journal = SqliteJournal(path)
    request = OrderRequest(f"c1{EVIL}", f"desk-7{EVIL}", f"vwap{EVIL}", "AAPL", Side.BUY, 100,
                           limit_price=Decimal("100.00"), parent_id=f"p{EVIL}")  # fmt: skip
    journal.append(OrderDecided(1, "desk", request, None, 0, 0, "HALTED", f"r{EVIL}", "", "", "d"))
    journal.append(OrderDecided(2, "", None, None, 0, 0, "SCHEMA_INVALID", EVIL, "", "", "d", EVIL))
    journal.append(CancelRequested(3, 1, f"ops{EVIL}", f"why{EVIL}"))
    journal.append(HaltApplied(4, HaltScope.ACCOUNT, f"desk-7{EVIL}", f"why{EVIL}", EVIL))
    journal.flush()
    journal.close()

    out = _show("journal", "show", str(path))

    assert RAW_CONTROL.search(out) is None, out
    assert out.count(b"\\x1b[2J") >= 6 and b"4 of " in out


def test_config_check_escapes_control_characters_in_the_names_it_prints(tmp_path: Path) -> None:
    from importlib import resources

    text = resources.files("interlock").joinpath("data/default.toml").read_text()
    evil = text.replace('principal = "desk-7-algo"', 'principal = "desk-7\\u001b[2J\\u009b1m"')
    assert evil != text
    path = tmp_path / "evil.toml"
    path.write_text(evil)

    out = _show("config", "check", str(path))

    assert RAW_CONTROL.search(out) is None, out
    assert b"desk-7\\x1b[2J\\x9b1m" in out
