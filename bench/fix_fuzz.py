"""FIX fuzz of a running `interlock serve`: every message accounted for, the process alive.

One real serve process (the packaged config with its FIX acceptor on loopback, rate
limits and runaway monitors raised: see sim/fix_fuzz_serve.py) takes `--messages` fuzz
cases from `sim/fix_fuzz.py` (seeded: `--seed` reproduces a run) over three raw-socket
desk sessions in parallel, then a logon flood (`--flood` attempts, 16 at a time, good
and bad credentials, unknown and busy CompIDs) with `--loris` slow-loris connections
held open, and a probe desk's order during and after. Then SIGTERM and `interlock
journal verify`. The table: messages sent by class, answers by MsgType, engine drops and
disconnects, failures (silent, wedged, INTERNAL_ERROR), the flood, the probes, the
process and the journal.

    python bench/fix_fuzz.py [--messages 100000] [--seed 1] [--flood 400] [--loris 20]
                             [--json bench/results/fix_fuzz.json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from interlock.sim.fix_fuzz_serve import campaign


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--messages", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--flood", type=int, default=400, help="logon attempts")
    p.add_argument("--loris", type=int, default=20, help="slow-loris connections")
    p.add_argument("--json", type=Path, default=Path("bench/results/fix_fuzz.json"))
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="interlock-fix-fuzz-") as tmp:
        out = campaign(Path(tmp), messages=args.messages, seed=args.seed, flood=args.flood,
                       loris=args.loris)  # fmt: skip
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2) + "\n")
    _print(out)
    return out


def _print(out: dict[str, Any]) -> None:
    console = Console()
    sent = Table(title=f"FIX fuzz: {out['sent']:,} messages, seed {out['seed']}, "
                       f"{out['fuzz_seconds']} s ({out['messages_per_s']:,} /s)")  # fmt: skip
    sent.add_column("class")
    sent.add_column("sent", justify="right")
    for k, v in out["sent_by_class"].items():
        sent.add_row(k, f"{v:,}")
    console.print(sent)
    ans = Table(title="outcomes")
    ans.add_column("outcome")
    ans.add_column("count", justify="right")
    for k, v in out["answered_by_kind"].items():
        ans.add_row(f"answered 35={k}", f"{v:,}")
    ans.add_row("dropped by the engine (gap proves the session alive)",
                f"{out['dropped_by_engine']:,}")  # fmt: skip
    ans.add_row("disconnected by the engine (34/52 unusable)",
                f"{out['disconnected_by_engine']:,}")  # fmt: skip
    for k in ("silent", "wedged", "internal_errors", "relogons", "unsolicited_reports"):
        ans.add_row(k.replace("_", " "), f"{out[k]:,}")
    console.print(ans)
    title = (f"logon flood: {out['flood_attempts']} attempts in {out['flood_seconds']} s, "
             f"{out['slow_loris_connections']} slow-loris")  # fmt: skip
    flood = Table(title=title)
    flood.add_column("kind")
    flood.add_column("outcomes")
    for k, v in out["flood_outcomes"].items():
        flood.add_row(k, ", ".join(f"{r}: {n}" for r, n in sorted(v.items())))
    console.print(flood)
    console.print(
        f"probe during: {out['probe_during']}, after: {out['probe_after']}; slow-loris closed "
        f"by the acceptor {out['slow_loris_closed']}/{out['slow_loris_connections']}; "
        f"crashed: {out['crashed']}, serve exit {out['serve_exit_code']}, errors logged "
        f"{out['serve_errors_logged']}; journal verify exit {out['journal_verify_exit']}: "
        f"{' '.join(out['journal_verify_tail'])}"
    )


if __name__ == "__main__":
    main()
