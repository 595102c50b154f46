"""A fake exchange for tests and benchmarks (the desk's client is in `sim.fix_client`).

`FakeExchange` is a QuickFIX acceptor playing a venue: it acks each NewOrderSingle and,
when `fill` is on, fills it in two parts; with `fill` off it is the pass-through the FIX
benchmark compares Interlock against, and its orders rest in its book (`book`) until
cancelled. It also serves market data (V answered with W snapshots, X refreshes on
`set_mid`) to one or many sessions.

It keeps every execution it sent (exec id, quantity, price) and answers the status
requests of a restarted gateway from its own book: an OrderStatusRequest (H) resends the
order's executions (PossResend, with the request's OrdStatusReqID) and ends with an
ExecutionReport of ExecType I (order status: OrdStatus, CumQty, AvgPx, LeavesQty), or
OrdStatus 8 with OrdRejReason 5 for an order it never had; an OrderMassStatusRequest (AF,
MassStatusReqType 7) is answered with one ExecType I report per order that is open or
traded (TotNumReports, LastRptRequested on the last). `fill_resting` trades a resting
order (its report is stored for a session that is down), `place` puts an order in the
book that the gateway never sent: trading around the interlock.
"""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path

import quickfix as fix

from interlock.fixengine.bind import AcceptorBinding
from interlock.fixengine.engine import SessionKey, field, new_message, open_engine, write_settings
from interlock.fixengine.marketdata import pairs
from interlock.sim.drop_copy import FakeDropCopy
from interlock.sim.fix_client import Fields, FixClient, SessionApp, fields_of, free_port


