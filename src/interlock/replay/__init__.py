"""The Knight Capital replay of 1 August 2012: scenario, market, router, runs, report."""

from interlock.replay.knight import DEFAULT_SEED, run_knight
from interlock.replay.report import BANDS, KnightReport
from interlock.replay.runs import RUN_NAMES, RUNS

__all__ = ["BANDS", "DEFAULT_SEED", "RUNS", "RUN_NAMES", "KnightReport", "run_knight"]
