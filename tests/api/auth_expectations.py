"""The auth matrix, written down: for every REST and admin operation and every FIX
message type, what each kind of credential must get. Data only: the test
(tests/api/test_auth_matrix.py) asserts each cell against a real `interlock serve`, and
scripts/gen_security_doc.py renders the same cells into docs/security.md.

Why written by hand: an expectation must come from what a role is meant to do (DESIGN.md,
docs/rest-api.md), never from what the server happens to answer. Each allowed cell is a
real request chosen so that passing the role check is visible and harmless (a halt of KCG
then its resume, a limit raise left pending, a deploy commit with nothing proposed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from interlock.gateway.config import hash_key

Outcome = tuple[int, str]
"""(HTTP status, reject code; "" for a success, which has no code)."""

# -- the credentials ---------------------------------------------------------------------

DESK_KEY, MM_KEY = "demo-desk-7-key", "demo-mm-key"
RISK_KEY, OPERATOR_KEY, ADMIN_TOKEN = "demo-risk-key", "demo-operator-key", "demo-admin-token"
EXPIRED_KEY, REVOKED_KEY = "authmatrix-expired-key", "authmatrix-revoked-key"
READER_TOKEN, RISK_TOKEN = "authmatrix-reader-token", "authmatrix-risk-token"
EXPIRED_TOKEN, REVOKED_TOKEN = "authmatrix-expired-token", "authmatrix-revoked-token"
PAST = "2020-01-01T00:00:00Z"


@dataclass(frozen=True)
class Credential:
    name: str
    what: str
    header: str | None  # the Authorization header's value; None: no header at all


CREDENTIALS: tuple[Credential, ...] = (
    Credential("trader", "desk-7's trading key (the account's own trader)", f"Bearer {DESK_KEY}"),
    Credential("other trader", "mm-1's trading key (another account's trader)", f"Bearer {MM_KEY}"),
    Credential("risk key", "REST key, role risk", f"Bearer {RISK_KEY}"),
    Credential("operator key", "REST key, role operator", f"Bearer {OPERATOR_KEY}"),
    Credential("admin operator", "admin token, role operator", f"Bearer {ADMIN_TOKEN}"),
    Credential("admin reader", "admin token, role reader", f"Bearer {READER_TOKEN}"),
    Credential("admin risk", "admin token, role risk", f"Bearer {RISK_TOKEN}"),
    Credential("none", "no Authorization header", None),
    Credential(
        "malformed", "`Authorization: Basic ...` (not a bearer token)", "Basic ZGVtbzpkZW1v"
    ),
    Credential("expired key", f"a trading key with not_after {PAST}", f"Bearer {EXPIRED_KEY}"),
    Credential("revoked key", "a trading key listed and in `revoked`", f"Bearer {REVOKED_KEY}"),
    Credential("expired token", f"an admin token with not_after {PAST}", f"Bearer {EXPIRED_TOKEN}"),
    Credential(
        "revoked token", "an admin token listed and in `revoked`", f"Bearer {REVOKED_TOKEN}"
    ),
)
NAMES = tuple(c.name for c in CREDENTIALS)

CONFIG = f"""
[[api_keys]]
principal = "desk-7-expired"
key_sha256 = "{hash_key(EXPIRED_KEY)}"
accounts = ["desk-7"]
not_after = "{PAST}"

[[api_keys]]
principal = "desk-7-revoked"
key_sha256 = "{hash_key(REVOKED_KEY)}"
accounts = ["desk-7"]

[[admin.tokens]]
principal = "authmatrix-reader"
token_sha256 = "{hash_key(READER_TOKEN)}"
role = "reader"

[[admin.tokens]]
principal = "authmatrix-risk"
token_sha256 = "{hash_key(RISK_TOKEN)}"
role = "risk"

[[admin.tokens]]
principal = "authmatrix-expired"
token_sha256 = "{hash_key(EXPIRED_TOKEN)}"
not_after = "{PAST}"

[[admin.tokens]]
principal = "authmatrix-revoked"
token_sha256 = "{hash_key(REVOKED_TOKEN)}"
"""
"""What the matrix's serve adds to the packaged default (TOML appended)."""
REVOKED = (hash_key(REVOKED_KEY), hash_key(REVOKED_TOKEN))
"""The top-level `revoked` list (written at the top of the file)."""

# -- the common refusals -------------------------------------------------------------------

UNKNOWN: Outcome = (401, "UNAUTHENTICATED")
EXPIRED: Outcome = (401, "CREDENTIAL_EXPIRED")
REVOKED_: Outcome = (401, "CREDENTIAL_REVOKED")
ROLE: Outcome = (403, "UNAUTHENTICATED")
OK: Outcome = (200, "")

_REST_KNOWN = {"trader", "other trader", "risk key", "operator key"}
_ADMIN_KNOWN = {"admin operator", "admin reader", "admin risk"}
_EDGE: dict[str, Outcome] = {"expired key": EXPIRED, "expired token": EXPIRED,
                             "revoked key": REVOKED_, "revoked token": REVOKED_}  # fmt: skip
