"""The dashboard's HTML: plain string templates, every value escaped (`_e`).

`panels(snapshot)` renders the live part; the page embeds it once and the server-sent
events replace it with a fresh rendering each second, so there is one renderer and one
place where escaping happens. The script is small and inline: no front-end build.
"""

from __future__ import annotations

import html
from typing import Any

from interlock.api.dashboard.drop_copy import drop_copy_panel
from interlock.domain.enums import HaltScope

STALE_MS = 0
"""A member whose lease has this much or less left is stale (shown in red)."""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _members(fleet: dict[str, Any]) -> str:
    rows = []
    for m in fleet["members"]:
        stale = m["lease_left_ms"] <= STALE_MS or m["gate"] not in ("attested", "routing")
        rows.append(
            f'<tr class="{"stale" if stale else "ok"}" data-member="{_e(m["instance_id"])}">'
            f"<td>{_e(m['instance_id'])}</td><td>{_e(m['host'])}</td>"
            f"<td><code>{_e(m['build_digest'][:16])}</code></td><td>{_e(m['gate'])}</td>"
            f"<td>{_e(m['lease_left_ms'])} ms</td></tr>"
        )
    head = (
        "<tr><th>member</th><th>host</th><th>build</th><th>attestation</th><th>lease left</th></tr>"
    )
    return f"<table>{head}{''.join(rows)}</table>"


def _halts(halts: list[dict[str, Any]]) -> str:
    if not halts:
        return '<p id="halts-none">no halt in force</p>'
    rows = "".join(
        f"<tr><td>{_e(h['scope'])}</td><td>{_e(h['target'] or '*')}</td><td>{_e(h['reason'])}"
        f"</td><td>{_e(h['who'])}</td><td>{h['confirmed']}/{h['members']} confirmed</td></tr>"
        for h in halts
    )
    return f'<table id="halts"><tr><th>scope</th><th>target</th><th>reason</th><th>who</th>' \
           f"<th>confirmed</th></tr>{rows}</table>"  # fmt: skip


def _limit_changes(changes: list[dict[str, Any]]) -> str:
    if not changes:
        return '<p id="limit-changes-none">no raise waiting for approval</p>'
    rows = "".join(
        f"<tr><td>{_e(c['change_id'])}</td><td>{_e('; '.join(c['items']))}</td>"
        f"<td>{_e(c['proposer'])}</td><td>{_e(c['reason'])}</td></tr>"
        for c in changes
    )
    return f'<table id="limit-changes"><tr><th>change</th><th>limits</th><th>proposer</th>' \
           f"<th>reason</th></tr>{rows}</table>"  # fmt: skip


def _lines(lines: list[dict[str, Any]]) -> str:
    if not lines:
        return "<p>no positions or open orders</p>"
    rows = "".join(
        f'<tr data-line="{_e(x["account"])}/{_e(x["symbol"])}"><td>{_e(x["account"])}</td>'
        f"<td>{_e(x['symbol'])}</td><td>{x['position']:,}</td>"
        f"<td>+{x['open_buy']:,} / -{x['open_sell']:,}</td>"
        f'<td><div class="bar"><div class="fill{" hot" if x["utilisation_pct"] >= 80 else ""}" '
        f'style="width:{int(x["utilisation_pct"])}%"></div></div>'
        f"{x['worst']:,} of {x['limit']:,} ({int(x['utilisation_pct'])}%)</td></tr>"
        for x in lines
    )
    head = (
        "<tr><th>account</th><th>symbol</th><th>position</th><th>open</th>"
        "<th>worst case vs limit</th></tr>"
    )
    return f"<table>{head}{rows}</table>"


def _rates(rates: dict[str, int]) -> str:
    if not rates:
        return "<p>no orders in the last minute</p>"
    cells = "".join(
        f'<tr data-code="{_e(code)}"><td>{_e(code)}</td><td class="n">{n}</td></tr>'
        for code, n in rates.items()
    )
    return f'<table id="rates"><tr><th>decision</th><th>last minute</th></tr>{cells}</table>'


def _unread(error: str) -> str:
    return f'<p class="stale">journal not readable now: {_e(error)}</p>' if error else ""


def _trips(trips: list[dict[str, Any]]) -> str:
    if not trips:
        return "<p>no monitor trip</p>"
    return "<ul>" + "".join(
        f"<li>{_e(t['detector'])}: {_e(t['scope'])} {_e(t['target'])}: {_e(t['reason'])} "
        f"({_e(t['report'])})</li>" for t in trips
    ) + "</ul>"  # fmt: skip


def _preopen(view: dict[str, Any]) -> str:
    """The pre-open gate's latest look: its summary, then each cause on its own line."""
    cls = "ok" if view["ready"] and not view["blocked"] else "stale"
    causes = "".join(f"<li><b>{_e(c['check'])}</b>: {_e(c['text'])}</li>" for c in view["causes"])
    blocked = " New orders are refused NOT_READY until acknowledged." if view["blocked"] else ""
    return f'<p id="preopen" class="{cls}">{_e(view["summary"])}{blocked}</p>' + (
        f'<ul id="preopen-causes">{causes}</ul>' if causes else ""
    )


