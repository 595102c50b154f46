"""The gateway machine's venue: resting orders and what the venue does on its own.

A mixin of `GatewayMachine` (test_gateway_machine.py): small passive orders that rest, a
counterparty filling part or all of one (a late fill when its cancel is held in flight),
symbols the exchange refuses, and the invariant that the book holds every execution the
venue made.
"""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule
from machine_kit import (
    ACCOUNTS,
    KEY_OF,
    STRATEGIES,
    SYMBOLS,
    note,
    rare,
)

from interlock.domain.commands import OrderRequest
from interlock.domain.enums import OrderType, Side


class VenueRules:
    """Rest, venue acts and refusals (see the module docstring)."""

    @rule(
        account=st.sampled_from(ACCOUNTS),
        strategy=st.integers(0, 1),
        symbol=st.sampled_from(SYMBOLS),
        away=st.integers(2, 6),
        qty=st.sampled_from([1, 10, 40]),
        fill=st.sampled_from([None, None, "part", "all"]),
        pick=st.integers(0, 2**16),
    )
    def rest(self, account: str, strategy: int, symbol: str, away: int, qty: int,
             fill: str | None, pick: int) -> None:  # fmt: skip
        """A small passive order that rests at the venue (a sell only from a long line):
        the working orders that halts, cancels, replaces and venue fills act on. `fill`:
        then a counterparty takes part or all of one resting order."""
        note("rule: rest")
        self._rest(account, STRATEGIES[account][strategy], symbol, away, qty)
        if fill is not None:
            self._venue_fill(pick, whole=fill == "all")

    def _rest(self, account: str, strategy: str, symbol: str, away: int, qty: int, *,
              flush: bool = True) -> None:  # fmt: skip
        acct = self.h.gateway.book.accounts.get(account)
        line = acct.positions.get(symbol) if acct is not None else None
        side = Side.SELL if line is not None and line.pos - line.open_sell >= qty else Side.BUY
        mid = self.h.market.mid(symbol)
        ticks = mid - away if side is Side.BUY else mid + away
        self.n += 1
        request = OrderRequest(
            f"c{self.n}", account, strategy, symbol, side, qty,
            OrderType.LIMIT, self.h.gateway.instruments[symbol].to_price(ticks),
        )  # fmt: skip
        decision = self._submit(KEY_OF[account], request)
        if not flush:
            return
        self.journal.flush()
        resting = decision.order_id in self.venue.open_order_ids()
        note(f"rest: {decision.code or ('resting' if resting else 'ACCEPTED, not resting')}")

    # -- the venue on its own ------------------------------------------------------------

    @rule(
        action=st.sampled_from(["fill part", "fill all", "late fill", "hold", "release"]),
        pick=st.integers(0, 2**16),
    )
    def the_venue_acts(self, action: str, pick: int) -> None:
        """The venue on its own: a counterparty takes part or all of a resting order (with
        its cancel in flight, a late fill the book must take as the fact it is), or the
        venue starts holding cancels in flight, or acts on those it holds."""
        note("rule: the_venue_acts")
        venue = self.venue
        if action == "hold":
            venue.hold_cancels()
            return
        if action == "release":
            note(f"cancels released: {'some' if venue.release_cancels() else 'none'}")
            return
        self._venue_fill(pick, whole=action == "fill all", late=action == "late fill")

    def _venue_fill(self, pick: int, *, whole: bool, late: bool = False) -> None:
        """Part (half) or all of one resting order filled; `late`: one whose cancel the
        venue holds in flight, if there is one."""
        venue = self.venue
        resting = sorted(venue.open_order_ids())
        if late:
            resting = [oid for oid in resting if oid in venue.held] or resting
        if not resting:
            return
        oid = resting[pick % len(resting)]
        order = self.h.gateway.book.orders[oid]
        late = oid in venue.held
        filled = order.filled
        leaves = venue.leaves(oid)
        took = venue.execute(oid, leaves if whole else max(1, leaves // 2))
        assert took > 0 and order.filled == filled + took
        kind = "full" if took == leaves else "partial"
        note(f"venue fill: {kind}{', late (cancel in flight)' if late else ''}")

    @rule(symbol=st.sampled_from(SYMBOLS), refused=rare(3))
    def venue_refuses(self, symbol: str, refused: bool) -> None:
        """The exchange halts (or reopens) a symbol: its new orders are venue-rejected."""
        note("rule: venue_refuses")
        self.venue.refuse(symbol, refused)

    @invariant()
    def the_book_holds_every_venue_execution(self) -> None:
        """What the venue executed, the book holds: a fill the journal lost in a crash is
        applied again by the restart's reconciliation, a resent one is not counted twice."""
        book = self.h.gateway.book
        status = self.venue.reconcile(list(book.orders.values()))
        for oid, at_venue in status.orders.items():
            if at_venue.known:
                assert book.orders[oid].filled == at_venue.filled, (oid, at_venue)
        assert all(o.order_id in book.orders for o in status.others), status.others
