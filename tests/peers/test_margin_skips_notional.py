"""What the peer skips: NautilusTrader 1.221's RiskEngine checks `max_notional_per_order`
only on a cash account; on a margin account `_check_orders_risk` returns before it. The same
order over the notional limit: the peer on a margin account sends it to the venue client,
Interlock refuses it with MAX_ORDER_NOTIONAL; the control, the peer on a cash account,
denies it. Every figure comes from one GatewayConfig (hotpath.py's), read by both sides;
the peer runs in a child process (peer_kit.peer_case)."""

from __future__ import annotations

import sys
import time
from decimal import Decimal

import pytest
from peer_kit import BENCH, peer_cases, require_peer

from interlock.domain.commands import OrderRequest
from interlock.domain.enums import OrderType, Side
from interlock.domain.reject import RejectCode
from interlock.journal.memory import MemoryJournal
from interlock.sim.harness import build

if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))
from hotpath import bench_config, fresh_references

LIMIT = 400_000  # hotpath.py's max_order_notional, asserted below
OVER = OrderRequest("big-1", "acct-0", "mm", "S001", Side.BUY, 4_500, OrderType.LIMIT,
                    Decimal("100.00"))  # 450,000 USD, under max_order_qty 5,000  # fmt: skip
UNDER = OrderRequest("ok-1", "acct-0", "mm", "S001", Side.BUY, 3_900, OrderType.LIMIT,
                     Decimal("100.00"))  # 390,000 USD  # fmt: skip


Peer = dict[tuple[str, str], tuple[str, int]]
CASES = [("MARGIN", OVER), ("CASH", OVER), ("CASH", UNDER), ("MARGIN", UNDER)]


@pytest.fixture(scope="module")
def peer() -> Peer:
    """(account type, client order id) -> (outcome, orders the client got), one child."""
    require_peer()
    out = {}
    for (account_type, req), r in zip(CASES, peer_cases(CASES), strict=True):
        # the limit is set on the peer: what lets an order through is the account type alone
        assert (r["max_notional_per_order"], r["account_type"]) == (str(LIMIT), account_type)
        out[(account_type, req.client_order_id)] = (r["outcome"], r["sent"])
    return out


def _interlock(req: OrderRequest) -> str:
    config = bench_config()
    assert config.limits.defaults.max_order_notional == LIMIT
    h = build(config, journal=MemoryJournal(), clock=time.time_ns)
    try:
        fresh_references(h)
        d = h.gateway.submit(req, "key-0")
        return d.code.value if d.code else "ACCEPTED"
    finally:
        h.gateway.close()


def test_margin_account_peer_lets_an_order_over_max_notional_through_that_interlock_refuses(
    peer: Peer,
) -> None:
    assert peer[("MARGIN", OVER.client_order_id)] == ("ACCEPTED", 1)
    assert _interlock(OVER) == RejectCode.MAX_ORDER_NOTIONAL.value


def test_cash_account_peer_denies_the_same_order_with_its_notional_check(peer: Peer) -> None:
    assert peer[("CASH", OVER.client_order_id)] == ("NOTIONAL_EXCEEDS_MAX_PER_ORDER", 0)


def test_an_order_under_the_limit_passes_the_peer_on_either_account_and_interlock(
    peer: Peer,
) -> None:
    assert peer[("CASH", UNDER.client_order_id)] == ("ACCEPTED", 1)
    assert peer[("MARGIN", UNDER.client_order_id)] == ("ACCEPTED", 1)
    assert _interlock(UNDER) == "ACCEPTED"