def panels(snap: dict[str, Any]) -> str:
    """The live part of the page, every value escaped."""
    fleet, ready = snap["fleet"], snap["readiness"]
    ready_cls = "ok" if ready["gate"] == "routing" else "stale"
    return (
        f'<section><h2>Release</h2><p id="release">epoch <b>{_e(fleet["epoch"])}</b>, build '
        f"<code>{_e(fleet['build_digest'] or '(any)')}</code>, flags "
        f"<code>{_e(fleet['flag_digest'] or '(any)')}</code></p></section>"
        f'<section><h2>Readiness</h2><p id="readiness" class="{ready_cls}">'
        f"{_e(fleet['this_instance'])}: {_e(ready['gate'])}; journal {_e(ready['journal'])}"
        f" at seq {_e(ready['durable_seq'])}; lease {_e(ready['lease_left_ms'])} ms left"
        f"{'; ' + _e(ready['journal_failure']) if ready['journal_failure'] else ''}</p>"
        f"{_preopen(ready['preopen'])}</section>"
        f"<section><h2>Members</h2>{_members(fleet)}</section>"
        f"<section><h2>Halts in force</h2>{_halts(snap['halts'])}</section>"
        f"<section><h2>Limit raises pending</h2>"
        f"{_limit_changes(snap.get('limit_changes', []))}</section>"
        f"{drop_copy_panel(snap.get('drop_copy'))}"
        f"<section><h2>Positions and reservations</h2>{_lines(snap['lines'])}</section>"
        f"<section><h2>Decisions, last minute</h2>{_rates(snap['rates'])}"
        f"{_unread(snap.get('rates_error', ''))}</section>"
        f"<section><h2>Monitor trips</h2>{_trips(snap['trips'])}</section>"
    )


_STYLE = """
body{font:14px system-ui,sans-serif;margin:1em 2em;background:#fafafa;color:#222}
table{border-collapse:collapse;margin:.3em 0}td,th{padding:2px 10px;text-align:left;
border-bottom:1px solid #ddd}tr.stale td,p.stale{color:#b00;font-weight:bold}
.bar{display:inline-block;width:160px;height:10px;background:#e4e4e4;margin-right:8px}
.fill{height:10px;background:#2a7}.fill.hot{background:#c33}section{margin-bottom:.8em}
h2{font-size:15px;margin:.6em 0 .2em}#kill{border:2px solid #b00;padding:.6em;
background:#fff}#result{font-weight:bold}td.n{text-align:right}
"""

_SCRIPT = """
const csrf=document.body.dataset.csrf;
const es=new EventSource('/dashboard/events');
es.onmessage=e=>{document.getElementById('live').innerHTML=JSON.parse(e.data).html;
document.body.dataset.updates=String(Number(document.body.dataset.updates||0)+1);};
async function act(path){const f=document.getElementById('kill');
const b=new URLSearchParams(new FormData(f));b.append('csrf',csrf);
const r=await fetch(path,{method:'POST',body:b,
credentials:'same-origin'});const j=await r.json();
document.getElementById('result').textContent=j.summary||j.message||JSON.stringify(j);}
document.getElementById('halt').onclick=()=>{const s=document.getElementById('scope').value;
const t=document.getElementById('target').value;
if(confirm('Halt '+s+' '+t+'?'))act('/dashboard/halt');};
document.getElementById('resume').onclick=()=>{const s=document.getElementById('scope').value;
const t=document.getElementById('target').value;
if(confirm('Resume '+s+' '+t+'?')&&confirm('Really resume trading for '+s+' '+t+'?'))
act('/dashboard/resume');};
"""


def page(snap: dict[str, Any], csrf: str, who: str) -> str:
    options = "".join(f'<option value="{s.value}">{s.value}</option>' for s in HaltScope)
    return (
        '<!doctype html><html><head><meta charset="utf-8"><title>Interlock</title>'
        f"<style>{_STYLE}</style></head>"
        f'<body data-csrf="{_e(csrf)}"><h1>Interlock: operator\'s console</h1>'
        f"<p>signed in as {_e(who)}</p>"
        '<form id="kill" onsubmit="return false"><b>Kill switch</b> '
        f'<select id="scope" name="scope">{options}</select> '
        '<input id="target" name="target" placeholder="target (empty for global)" maxlength="64">'
        ' <input id="reason" name="reason" maxlength="500"'
        ' value="operator halt from the dashboard">'
        ' <button id="halt" type="button">Halt</button>'
        ' <button id="resume" type="button">Resume</button>'
        ' <span id="result"></span></form>'
        f'<div id="live">{panels(snap)}</div><script>{_SCRIPT}</script></body></html>'
    )


def login_page(message: str = "") -> str:
    note = f'<p class="stale" id="login-error">{_e(message)}</p>' if message else ""
    return (
        '<!doctype html><html><head><meta charset="utf-8"><title>Interlock sign-in</title>'
        f"<style>{_STYLE}</style></head><body><h1>Interlock: operator's console</h1>{note}"
        '<form method="post" action="/dashboard/login"><label>admin token '
        '<input id="token" name="token" type="password" autocomplete="off"></label> '
        '<button id="signin" type="submit">Sign in</button></form></body></html>'
    )
