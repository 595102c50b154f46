"""`interlock locates ...`: the locates a running member holds (Reg SHO 203(b)), through its
admin listener (cli/admin_client.py: `--admin`, `--token`).

`add` needs an operator token; the member journals the locate and every member that
restarts rebuilds it with what its short sales used. `list` shows each with the shares
used by fills and held by open short sales. Exit codes: 0 done, 1 refused (the member's
`CODE: reason`), 2 usage or unreachable.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from interlock.cli.admin_client import Admin, AdminToken, AdminUrl, usage
from interlock.cli.common import console

locates_app = typer.Typer(
    help="Locates for short sales on a running member (--admin, --token): add, list.",
    no_args_is_help=True,
)


def _expiry_ns(text: str) -> int | None:
    """ISO 8601 with a zone (`2026-12-02T21:00:00Z`) as UTC ns; None if it is not one."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    if when.tzinfo is None:
        return None
    return int(when.timestamp()) * 1_000_000_000


@locates_app.command()
def add(
    locate_id: Annotated[str, typer.Argument(help="Names this locate for good.")],
    account: Annotated[str, typer.Option(help="The one account whose short sales it covers.")],
    symbol: Annotated[str, typer.Option(help="The symbol located.")],
    quantity: Annotated[int, typer.Option(help="Shares located.")],
    expires: Annotated[str, typer.Option(help="End, ISO 8601 with a zone: 2026-12-02T21:00Z.")],
    source: Annotated[str, typer.Option(help="Who lends the shares (recorded).")],
    admin: AdminUrl = "",
    token: AdminToken = "",
) -> None:
    """Add a locate: journaled, in force for the account's short sales until it expires."""
    out = console()
    expires_ns = _expiry_ns(expires)
    if expires_ns is None:
        raise usage(out, f"--expires must be ISO 8601 with a zone, not {expires!r}")
    body = {"locate_id": locate_id, "account": account, "symbol": symbol,
            "quantity": quantity, "expires_ns": expires_ns, "source": source}  # fmt: skip
    r = Admin(out, admin, token).post("/locates", body)
    text = (f"locate {r['locate_id']} added by {r['who']}: {r['quantity']:,} {r['symbol']} "
            f"for {r['account']} until {expires}")  # fmt: skip
    out.print(Text(text), soft_wrap=True)


@locates_app.command(name="list")
def listing(admin: AdminUrl = "", token: AdminToken = "") -> None:
    """Every locate: quantity, used by fills, held by open short sales, expiry."""
    out = console()
    rows = Admin(out, admin, token).get("/locates")
    table = Table(show_edge=False)
    for col in ("id", "account", "symbol", "quantity", "used", "held", "expires (UTC)", "source"):
        table.add_column(col)
    for r in rows:
        when = datetime.fromtimestamp(r["expires_ns"] // 1_000_000_000, UTC)
        table.add_row(Text(r["locate_id"]), Text(r["account"]), Text(r["symbol"]),
                      f"{r['quantity']:,}", f"{r['used']:,}", f"{r['reserved']:,}",
                      f"{when:%Y-%m-%d %H:%M:%S}", Text(r["source"]))  # fmt: skip
    out.print(table)
