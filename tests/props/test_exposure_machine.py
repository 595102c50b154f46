"""The exposure machine (tests/props/machine_kit.py) over a MemoryJournal: submit bursts,
pile on, resubmit, flush, market moves, time, cancel, halt/resume, parents and a clean
restart over the same journal object, DESIGN.md invariants 1, 2, 5 and 7 after every step.

Derandomized: the same 60 programs every time; `--hypothesis-show-statistics` shows
which reject codes they reach. tests/props/test_gateway_machine.py runs a subclass with
more rules over SQLite and PostgreSQL.
"""

from __future__ import annotations

from hypothesis import settings
from machine_kit import ExposureMachine

ExposureMachine.TestCase.settings = settings(
    max_examples=60, stateful_step_count=40, deadline=None, derandomize=True
)
test_exposure_machine = ExposureMachine.TestCase
