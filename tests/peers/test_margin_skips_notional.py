"""What the peer skips: NautilusTrader 1.221's RiskEngine checks `max_notional_per_order`
only on a cash account; on a margin account `_check_orders_risk` returns before it. The same
order over the notional limit: the peer on a margin account sends it to the venue client,
Interlock refuses it with MAX_ORDER_NOTIONAL; the control, the peer on a cash account,
denies it. Every figure comes from one GatewayConfig (hotpath.py's), read by both sides."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest
from peer_kit import require_peer

from interlock.domain.commands import OrderRequest
from interlock.domain.enums import OrderType, Side
from interlock.domain.reject import RejectCode
from interlock.journal.memory import MemoryJournal
from interlock.sim.harness import build

require_peer()

from nautilus_trader.model.enums import AccountType  # noqa: E402
from nautilus_trader.model.identifiers import InstrumentId  # noqa: E402

from hotpath import bench_config, fresh_references  # noqa: E402
from nautilus_peer import ACCEPTED, NautilusPeer  # noqa: E402

LIMIT = 400_000  # hotpath.py's max_order_notional, asserted below
OVER = OrderRequest("big-1", "acct-0", "mm", "S001", Side.BUY, 4_500, OrderType.LIMIT,
                    Decimal("100.00"))  # 450,000 USD, under max_order_qty 5,000  # fmt: skip
UNDER = OrderRequest("ok-1", "acct-0", "mm", "S001", Side.BUY, 3_900, OrderType.LIMIT,
                     Decimal("100.00"))  # 390,000 USD  # fmt: skip


@pytest.fixture(scope="module")
def config() -> Any:
    cfg = bench_config()
    assert cfg.limits.defaults.max_order_notional == LIMIT
    return cfg


def _peer_outcome(config: Any, account_type: AccountType, req: OrderRequest) -> tuple[str, int]:
    peer = NautilusPeer(config, account_type=account_type)
    # the limit is set on the peer: what lets the order through is the account type alone
    assert peer.risk.max_notional_per_order(InstrumentId.from_str("S001.SIM")) == LIMIT
    assert peer.cache.account_for_venue(peer.client.venue).type == account_type
    command = peer.command(req)
    peer.risk.execute(command)
    return peer.outcomes([command])[0], peer.sent


def _interlock_code(config: Any, req: OrderRequest) -> str:
    h = build(config, journal=MemoryJournal(), clock=time.time_ns)
    try:
        fresh_references(h)
        d = h.gateway.submit(req, "key-0")
        return d.code.value if d.code else ACCEPTED
    finally:
        h.gateway.close()


def test_margin_account_peer_lets_an_order_over_max_notional_through_that_interlock_refuses(
    config: Any,
) -> None:
    assert _peer_outcome(config, AccountType.MARGIN, OVER) == (ACCEPTED, 1)
    assert _interlock_code(config, OVER) == RejectCode.MAX_ORDER_NOTIONAL.value


def test_cash_account_peer_denies_the_same_order_with_its_notional_check(config: Any) -> None:
    assert _peer_outcome(config, AccountType.CASH, OVER) == ("NOTIONAL_EXCEEDS_MAX_PER_ORDER", 0)


def test_an_order_under_the_limit_passes_the_peer_on_either_account_and_interlock(
    config: Any,
) -> None:
    for account_type in (AccountType.CASH, AccountType.MARGIN):
        assert _peer_outcome(config, account_type, UNDER) == (ACCEPTED, 1)
    assert _interlock_code(config, UNDER) == ACCEPTED
