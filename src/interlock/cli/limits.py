"""`interlock limits ...`: four-eyes limit changes on a running instance's admin listener.

`propose PATH=VALUE ... --reason`: a lowering applies at once, a raise waits for another
risk principal's `approve ID`; `reject ID` declines it; `list` shows every change. As the
admin token's principal (`--admin`, `--token`: cli/admin_client.py), which must hold the
risk role. Exit codes: 0 done; 1 refused, with the listener's `CODE: reason` (a trader or
operator token, your own raise, a change the limits moved under, invalid limits); 2 usage
or no admin listener answered.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import typer
from rich.text import Text

from interlock.cli.admin_client import Admin, AdminToken, AdminUrl, usage
from interlock.cli.common import console as _console
from interlock.cli.common import utc_minute

limits_app = typer.Typer(
    help="Limit changes: lowerings apply at once; raises need a second risk principal.",
    no_args_is_help=True,
)
IdArgument = Annotated[str, typer.Argument(help="The change's id, e.g. LC-3.")]
Reason = Annotated[str, typer.Option("--reason", help="Why, for the audit trail.")]
_ASSIGN = re.compile(r"^([^=\s]+)=(\S+)$")


def _minute(ns: int) -> str:
    return utc_minute(ns) if ns else ""


def _items(c: dict[str, Any]) -> str:
    return ", ".join(f"{i['path']} {i['old']} -> {i['new']}" for i in c["items"])


def _said(c: dict[str, Any]) -> str:
    """One line: what the change did, or what it waits for."""
    if c["status"] == "pending":
        return (f"{c['change_id']} pending: a raise, waits for another risk principal "
                f"until {_minute(c['expires_ns'])} UTC: {_items(c)}")  # fmt: skip
    who = f" (approved by {c['approver']})" if c["approver"] else ""
    if c["status"] == "declined":
        who = f" by {c['declined_by']}"
    return f"{c['change_id']} {c['status']}{who}: {_items(c)}"


@limits_app.command("list")
def list_changes(admin: AdminUrl = "", token: AdminToken = "") -> None:
    """Every limit change of the instance, newest first, with its status now."""
    from rich.table import Table

    out = _console()
    r = Admin(out, admin, token).get("/limits/changes")
    table = Table(title=f"limit changes: {len(r['changes'])} (limits in force "
                        f"{r['limits_digest']})", show_edge=False)  # fmt: skip
    for name in ("id", "status", "items", "proposer", "approver", "proposed (UTC)", "reason"):
        table.add_column(name, no_wrap=name not in ("items", "reason"))
    for c in r["changes"]:
        status = c["status"]
        style = "bold yellow" if status == "pending" else "" if status == "applied" else "dim"
        table.add_row(c["change_id"], c["status"], Text(_items(c)), Text(c["proposer"]),
                      Text(c["approver"] or c["declined_by"]), _minute(c["proposed_ns"]),
                      Text(c["reason"]), style=style)  # fmt: skip
    out.print(table)


@limits_app.command("propose")
def propose(
    changes: Annotated[
        list[str],
        typer.Argument(
            help="PATH=VALUE, e.g. "
            "accounts.desk-7.max_position=25000 or defaults.credit_limit=40000000."
        ),
    ],
    reason: Reason = "",
    admin: AdminUrl = "",
    token: AdminToken = "",
) -> None:
    """Propose a change: a lowering applies now; a raise (any value up) waits."""
    out = _console()
    items: list[dict[str, object]] = []
    for text in changes:
        m = _ASSIGN.match(text)
        if m is None:
            raise usage(out, f"not PATH=VALUE: {text!r}")
        value: object = int(m.group(2)) if m.group(2).isdigit() else m.group(2)
        items.append({"path": m.group(1), "value": value})
    r = Admin(out, admin, token).post("/limits/changes", {"items": items, "reason": reason})
    out.print(Text(_said(r), style="green" if r["status"] == "applied" else "yellow"),
              soft_wrap=True)  # fmt: skip


@limits_app.command("approve")
def approve(change_id: IdArgument, admin: AdminUrl = "", token: AdminToken = "") -> None:
    """Approve another principal's pending raise: it applies at once."""
    out = _console()
    r = Admin(out, admin, token).post(f"/limits/changes/{change_id}/approve")
    out.print(Text(_said(r), style="green"), soft_wrap=True)


@limits_app.command("reject")
def reject_change(
    change_id: IdArgument, reason: Reason = "", admin: AdminUrl = "", token: AdminToken = ""
) -> None:
    """Decline a pending raise: it is closed for good and never applies."""
    out = _console()
    r = Admin(out, admin, token).post(f"/limits/changes/{change_id}/decline", {"reason": reason})
    out.print(Text(_said(r), style="yellow"), soft_wrap=True)
