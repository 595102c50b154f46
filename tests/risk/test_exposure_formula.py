"""The one worst-case formula (`risk/exposure.py`) against its naive definition, and the
four places that use it (book gross, position check, gross check, fleet budget need)
against it, over any position, open buys, open sales, order size and side.
"""

from __future__ import annotations

from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from interlock.api.config import load_config
from interlock.domain.enums import Side, TimeInForce, TradingSession
from interlock.domain.instrument import Instrument
from interlock.domain.money import fmt_money
from interlock.domain.order import Order
from interlock.domain.reject import RejectCode, render
from interlock.gateway.gateway import Gateway
from interlock.risk.book import Book
from interlock.risk.checks.exposure import check_gross
from interlock.risk.checks.position import check_position
from interlock.risk.exposure import worst_case
from interlock.sim.harness import START_NS

PROPS = settings(max_examples=300, deadline=None, derandomize=True)
BIG = 10**12
SIDES = st.sampled_from([Side.BUY, Side.SELL, Side.SELL_SHORT])


def naive(pos: int, open_buy: int, open_sell: int, side: Side, qty: int) -> tuple[int, int]:
    """The position if every open buy (and this order, if a buy) fills; if every open sale
    (and this order, if a sale) fills."""
    buys = open_buy + (qty if side.sign > 0 else 0)
    sells = open_sell + (qty if side.sign < 0 else 0)
    return pos + buys, pos - sells


@PROPS
@given(st.integers(-BIG, BIG), st.integers(0, BIG), st.integers(0, BIG), SIDES,
       st.integers(0, BIG))  # fmt: skip
def test_worst_case_is_the_position_after_all_buys_or_all_sales_fill(
    pos: int, open_buy: int, open_sell: int, side: Side, qty: int
) -> None:
    after_buys, after_sells = naive(pos, open_buy, open_sell, side, qty)
    long, short = worst_case(pos, open_buy, open_sell, side.sign * qty)
    assert (long, short) == (after_buys, -after_sells)
    assert max(long, short) == max(abs(after_buys), abs(after_sells)) >= 0


@PROPS
@given(st.integers(-12, 12), st.integers(0, 8), st.integers(0, 8), SIDES, st.integers(0, 8))
def test_worst_case_is_the_worst_of_every_way_the_open_orders_could_fill(
    pos: int, open_buy: int, open_sell: int, side: Side, qty: int
) -> None:
    buys = open_buy + (qty if side.sign > 0 else 0)
    sells = open_sell + (qty if side.sign < 0 else 0)
    every = [pos + b - s for b in range(buys + 1) for s in range(sells + 1)]
    long, short = worst_case(pos, open_buy, open_sell, side.sign * qty)
    assert (long, short) == (max(every), -min(every))
    assert max(long, short) == max(abs(x) for x in every)


LIMIT = 20_000  # desk-7's max_position in the packaged config
SHARES = st.integers(-2 * LIMIT, 2 * LIMIT)
OPEN = st.integers(0, 2 * LIMIT)


@PROPS
@given(empty=st.booleans(), pos=SHARES, open_buy=OPEN, open_sell=OPEN, side=SIDES,
       qty=st.integers(1, LIMIT), mark=st.integers(1, 200_000))  # fmt: skip
def test_position_and_gross_checks_and_budget_need_agree_with_worst_case(
    empty: bool, pos: int, open_buy: int, open_sell: int, side: Side, qty: int, mark: int
) -> None:
    cfg = load_config()
    book = Book(cfg.limits, cfg.instrument_map(), cfg.calendar.compile())
    acct = book.account("desk-7")
    assert acct.risk.max_position == LIMIT
    inst = book.instruments["AAPL"]
    tm = inst.tick_micros
    book.apply_reference("AAPL", mark + 1, START_NS)
    if empty:
        pos = open_buy = open_sell = 0
    else:
        p = book._new_position(acct, "AAPL")
        p.pos, p.open_buy, p.open_sell = pos, open_buy, open_sell
        book.apply_reference("AAPL", mark, START_NS)  # the book re-grosses its holders
        held_long, held_short = worst_case(pos, open_buy, open_sell, 0)
        assert p.gross == acct.gross == book.firm.gross == max(held_long, held_short) * mark * tm
    long, short = worst_case(pos, open_buy, open_sell, side.sign * qty)

    need = Gateway._exposure(SimpleNamespace(book=book), "desk-7", "AAPL",  # type: ignore[arg-type]
                             side.sign * qty)  # fmt: skip
    assert need == max(long, short)

    order = _order(inst, side, qty, mark)
    r = check_position(order, acct, book, START_NS)
    own_side = long if side.sign > 0 else short
    if own_side <= LIMIT:
        assert r is None
    else:
        assert r is not None and r.code is RejectCode.POSITION_LIMIT
        assert render(r.attempted) == str(own_side)

    r = check_gross(order, acct, book, START_NS)
    held = book.firm.gross  # the only line of the only account: current, account, firm
    after = max(long, short) * book.marks["AAPL"] * tm
    if after <= held or after <= acct.risk.max_gross:
        assert r is None
    else:
        assert r is not None and r.code is RejectCode.GROSS_EXPOSURE_LIMIT
        assert r.attempted == fmt_money(after, inst.currency)


def _order(inst: Instrument, side: Side, qty: int, price: int) -> Order:
    return Order(
        order_id=1, client_order_id="c1", account="desk-7", strategy="s", symbol="AAPL",
        side=side, sign=side.sign, qty=qty, price=price, value_ticks=price, is_market=False,
        tif=TimeInForce.DAY, session=TradingSession.CONTINUOUS, parent_id=None,
        instrument=inst, principal="p", ts=START_NS, notional=qty * price * inst.tick_micros,
    )  # fmt: skip
