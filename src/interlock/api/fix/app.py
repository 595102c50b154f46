"""The QuickFIX Application in front of `Gateway.submit`: logon, D / F / G, reports.

Authentication. The session's key is resolved to a `Principal` once, at logon, through
the gateway's Authenticator; every order, cancel and mass cancel of the session passes
that principal to the gateway, which never looks the key up again.

Order of reports. The gateway hands the acceptor each accepted order at accept
(`on_accept`, under its lock, before the order can reach the venue), so every fill or
cancel the venue reports is for an order the acceptor already knows. The ack comes from
the journal's commit callback, after the release, so a fast venue can fill first: the
first of the two sends the order's New (see reports.py), and its fills follow it.

Locks. The gateway calls `on_accept` holding its own lock, which then takes the acceptor's;
so the acceptor never calls the gateway while holding its lock (reading the gateway's
`Order` attributes takes no lock): one lock order, no cycle. Nor does it send while holding
it: QuickFIX's `sendToTarget` takes the session's mutex, and QuickFIX calls `onLogout`
holding that same mutex, so a report sent under the lock (a cancel's, from the release
thread) while its session drops (cancel-on-disconnect, which takes the lock) deadlocked
the whole gateway. Reports are queued under the lock instead (`_post`, in the order they
are decided) and sent after it is let go (`_flush`, see reports.py).

Replace (G) is cancel + new: the new order is submitted first, as a new order, while the
original still holds its reservation, because at the venue the original may fill before
its cancel lands: the replacement must fit beside it. Accepted: the desk gets an
ExecutionReport Replaced (150=5) for the new ClOrdID (cumulative quantity restarts at 0,
fills of the original keep arriving under the original ClOrdID) and the original is
cancelled. Rejected: an OrderCancelReject carries the code and the original stands.

A ClOrdID names one order of a session for good: once the acceptor knows it, a second
D (or G) with it is answered (the first decision again, or IDEMPOTENCY_CONFLICT) and
never takes its place in `_orders`, so the original stays cancellable, queryable (H) and
covered by cancel-on-disconnect. The one exception is a first use that was rejected before
the gateway could bind its key (undecodable values): a later accept takes the ClOrdID.

Status (H) and mass cancel (q): see queries.py; every cancel of a mass cancel goes through
`Gateway.cancel`, only for this session's own orders, and only for an Account (1) the
session's principal may trade.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import quickfix as fix

from interlock.api.fix.orders import FixOrder
from interlock.api.fix.queries import (
    MASS_CANCEL_TYPES,
    NOT_SUPPORTED,
    OTHER,
    UNKNOWN_SECURITY,
    mass_cancel_report,
    unknown_status,
)
from interlock.api.fix.reports import VenueReports
from interlock.api.listeners import FixAcceptorConfig, FixLogin
from interlock.domain.decision import Decision
from interlock.domain.enums import OrderStatus
from interlock.domain.order import Order
from interlock.domain.reject import RejectCode, Rejection, reject
from interlock.fixengine.codec import (
    Undecodable,
    business_reject,
    cancel_reject,
    decode_new,
    ord_rej_reason,
    unprintable,
)
from interlock.fixengine.engine import body_fields, field, msg_type
from interlock.gateway.auth import Principal, Role
from interlock.gateway.gateway import Gateway

_log = logging.getLogger(__name__)


def _text(code: RejectCode, reason: str) -> str:
    """Text (58) of a refusal made here: `CODE: reason`, as every Rejection reads."""
    return reject(code, reason).message


def _not_open(orig: str, order: FixOrder | None) -> str:
    """A cancel or replace of a ClOrdID this session never used (ORDER_NOT_FOUND: other
    sessions' orders are never visible), or of one of its orders that is not open."""
    if order is None:
        return _text(RejectCode.ORDER_NOT_FOUND, f"order {orig!r} is unknown on this session")
    return _text(RejectCode.ORDER_NOT_OPEN, f"order {orig!r} is not open on this session")


class FixAcceptorApp(VenueReports, fix.Application):  # type: ignore[misc]
    def __init__(self, gateway: Gateway, config: FixAcceptorConfig) -> None:
        super().__init__()
        self._gw = gateway
        self._logins: dict[str, FixLogin] = {s.comp_id: s for s in config.sessions}
        self._lock = threading.RLock()
        self._principals: dict[str, Principal] = {}  # counterparty -> its last logon's
        self._live: set[str] = set()
        self._orders: dict[tuple[str, str], FixOrder] = {}
        self._by_id: dict[int, FixOrder] = {}  # from on_accept: every order placed here
        self._open: dict[int, FixOrder] = {}  # of those, all not yet reported ended
        self.kick: Callable[[], None] = lambda: None  # the engine's "messages are flowing"
        self.scrub: Callable[[str], int] = lambda cp: 0  # blank a Logon's Password in logs
        self._handlers = {
            "D": self._on_new,
            "F": self._on_cancel,
            "G": self._on_replace,
            "H": self._on_status,
            "q": self._on_mass_cancel,
        }

    # -- session events ----------------------------------------------------------------

    def onCreate(self, session_id: fix.SessionID) -> None:
        pass

    def onLogon(self, session_id: fix.SessionID) -> None:
        cp = session_id.getTargetCompID().getValue()
        with self._lock:
            self._live.add(cp)
        _log.info("FIX %s logged on", cp, extra={"event": "fix.logon", "counterparty": cp})

    def onLogout(self, session_id: fix.SessionID) -> None:
        """Cancel-on-disconnect: the dropped session's working orders are cancelled."""
        cp = session_id.getTargetCompID().getValue()
        _log.info("FIX %s disconnected", cp,
                     extra={"event": "fix.disconnect", "counterparty": cp})  # fmt: skip
        with self._lock:
            self._live.discard(cp)
            login, principal = self._logins.get(cp), self._principals.get(cp)
            if login is None or principal is None or not login.cancel_on_disconnect:
                return
            working = [  # not yet acked: the ack cancels it, seeing the session gone
                o for o in self._open.values() if o.counterparty == cp and o.acked and o.is_open
            ]
        try:
            for order in working:
                self._cancel_on_disconnect(order, principal)
        finally:
            self._flush()

    def toAdmin(self, message: fix.Message, session_id: fix.SessionID) -> None:
        pass

    def fromAdmin(self, message: fix.Message, session_id: fix.SessionID) -> None:
        """Logon: Username (553) must be the session's principal, Password (554) its key,
        a trading key; the principal it resolves to is the session's until its next logon."""
        if msg_type(message) != "A":
            return
        cp = session_id.getTargetCompID().getValue()
        try:
            self.scrub(cp)  # before any answer: the key must not stay in the message log
        except OSError:
            _log.exception("FIX %s: could not blank the Logon's Password in the message log", cp)
        login = self._logins.get(cp)
        user, key = field(message, 553), field(message, 554)
        found = self._gw.auth.identify(key) if key else None
        if (login is not None and isinstance(found, Rejection)
                and found.code is not RejectCode.UNAUTHENTICATED):  # fmt: skip
            raise fix.RejectLogon(_text(found.code, f"{found.reason} ({cp})"))  # revoked, expired
        principal = found if isinstance(found, Principal) else None
        if (
            login is None
            or principal is None
            or principal.role is not Role.TRADER
            or user != login.username
            or principal.name != login.username
        ):
            raise fix.RejectLogon(_text(RejectCode.UNAUTHENTICATED, f"bad credentials for {cp}"))
        with self._lock:
            self._principals[cp] = principal

    def toApp(self, message: fix.Message, session_id: fix.SessionID) -> None:
        pass

    def fromApp(self, message: fix.Message, session_id: fix.SessionID) -> None:
        self.kick()
        kind = msg_type(message)
        cp = session_id.getTargetCompID().getValue()
        handler = self._handlers.get(kind)
        try:
            if handler is None:
                text = _text(RejectCode.NOT_SUPPORTED, f"message type {kind} is not accepted here")
                self._post(business_reject(message, kind, 35, text), session_id)
            else:
                handler(message, session_id, cp)
        except Exception:  # a fault answers the desk and fails closed: nothing was sent
            _log.exception("FIX %s from %s failed", kind, cp)
            text = _text(RejectCode.INTERNAL_ERROR, "the message was not handled; nothing was sent")
            self._post(business_reject(message, kind, 0, text), session_id)
        finally:
            self._flush()

    # -- orders in ---------------------------------------------------------------------

    def _decode(self, message: fix.Message, session_id: fix.SessionID, cp: str) -> FixOrder | None:
        login = self._logins[cp]
        request = decode_new(message, login.account, login.strategy, cp)
        if isinstance(request, Undecodable):
            self._post(
                business_reject(message, msg_type(message), request.tag, request.text), session_id
            )
            return None
        return FixOrder(cp, session_id, request)

    def _on_new(self, message: fix.Message, session_id: fix.SessionID, cp: str) -> None:
        order = self._decode(message, session_id, cp)
        if order is not None:
            self._submit(order)

    def _on_replace(self, message: fix.Message, session_id: fix.SessionID, cp: str) -> None:
        order = self._decode(message, session_id, cp)
        if order is None:
            return
        orig = field(message, 41) or ""
        with self._lock:
            old = self._orders.get((cp, orig))
        req = order.request
        if old is None or not old.is_open or old.replaced_by:
            text = _not_open(orig, old)
            self._post(cancel_reject(req.client_order_id, orig, "", True, text), session_id)
        elif (old.request.symbol, old.request.side) != (req.symbol, req.side):
            reason = f"a replace may not change symbol or side of {orig!r}"
            text = _text(RejectCode.SCHEMA_INVALID, reason)
            self._post(
                cancel_reject(req.client_order_id, orig, str(old.order_id), True, text), session_id
            )
        else:
            order.replaces = old
            self._submit(order)

    def _refused_text(
        self, message: fix.Message, session_id: fix.SessionID, fields: dict[int, str],
        tags: tuple[int, ...],
    ) -> bool:  # fmt: skip
        """An id it reads or echoes is not printable text: answered j, naming the tag."""
        bad = unprintable(fields, tags)
        if bad is not None:
            self._post(business_reject(message, msg_type(message), bad.tag, bad.text), session_id)
        return bad is not None

    def _on_cancel(self, message: fix.Message, session_id: fix.SessionID, cp: str) -> None:
        fields = body_fields(message)
        if self._refused_text(message, session_id, fields, (11, 41)):
            return
        cl, orig = fields.get(11), fields.get(41)
        if cl is None or orig is None:
            tag = 11 if cl is None else 41
            text = _text(RejectCode.SCHEMA_INVALID, f"required field ({tag}) is missing")
            self._post(business_reject(message, "F", tag, text), session_id)
            return
        with self._lock:
            order = self._orders.get((cp, orig))
            if order is not None and order.is_open:
                order.cancel_cl_ord_id = cl
        if order is None or not order.is_open:
            text = _not_open(orig, order)
            oid = "" if order is None or order.order_id is None else str(order.order_id)
            self._post(cancel_reject(cl, orig, oid, False, text), session_id)
            return
        refusal = self._cancel(order, self._principals.get(cp), f"FIX cancel {cl}")
        if refusal is not None:
            with self._lock:
                order.cancel_cl_ord_id = None
            self._post(cancel_reject(cl, orig, str(order.order_id), False, refusal), session_id)

    def _on_status(self, message: fix.Message, session_id: fix.SessionID, cp: str) -> None:
        """OrderStatusRequest (H): ExecutionReport 150=I with the order's state now."""
        fields = body_fields(message)
        if self._refused_text(message, session_id, fields, (11, 37, 55, 54, 790)):
            return
        cl = fields.get(11)
        if not cl:
            text = _text(RejectCode.SCHEMA_INVALID, "required field ClOrdID (11) is missing")
            self._post(business_reject(message, "H", 11, text), session_id)
            return
        with self._lock:
            order = self._orders.get((cp, cl))
            if order is None:
                report = unknown_status(cl, fields)
            else:
                report = order.exec_report("I", order.ord_status(), text="order status")
                if fields.get(790):
                    report.setField(790, fields[790])
        self._post(report, session_id)

    def _on_mass_cancel(self, message: fix.Message, session_id: fix.SessionID, cp: str) -> None:
        """OrderMassCancelRequest (q): cancel this session's working orders, by Symbol (530=1)
        or all (530=7), of one Account (1) when given; answered by one report (r)."""
        fields = body_fields(message)
        if self._refused_text(message, session_id, fields, (11, 530, 1, 55)):
            return
        cl, kind = fields.get(11), fields.get(530)
        if not cl or not kind:
            tag, name = (11, "ClOrdID") if not cl else (530, "MassCancelRequestType")
            text = _text(RejectCode.SCHEMA_INVALID, f"required field {name} ({tag}) is missing")
            self._post(business_reject(message, "q", tag, text), session_id)
            return
        symbol, account = fields.get(55), fields.get(1)
        principal = self._principals.get(cp)
        refusal: tuple[int, str] | None = None
        if kind not in MASS_CANCEL_TYPES:
            served = ", ".join(f"{k} ({v})" for k, v in MASS_CANCEL_TYPES.items())
            text = f"MassCancelRequestType (530) {kind!r} is not served: {served}"
            refusal = (NOT_SUPPORTED, _text(RejectCode.NOT_SUPPORTED, text))
        elif kind == "1" and symbol not in self._gw.instruments:
            text = f"Symbol (55) {symbol!r} is not listed"
            refusal = (UNKNOWN_SECURITY, _text(RejectCode.UNKNOWN_SYMBOL, text))
        elif account is not None and principal is None:
            text = f"session {cp} has no known API key"
            refusal = (OTHER, _text(RejectCode.UNAUTHENTICATED, text))
        elif account is not None and principal is not None and account not in principal.accounts:
            text = f"session {cp} may not cancel orders of account {account!r}"
            refusal = (OTHER, _text(RejectCode.NOT_ACCOUNT_OWNER, text))
        if refusal is not None:
            reason, text = refusal
            self._post(mass_cancel_report(cl, fields, reject_reason=reason, text=text), session_id)
            return
        with self._lock:
            targets = [
                o
                for o in self._open.values()
                if o.counterparty == cp
                and o.is_open
                and o.replaced_by is None
                and (kind == "7" or o.request.symbol == symbol)
                and (account is None or o.request.account == account)
            ]
        if principal is not None:  # one request, one message: checked once, as the gateway's
            throttled = self._gw.throttled(principal, "mass cancel")
            if throttled is not None:
                text = throttled.message
                self._post(mass_cancel_report(cl, fields, reject_reason=OTHER, text=text),
                           session_id)  # fmt: skip
                return
        affected = sum(self._cancel(o, principal, f"FIX mass cancel {cl}", owed=True) is None
                       for o in targets)  # fmt: skip
        self._post(mass_cancel_report(cl, fields, affected=affected), session_id)

    def _cancel_on_disconnect(self, order: FixOrder, principal: Principal | None) -> None:
        state = order.order
        order_id = None if state is None else state.order_id
        _log.warning("FIX %s gone: cancelling order %s (%s)", order.counterparty, order_id,
                     order.cl_ord_id, extra={"event": "fix.cancel_on_disconnect",
                                             "counterparty": order.counterparty,
                                             "order_id": order_id})  # fmt: skip
        self._cancel(order, principal, "cancel on disconnect", owed=True)

    def _cancel(
        self, order: FixOrder, principal: Principal | None, reason: str, *, owed: bool = False
    ) -> str | None:
        """Ask the gateway to cancel; report at once if it cancelled before release.
        `owed`: a cancel this acceptor owes the desk (the old half of a replace, cancel on
        disconnect, a mass cancel's orders): counted as a message, never throttled."""
        state = order.order
        assert state is not None
        refusal = self._gw.cancel(state.order_id, principal or "", reason, throttled=not owed)
        if refusal is not None:
            return refusal.message
        if state.status is OrderStatus.CANCELLED:
            self.order_done(state.order_id, reason, cancelled=True)
        return None

    def _submit(self, order: FixOrder) -> None:
        principal = self._principals.get(order.counterparty)

        def accepted(state: Order) -> None:  # under the gateway's lock: a dict insert
            with self._lock:
                order.order = state
                self._by_id[state.order_id] = self._open[state.order_id] = order

        def ack(decision: Decision) -> None:
            self._acked(order, decision)

        self._gw.submit(order.request, principal or "", on_ack=ack, on_accept=accepted)

    # -- reports out -------------------------------------------------------------------

    def _acked(self, order: FixOrder, decision: Decision) -> None:
        """The decision is durable: send its report, then anything the venue said since."""
        try:
            self._report_ack(order, decision)
        finally:
            self._flush()

    def _report_ack(self, order: FixOrder, decision: Decision) -> None:
        sid, ident = order.session_id, (order.counterparty, order.cl_ord_id)
        with self._lock:
            known = self._orders.get(ident)
            if decision.replayed and known is not None:  # the same ClOrdID again
                text = "order status (ClOrdID known)"
                self._post(known.exec_report("I", known.ord_status(), text=text), sid)
                return
            rejection = decision.rejection
            order.acked = True
            if rejection is None and order.order is None:  # a replayed accept never placed
                assert decision.order_id is not None  # here (e.g. before a restart)
                order.order = self._gw.order(decision.order_id)
                self._by_id.setdefault(decision.order_id, order)
                if order.is_open:
                    self._open.setdefault(decision.order_id, order)
            if rejection is not None:
                self._claim(order)  # unless the ClOrdID names an order already
                order.end_reported = True
                if order.replaces is not None:
                    old = order.replaces
                    self._post(
                        cancel_reject(
                            order.cl_ord_id,
                            old.cl_ord_id,
                            str(old.order_id),
                            True,
                            rejection.message,
                        ),
                        sid,
                    )
                else:
                    self._post(
                        order.exec_report(
                            "8",
                            "8",
                            text=rejection.message,
                            rej_reason=ord_rej_reason(rejection.code),
                        ),
                        sid,
                    )
                return
            self._announce(order)  # unless a venue event already did
            live = order.counterparty in self._live
        principal = self._principals.get(order.counterparty)
        if order.replaces is not None and order.replaces.order is not None:
            self._cancel(order.replaces, principal, f"replaced by {order.cl_ord_id}", owed=True)
        login = self._logins[order.counterparty]
        if not live and login.cancel_on_disconnect and order.order is not None:
            self._cancel_on_disconnect(order, principal)  # acked after it dropped


__all__ = ["FixAcceptorApp"]
