"""The console's drop-copy panel: is the instance comparing its venue's executions with
what it released (gateway/drop_copy.py), and the breaks so far, newest first. Absent when
no drop copy is configured."""

from __future__ import annotations

import html
from typing import Any

from interlock.gateway.gateway import Gateway


def drop_copy_snapshot(gateway: Gateway) -> dict[str, Any] | None:
    watch = gateway.drop_copy
    if watch is None:
        return None
    view = watch.view()
    return {
        "session": view.session,
        "state": view.state,
        "since_ns": view.since_ns,
        "matched": view.matched,
        "duplicates": view.duplicates,
        "break_count": view.break_count,
        "breaks": [
            {"ts_ns": b.ts, "kind": b.kind, "exec_id": b.exec_id, "cl_ord_id": b.cl_ord_id,
             "account": b.account, "symbol": b.symbol, "qty": b.qty, "detail": b.detail,
             "halted": f"{b.scope.value}:{b.target}"}
            for b in reversed(view.recent)  # newest first
        ],
    }  # fmt: skip


def drop_copy_panel(snap: dict[str, Any] | None) -> str:
    if snap is None:
        return ""
    e = html.escape
    up = snap["state"] == "up"
    state = (
        f'<p id="drop-copy" class="{"ok" if up else "stale"}">drop copy {e(snap["session"])}: '
        f"{'up' if up else 'DOWN: executions are not being compared (blind)'}; "
        f"{snap['matched']:,} matched, {snap['duplicates']:,} duplicates, "
        f"<b>{snap['break_count']:,} break(s)</b></p>"
    )
    if not snap["breaks"]:
        return f"<section><h2>Drop copy</h2>{state}</section>"
    rows = "".join(
        f'<tr class="stale" data-exec="{e(b["exec_id"])}"><td>{e(b["kind"])}</td>'
        f"<td>{e(b['exec_id'])}</td><td>{e(b['account'] or '?')}</td>"
        f"<td>{e(b['symbol'] or '?')}</td><td>{b['qty']:,}</td><td>{e(b['halted'])}</td>"
        f"<td>{e(b['detail'])}</td></tr>"
        for b in snap["breaks"]
    )
    head = ("<tr><th>break</th><th>exec id</th><th>account</th><th>symbol</th><th>qty</th>"
            "<th>halted</th><th>detail</th></tr>")  # fmt: skip
    table = f'<table id="drop-copy-breaks">{head}{rows}</table>'
    return f"<section><h2>Drop copy</h2>{state}{table}</section>"
