"""`interlock adv ...`: the ADV file a running member has in force (`limits.adv.file`),
through its admin listener (cli/admin_client.py: `--admin`, `--token`).

`reload` (an operator or risk token) makes the member read its file now: journaled and in
force if new, refused whole if bad or stale (the figures in force stay). `show` prints
what is in force; members of a fleet must show the same digest. Exit codes: 0 done,
1 refused (the member's `CODE: reason`), 2 usage or unreachable.
"""

from __future__ import annotations

from typing import Any

import typer
from rich.text import Text

from interlock.cli.admin_client import Admin, AdminToken, AdminUrl
from interlock.cli.common import console

adv_app = typer.Typer(
    help="The ADV file on a running member (--admin, --token): reload, show.",
    no_args_is_help=True,
)


def _line(r: dict[str, Any]) -> str:
    if not r["as_of"]:
        return f"no ADV file figures in force (file {r['file'] or 'not configured'})"
    text = (f"ADV as_of {r['as_of']}: {r['count']:,} figure(s), digest {r['digest']}, "
            f"from {r['file']}")  # fmt: skip
    return text + (f"; STALE: {r['stale']}" if r["stale"] else "")


@adv_app.command()
def reload(admin: AdminUrl = "", token: AdminToken = "") -> None:
    """Read the member's ADV file now: journaled and in force if new; a bad file changes nothing."""
    out = console()
    out.print(Text(_line(Admin(out, admin, token).post("/adv/reload"))), soft_wrap=True)


@adv_app.command()
def show(admin: AdminUrl = "", token: AdminToken = "") -> None:
    """The ADV figures in force: file, as_of, count, digest (the same on every member)."""
    out = console()
    out.print(Text(_line(Admin(out, admin, token).get("/adv"))), soft_wrap=True)