class FakeExchange(SessionApp):
    """A venue acceptor: acks every order; with `fill`, fills half, then the rest, at the
    limit price (a market order at the current mid of its symbol).

    `clients` are the CompIDs that may log on (one session each); reports go back on the
    session the order came in on, and `orders_of(client)` holds each one's orders. Market
    data: a MarketDataRequest (V) is answered with one snapshot (W) per symbol at `mids`;
    `set_mid` publishes an incremental refresh (X) to every subscriber, and with
    `publish_every_s` a thread re-sends the snapshots that often, until `pause_market_data`.
    Orders not filled rest in `book(client)`; `hold_cancels` keeps cancel requests
    unanswered (the venue is slow to confirm) until `release_cancels`; `drop` takes one
    client's session down (and keeps it down) until `readmit`.
    """

    def __init__(
        self,
        work_dir: Path,
        port: int,
        comp_id: str = "VENUE",
        client: str = "INTERLOCK",
        fill: bool = True,
        file_log: bool = True,
        *,
        clients: tuple[str, ...] = (),
        reset_on_logon: bool = True,
        mids: dict[str, Decimal] | None = None,
        half_spread: Decimal = Decimal("0.01"),
        publish_every_s: float = 0.0,
    ) -> None:
        super().__init__()
        self.fill = fill
        self.orders: dict[str, Fields] = {}
        self.mids: dict[str, Decimal] = dict(mids or {})
        self.half_spread = half_spread
        self._by_client: dict[str, dict[str, Fields]] = {}
        self._book: dict[str, dict[str, Fields]] = {}  # client -> resting orders by ClOrdID
        self._held: list[tuple[fix.SessionID, str, str]] | None = None  # held cancels
        self._book_lock = threading.Lock()
        self._subscribers: dict[str, tuple[fix.SessionID, tuple[str, ...]]] = {}
        self._md_lock = threading.Lock()
        self._publishing = threading.Event()
        self._stopping = threading.Event()
        self._ids = iter(range(1, 1 << 62))
        self._execs: dict[str, list[tuple[str, int, str]]] = {}  # ClOrdID -> (id, qty, px)
        work_dir.mkdir(parents=True, exist_ok=True)
        binding = AcceptorBinding("127.0.0.1", port)
        path = write_settings(
            work_dir / "exchange.cfg",
            acceptor=True,
            port=binding.scratch_port,
            sessions=[SessionKey(comp_id, c) for c in clients or (client,)],
            work_dir=work_dir,
            file_log=file_log,
            reset_on_logon=reset_on_logon,
            market_data=True,
        )
        self._engine = open_engine(self, path, acceptor=True, file_log=file_log, binding=binding)
        self._publisher: threading.Thread | None = None
        self.drop_copy: FakeDropCopy | None = None
        self._held_reports: list[tuple[fix.Message, fix.SessionID]] | None = None
        if publish_every_s > 0:
            self._publishing.set()
            self._publisher = threading.Thread(
                target=self._publish, args=(publish_every_s,), name="fake-md", daemon=True
            )

    def start(self) -> FakeExchange:
        self._engine.start()
        if self._publisher is not None:
            self._publisher.start()
        return self

    def stop(self, force: bool = False) -> None:
        self._stopping.set()
        if self._publisher is not None and self._publisher.is_alive():
            self._publisher.join(5)
        self._engine.stop(force)

    def orders_of(self, client: str) -> dict[str, Fields]:
        """The orders `client` (its CompID) sent, by ClOrdID."""
        return self._by_client.setdefault(client, {})

    def book(self, client: str) -> dict[str, Fields]:
        """`client`'s orders resting here: acked, neither filled nor cancelled."""
        with self._book_lock:
            return dict(self._book.get(client, {}))

    def hold_cancels(self) -> None:
        """Queue cancel requests unanswered (their orders keep resting) until released."""
        with self._book_lock:
            self._held = [] if self._held is None else self._held

    def release_cancels(self) -> int:
        """Answer every held cancel request, and answer the next ones at once; how many."""
        with self._book_lock:
            held, self._held = self._held or [], None
        for session_id, client, request in held:
            self._cancel(session_id, client, request)
        return len(held)

    def held_cancels(self, client: str) -> set[str]:
        """The orders of `client` whose cancel is held (OrigClOrdIDs)."""
        with self._book_lock:
            return {r.split("|")[0] for _, c, r in self._held or () if c == client}

    def next_expected_seq(self, client: str) -> int:
        """The MsgSeqNum the exchange expects next from `client` (its session's store)."""
        for session_id in self._engine.socket.getSessions():
            if session_id.getTargetCompID().getValue() == client:
                session = fix.Session.lookupSession(session_id)
                return int(session.getExpectedTargetNum())
        raise KeyError(client)

    def drop(self, client: str) -> None:
        """Log `client` out and refuse its Logons until `readmit`: its session is down.
        (QuickFIX's `logout` disables the session; `logon` enables it again.)"""
        self._session_of(client).logout("dropped by the exchange")

    def readmit(self, client: str) -> None:
        self._session_of(client).logon()

    def _session_of(self, client: str) -> fix.Session:
        for session_id in self._engine.socket.getSessions():
            if session_id.getTargetCompID().getValue() == client:
                return fix.Session.lookupSession(session_id)
        raise KeyError(client)

    def logged_on_clients(self) -> set[str]:
        out: set[str] = set()
        for session_id in self._engine.socket.getSessions():
            session = fix.Session.lookupSession(session_id)
            if session is not None and session.isLoggedOn():
                out.add(session_id.getTargetCompID().getValue())
        return out

    # -- market data ------------------------------------------------------------------

    def pause_market_data(self) -> None:
        """Stop re-sending snapshots: subscribers' marks go stale."""
        self._publishing.clear()

    def resume_market_data(self) -> None:
        self._publishing.set()

    def set_mid(self, symbol: str, mid: Decimal) -> None:
        """Move `symbol`'s mid and publish an incremental refresh (X) to its subscribers."""
        self.mids[symbol] = mid
        with self._md_lock:
            subs = list(self._subscribers.values())
        for session_id, symbols in subs:
            if symbol in symbols:
                msg = new_message("X")
                msg.setField(262, "upd")
                for kind, px in (("0", mid - self.half_spread), ("1", mid + self.half_spread)):
                    group = fix.Group(268, 279)
                    for tag, value in ((279, "1"), (269, kind), (55, symbol), (270, str(px))):
                        group.setField(tag, value)
                    msg.addGroup(group)
                fix.Session.sendToTarget(msg, session_id)

    def _snapshot(self, session_id: fix.SessionID, req_id: str, symbol: str) -> None:
        mid = self.mids.get(symbol)
        if mid is None:
            return
        msg = new_message("W")
        msg.setField(262, req_id)
        msg.setField(55, symbol)
        for kind, px in (("0", mid - self.half_spread), ("1", mid + self.half_spread)):
            group = fix.Group(268, 269)
            group.setField(269, kind)
            group.setField(270, str(px))
            group.setField(271, "5000")
            msg.addGroup(group)
        fix.Session.sendToTarget(msg, session_id)

    def _publish(self, every_s: float) -> None:
        while not self._stopping.wait(every_s):
            if not self._publishing.is_set():
                continue
            with self._md_lock:
                subs = list(self._subscribers.items())
            for req_id, (session_id, symbols) in subs:
                for symbol in symbols:
                    self._snapshot(session_id, req_id, symbol)

    # -- orders -----------------------------------------------------------------------

    def fromApp(self, message: fix.Message, session_id: fix.SessionID) -> None:
        self._engine.kick()
        got = fields_of(message)
        client = session_id.getTargetCompID().getValue()
        if got[35] == "V":
            symbols = tuple(v for t, v in pairs(message) if t == 55)
            with self._md_lock:
                self._subscribers[f"{client}/{got[262]}"] = (session_id, symbols)
            for symbol in symbols:
                self._snapshot(session_id, got[262], symbol)
        elif got[35] == "D":
            self.orders[got[11]] = got
            self.orders_of(client)[got[11]] = got
            if got.get(40) == "1":  # market: it trades at the mid
                got[44] = str(self.mids.get(got[55], Decimal("100")))
            self._report(session_id, got, "0", "0", 0)
            qty = int(got[38])
            if not self.fill:
                with self._book_lock:
                    self._book.setdefault(client, {})[got[11]] = got
            else:
                first = qty // 2
                if first:
                    self._report(session_id, got, "F", "1", first, last=first)
                self._report(session_id, got, "F", "2", qty, last=qty - first)
        elif got[35] == "H":
            self._order_status(session_id, client, got)
        elif got[35] == "AF":
            self._mass_status(session_id, client, got)
        elif got[35] == "F":
            with self._book_lock:
                if self._held is not None:
                    self._held.append((session_id, client, f"{got[41]}|{got[11]}"))
                    return
            self._cancel(session_id, client, f"{got[41]}|{got[11]}")

    def fill_resting(self, client: str, cl_ord_id: str, qty: int) -> None:
        """Trade `qty` of a resting order of `client` at its limit; the report goes out on
        its session (stored and resent by QuickFIX if the session is down)."""
        with self._book_lock:
            order = self._book.get(client, {}).get(cl_ord_id)
            if order is None:
                raise KeyError(f"{cl_ord_id} is not resting for {client}")
            cum = sum(q for _, q, _ in self._execs.get(cl_ord_id, ())) + qty
            if cum >= int(order[38]):
                del self._book[client][cl_ord_id]
        self._report(self._session_id(client), order, "F", "2" if cum >= int(order[38]) else "1",
                     cum, last=qty)  # fmt: skip

    def place(self, client: str, cl_ord_id: str, account: str, symbol: str, qty: int,
              price: str, side: str = "1") -> None:  # fmt: skip
        """An order resting here for `client`'s session that its gateway never sent."""
        got: Fields = {35: "D", 11: cl_ord_id, 1: account, 55: symbol, 54: side,
                       38: str(qty), 40: "2", 44: price}  # fmt: skip
        self.orders[cl_ord_id] = got
        self.orders_of(client)[cl_ord_id] = got
        with self._book_lock:
            self._book.setdefault(client, {})[cl_ord_id] = got

    def _session_id(self, client: str) -> fix.SessionID:
        for session_id in self._engine.socket.getSessions():
            if session_id.getTargetCompID().getValue() == client:
                return session_id
        raise KeyError(client)

    def _order_status(self, session_id: fix.SessionID, client: str, got: Fields) -> None:
        """H: resend the order's executions, then one ExecType I report (OrdStatus 8,
        OrdRejReason 5 for an order this exchange never had)."""
        cl = got.get(11, "")
        order = self.orders_of(client).get(cl)
        req = got.get(790, "")
        if order is None:
            msg = new_message("8")
            for tag, value in ((37, "NONE"), (17, f"S{next(self._ids)}"), (11, cl), (150, "I"),
                               (39, "8"), (103, "5"), (14, "0"), (6, "0"), (151, "0"),
                               (790, req), (58, "unknown order")):  # fmt: skip
                msg.setField(tag, value)
            fix.Session.sendToTarget(msg, session_id)
            return
        for exec_id, qty, px in list(self._execs.get(cl, ())):
            msg = self._er(order, "F", "1", 0, exec_id)
            msg.getHeader().setField(97, "Y")  # PossResend: sent before, maybe not received
            msg.setField(32, str(qty))
            msg.setField(31, px)
            msg.setField(790, req)
            fix.Session.sendToTarget(msg, session_id)
        status = self._status_of(client, order)
        status.setField(790, req)
        fix.Session.sendToTarget(status, session_id)

    def _mass_status(self, session_id: fix.SessionID, client: str, got: Fields) -> None:
        """AF (type 7, every order): one ExecType I report per order open or traded."""
        with self._book_lock:
            resting = set(self._book.get(client, {}))
        mine = self.orders_of(client).items()
        orders = [o for cl, o in mine if cl in resting or cl in self._execs]
        reports = [self._status_of(client, o) for o in orders]
        if not reports:  # nothing to report: one report saying so
            empty = new_message("8")
            for tag, value in ((37, "NONE"), (17, f"S{next(self._ids)}"), (11, "NONE"),
                               (150, "I"), (39, "8"), (14, "0"), (6, "0"), (151, "0")):  # fmt: skip
                empty.setField(tag, value)
            reports = [empty]
        for i, msg in enumerate(reports, 1):
            msg.setField(584, got.get(584, ""))
            msg.setField(911, str(len(orders)))
            if i == len(reports):
                msg.setField(912, "Y")
            fix.Session.sendToTarget(msg, session_id)

    def _status_of(self, client: str, order: Fields) -> fix.Message:
        """One order's ExecType I report, from this exchange's book and executions."""
        cl = order[11]
        execs = self._execs.get(cl, ())
        cum = sum(q for _, q, _ in execs)
        value = sum(q * Decimal(px) for _, q, px in execs)
        with self._book_lock:
            resting = cl in self._book.get(client, {})
        qty = int(order[38])
        done = "2" if cum >= qty else "4"  # not resting: filled, or cancelled
        status = ("1" if cum else "0") if resting else done
        msg = self._er(order, "I", status, cum, f"S{next(self._ids)}")
        msg.setField(6, str(value / cum if cum else Decimal(0)))
        msg.setField(151, str(qty - cum) if resting else "0")
        if 1 in order:
            msg.setField(1, order[1])
        return msg

    def _cancel(self, session_id: fix.SessionID, client: str, request: str) -> None:
        """Cancel `request` ("OrigClOrdID|ClOrdID"): off the book, a cancelled report."""
        orig, cl_ord_id = request.split("|")
        order = self.orders_of(client).get(orig)
        with self._book_lock:
            self._book.get(client, {}).pop(orig, None)
        if order is not None:
            self._report(session_id, order, "4", "4", 0, cancel=cl_ord_id)

    def _report(
        self,
        session_id: fix.SessionID,
        order: Fields,
        exec_type: str,
        status: str,
        cum: int,
        last: int = 0,
        cancel: str | None = None,
    ) -> None:
        exec_id = f"E{next(self._ids)}"
        msg = self._er(order, exec_type, status, cum, exec_id, cancel)
        msg.setField(151, "0" if status in ("2", "4") else str(int(order[38]) - cum))
        if last:
            px = order.get(44, "100")
            msg.setField(32, str(last))
            msg.setField(31, px)
            self._execs.setdefault(order[11], []).append((exec_id, last, px))
        if self.drop_copy is not None:
            copied = fields_of(msg)
            if 1 in order:
                copied[1] = order[1]
            self.drop_copy.copy(copied)
        with self._book_lock:
            if self._held_reports is not None:
                self._held_reports.append((msg, session_id))
                return
        fix.Session.sendToTarget(msg, session_id)

    def hold_reports(self) -> None:
        """Keep the order-entry sessions' execution reports back until `release_reports`
        (the drop copy still gets its copies at once)."""
        with self._book_lock:
            self._held_reports = self._held_reports or []

    def release_reports(self) -> int:
        with self._book_lock:
            held, self._held_reports = self._held_reports or [], None
        for msg, session_id in held:
            fix.Session.sendToTarget(msg, session_id)
        return len(held)

    def _er(self, order: Fields, exec_type: str, status: str, cum: int, exec_id: str,
            cancel: str | None = None) -> fix.Message:  # fmt: skip
        """An ExecutionReport of `order` without its fill fields."""
        qty = int(order[38])
        msg = new_message("8")
        msg.setField(37, f"X{order[11]}")
        msg.setField(17, exec_id)
        msg.setField(11, cancel or order[11])
        if cancel is not None:
            msg.setField(41, order[11])
        for tag, value in (
            (150, exec_type),
            (39, status),
            (55, order[55]),
            (54, order[54]),
            (38, str(qty)),
            (14, str(cum)),
            (6, order.get(44, "0")),
        ):
            msg.setField(tag, value)
        return msg


__all__ = ["FakeExchange", "Fields", "FixClient", "field", "fields_of", "free_port"]
