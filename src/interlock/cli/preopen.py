"""`interlock preopen`: the pre-open readiness verdict of a running member, and a person's
acknowledgement that opens anyway.

It asks a live member's admin listener (`--admin`, `--token`: cli/admin_client.py). Exit
codes: 0 ready (or, with `--ack`, acknowledged: the causes are printed and journaled as
opened over); 1 not ready, each cause on its own line; 2 usage or no listener.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from interlock.cli.admin_client import Admin, AdminToken, AdminUrl
from interlock.cli.common import console


def _causes(out: Console, readiness: dict[str, Any]) -> None:
    for cause in readiness["causes"]:
        out.print(Text(f"  {cause['check']}: {cause['text']}"), soft_wrap=True)


def preopen(
    admin: AdminUrl = "",
    token: AdminToken = "",
    ack: Annotated[
        bool,
        typer.Option(
            "--ack",
            help="Open anyway: acknowledge every cause and error so far "
            "(journaled: who, when, which causes); needs an operator token.",
        ),
    ] = False,
) -> None:
    """Is this member ready for the open? Exit 0 ready, 1 not ready (each cause named)."""
    out = console()
    client = Admin(out, admin, token)
    if ack:
        a = client.post("/preopen/ack")
        out.print(
            Text(
                f"acknowledged by {a['who']} (journal seq {a['seq']}): "
                f"{len(a['causes'])} cause(s), {a['alerts']} error-level alert(s)"
                + ("; routing unblocked" if a["lifted"] else "")
            ),
            soft_wrap=True,
        )
        for line in a["causes"]:
            out.print(Text(f"  {line}"), soft_wrap=True)
        return
    r = client.get("/preopen")
    if r["ready"] and not r["blocked"]:
        out.print(Text(f"READY: {r['instance_id']}"), soft_wrap=True)
        return
    blocked = "; new orders refused NOT_READY" if r["blocked"] else ""
    out.print(
        Text(f"NOT READY: {r['instance_id']}, {len(r['causes'])} cause(s){blocked}"), soft_wrap=True
    )
    _causes(out, r)
    if not r["causes"]:  # blocked at the open; the causes cleared since, the block stays
        out.print(Text("  open: blocked at the open until a person acknowledges "
                       "(interlock preopen --ack)"), soft_wrap=True)  # fmt: skip
    raise typer.Exit(1)