"""`revoked` is one list for every listener: a revoked digest is CREDENTIAL_REVOKED
wherever it is shown; an expired credential is expired only where it is known."""


def _refusal(name: str, known: set[str], expired_here: str) -> Outcome:
    """What a credential that is not allowed gets on a listener that knows `known`."""
    if name in known:
        return ROLE
    if name.startswith("revoked"):
        return REVOKED_
    return EXPIRED if name == expired_here else UNKNOWN


@dataclass(frozen=True)
class Operation:
    """One HTTP operation: `allowed` credential -> its outcome; every other credential
    gets the listener's refusal (401 unknown, expired or revoked; 403 a role not allowed)."""

    method: str
    path: str  # as in the OpenAPI (placeholders filled by the test)
    allowed: dict[str, Outcome]
    body: dict[str, Any] | None = None
    public: bool = False  # no credential is looked at
    note: str = ""
    expect: dict[str, Outcome] = field(default_factory=dict)  # filled by `_complete`

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


def _complete(ops: list[Operation], known: set[str], expired_here: str) -> list[Operation]:
    for op in ops:
        for name in NAMES:
            if op.public:
                op.expect[name] = op.allowed["*"]
            else:
                op.expect[name] = op.allowed.get(name) or _refusal(name, known, expired_here)
    return ops


READERS = ("trader", "other trader", "risk key", "operator key")
ORDER = {"client_order_id": "<cell>", "account": "desk-7", "strategy": "vwap",
         "symbol": "AAPL", "side": "buy", "quantity": 10, "limit_price": "99.00"}  # fmt: skip

REST: list[Operation] = _complete([
    Operation("POST", "/orders", {"trader": (201, ""), "other trader": ROLE}, ORDER,
              note="a desk-7 order; another account's trader may not trade desk-7"),
    Operation("GET", "/orders", dict.fromkeys(READERS, OK),
              note="the other trader's list holds none of desk-7's orders"),
    Operation("GET", "/orders/{order_id}",
              {"trader": OK, "other trader": (404, "ORDER_NOT_FOUND"), "risk key": OK,
               "operator key": OK}, note="a desk-7 order: another account's is not found"),
    Operation("POST", "/orders/mass-cancel",
              {"trader": (202, ""), "other trader": (403, "NOT_ACCOUNT_OWNER")},
              {"account": "desk-7", "symbol": "KCG"}),
    Operation("DELETE", "/orders/{order_id}",
              {"trader": (202, ""), "other trader": (404, "ORDER_NOT_FOUND")},
              note="a resting desk-7 order"),
    Operation("GET", "/positions", dict.fromkeys(READERS, OK)),
    Operation("GET", "/limits", {"trader": OK, "other trader": OK, "risk key": OK}),
    Operation("GET", "/health", {"*": OK}, public=True, note="the load balancer's probe"),
], _REST_KNOWN, "expired key")  # fmt: skip
"""The REST listener, in the order the test runs them."""

VIEWS = ("admin operator", "admin reader", "admin risk")
FLAG = "authmatrix_probe"


def _view(path: str) -> Operation:
    return Operation("GET", path, dict.fromkeys(VIEWS, OK))


def _op(method: str, path: str, outcome: Outcome, body: dict[str, Any] | None = None,
        note: str = "", who: str = "admin operator") -> Operation:  # fmt: skip
    return Operation(method, path, {who: outcome}, body, note=note)


REFUSED_DEPLOY: Outcome = (409, "DEPLOY_REFUSED")
ADMIN: list[Operation] = _complete([
    _view("/fleet"), _view("/fleet/members"), _view("/halts"), _view("/metrics"),
    _view("/preopen"), _view("/flags"), _view("/limits/changes"), _view("/locates"),
    _view("/adv"),
    Operation("GET", "/deploy/readiness", dict.fromkeys(VIEWS, REFUSED_DEPLOY),
              note="nothing proposed: 409 once the role is let through"),
    _op("POST", "/halt", OK, {"scope": "symbol", "target": "KCG", "reason": "auth matrix"}),
    _op("POST", "/resume", OK, {"scope": "symbol", "target": "KCG"}),
    _op("POST", "/deploy/propose", (422, "SCHEMA_INVALID"), {},
        note="an empty proposal: refused by its schema once the role is let through"),
    _op("POST", "/deploy/commit", REFUSED_DEPLOY, note="nothing proposed"),
    _op("POST", "/deploy/abort", REFUSED_DEPLOY, {}, note="nothing proposed"),
    _op("POST", "/deploy/rollback", REFUSED_DEPLOY, {}, note="no earlier release"),
    _op("POST", "/flags", OK,
        {"name": FLAG, "flag_id": 9001, "meaning": "auth matrix probe", "owner": "auth-matrix"}),
    _op("POST", "/flags/{name}/enable", (409, "FLAG_REFUSED"),
        note="no member declares the flag"),
    _op("POST", "/flags/{name}/disable", OK),
    _op("POST", "/flags/{name}/retire", OK),
    _op("POST", "/preopen/ack", OK),
    _op("POST", "/limits/changes", OK,
        {"items": [{"path": "accounts.desk-7.max_position", "value": 25000}],
         "reason": "auth matrix"}, note="a raise: left pending (four eyes)", who="admin risk"),
    _op("POST", "/limits/changes/{change_id}/approve", (403, "FOUR_EYES_REQUIRED"),
        note="its own proposer", who="admin risk"),
    _op("POST", "/limits/changes/{change_id}/decline", OK, {"reason": "auth matrix"},
        who="admin risk"),
    _op("POST", "/locates", OK,
        {"locate_id": "authmatrix-1", "account": "desk-7", "symbol": "KCG", "quantity": 100,
         "expires_ns": 4_102_444_800_000_000_000, "source": "auth matrix"}),
    Operation("POST", "/adv/reload", {"admin operator": (422, "CONFIG_INVALID"),
                                      "admin risk": (422, "CONFIG_INVALID")},
              note="no ADV file configured"),
], _ADMIN_KNOWN, "expired token")  # fmt: skip
"""The admin listener, in the order the test runs them."""

# -- FIX ----------------------------------------------------------------------------------

FixOutcome = tuple[str, str]
"""(the answer: MsgType and ExecType or Logout, the code its Text starts with; "")."""


@dataclass(frozen=True)
class FixSession:
    name: str
    what: str
    comp_id: str
    username: str
    password: str
    logon: FixOutcome  # ("logged on", "") or the refusal
    messages: dict[str, FixOutcome] = field(default_factory=dict)  # when logged on


FIX_TYPES = ("D", "F", "G", "H", "q", "AF")
FIX_TYPE_NAMES = {"D": "NewOrderSingle", "F": "OrderCancelRequest",
                  "G": "OrderCancelReplaceRequest", "H": "OrderStatusRequest",
                  "q": "OrderMassCancelRequest", "AF": "OrderMassStatusRequest"}  # fmt: skip
LOGGED_ON: FixOutcome = ("logged on", "")
NOT_SUPPORTED: FixOutcome = ("j (business reject)", "NOT_SUPPORTED")

FIX_SESSIONS: tuple[FixSession, ...] = (
    FixSession("right session", "DESK1, desk-7's key, its own orders", "DESK1", "desk-7-algo",
               DESK_KEY, LOGGED_ON,
               {"D": ("8 150=0 (new)", ""), "F": ("8 150=4 (cancelled)", ""),
                "G": ("8 150=5 (replaced)", ""), "H": ("8 150=I (status)", ""),
                "q": ("r 531=7 (all cancelled)", ""), "AF": NOT_SUPPORTED}),
    FixSession("other account", "MM1, mm-1's key, at desk-7's orders", "MM1", "market-making",
               MM_KEY, LOGGED_ON,
               {"D": ("8 150=8 (rejected)", "UNAUTHENTICATED"),
                "F": ("9 (cancel reject)", "ORDER_NOT_FOUND"),
                "G": ("9 (cancel reject)", "ORDER_NOT_FOUND"),
                "H": ("8 150=I (status)", "ORDER_NOT_FOUND"),
                "q": ("r 531=0 (rejected)", "NOT_ACCOUNT_OWNER"), "AF": NOT_SUPPORTED}),
    FixSession("wrong password", "DESK1, a password that is no key", "DESK1", "desk-7-algo",
               "not-the-key", ("Logout", "UNAUTHENTICATED")),
    FixSession("another's key", "DESK1 with mm-1's key", "DESK1", "desk-7-algo", MM_KEY,
               ("Logout", "UNAUTHENTICATED")),
    FixSession("expired key", "EXP1, its key past not_after", "EXP1", "desk-7-expired",
               EXPIRED_KEY, ("Logout", "CREDENTIAL_EXPIRED")),
    FixSession("revoked key", "REV1, its key in `revoked`", "REV1", "desk-7-revoked",
               REVOKED_KEY, ("Logout", "CREDENTIAL_REVOKED")),
    FixSession("unknown CompID", "NOBODY, no such session", "NOBODY", "desk-7-algo", DESK_KEY,
               ("no answer (disconnected)", "")),
)  # fmt: skip

FIX_CONFIG = """
[[fix.sessions]]
comp_id = "MM1"
username = "market-making"
account = "mm-1"
strategy = "quotes"

[[fix.sessions]]
comp_id = "EXP1"
username = "desk-7-expired"
account = "desk-7"
strategy = "vwap"

[[fix.sessions]]
comp_id = "REV1"
username = "desk-7-revoked"
account = "desk-7"
strategy = "vwap"
"""
"""Sessions beside serve_kit's DESK1."""
