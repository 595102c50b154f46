"""The journal codec: every event survives encode/decode exactly; kinds never change."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from interlock.domain.commands import OrderRequest, ParentOrder
from interlock.domain.enums import HaltScope, OrderType, Side, TimeInForce, TradingSession
from interlock.domain.events import (
    EVENT_TYPES,
    AdvLoaded,
    Cancelled,
    CancelRequested,
    DeployAborted,
    DeployCommitted,
    DeployProposed,
    DropCopyBreak,
    Event,
    Filled,
    HaltApplied,
    HaltLifted,
    LimitsLoaded,
    LocateAdded,
    OrderDecided,
    ParentDeclared,
    ReadinessAcknowledged,
    Routed,
    VenueRejected,
)
from interlock.domain.flag_events import FlagDisabled, FlagEnabled, FlagRegistered, FlagRetired
from interlock.domain.limit_events import (
    LimitChangeApplied,
    LimitChangeApproved,
    LimitChangeDeclined,
    LimitChangeProposed,
    LimitItem,
)
from interlock.errors import JournalError, RecoveryError
from interlock.journal import decode, encode

REQUEST = OrderRequest(
    "c1", "acct", "strat", "AAPL", Side.BUY, 100, OrderType.LIMIT, Decimal("10.01")
)
SAMPLES: list[Event] = [
    OrderDecided(1, "p", REQUEST, 1, 1001, 1001, "", "", "", "", "d"),
    OrderDecided(
        2,
        "",
        OrderRequest(
            "c2",
            "a",
            "s",
            "MSFT",
            Side.SELL_SHORT,
            5,
            OrderType.MARKET,
            None,
            TimeInForce.AT_THE_OPEN,
            TradingSession.OPENING_AUCTION,
            "par-1",
            "key-1",
        ),
        None,
        0,
        0,
        "MAX_ORDER_QTY",
        "too big",
        "10",
        "5",
        "d",
    ),
    Filled(3, 1, 40, 1001, "x-1"),
    Cancelled(4, 1, 60, "user"),
    VenueRejected(5, 2, "venue closed"),
    CancelRequested(6, 1, "p", "flatten"),
    Routed(6, 1),
    HaltApplied(7, HaltScope.SYMBOL, "AAPL", "runaway", "ops"),
    HaltLifted(8, HaltScope.GLOBAL, "", "ops"),
    ParentDeclared(9, ParentOrder("par-1", "a", "MSFT", Side.SELL, 1000)),
    LimitsLoaded(10, "sha256:abc", '{"max_order_qty": 10}'),
    DeployProposed(11, "build-b", "flags-1", ("gw-1", "gw-2"), 1, "ops"),
    DeployCommitted(12, "build-b", "flags-1", 2, ("gw-1", "gw-2"), "ops"),
    DeployAborted(13, "build-c", "", "ops", "gw-2 kept the old build"),
    FlagRegistered(14, "rlp", 2, "Retail Liquidity Program", "smars"),
    FlagRetired(15, "power_peg", "release-eng"),
    FlagEnabled(16, "rlp", 2, "ops", ("gw-1", "gw-2")),
    FlagDisabled(17, "rlp", "ops"),
    ReadinessAcknowledged(18, "ops", ("members: gw-8 runs build 5a1c, not 9f02",), 97),
    LimitChangeProposed(
        19,
        "LC-1",
        "risk-a",
        (LimitItem("defaults.max_position", "50000", "60000"),),
        "more",
        True,
        99,
    ),
    LimitChangeApproved(20, "LC-1", "risk-b"),
    LimitChangeDeclined(21, "LC-2", "risk-b", "not today"),
    LimitChangeApplied(22, "LC-1", (LimitItem("firm.max_gross_notional", "1", "0.5"),), "d"),
    DropCopyBreak(
        23,
        "foreign",
        "R1",
        "ROGUE-1",
        "V1",
        "desk-7",
        "AAPL",
        "1",
        500,
        "no order of ours",
        HaltScope.ACCOUNT,
        "desk-7",
    ),
    LocateAdded(24, "L1", "desk-7", "AAPL", 500, 10**12, "prime broker", "ops"),
    AdvLoaded(25, "2025-07-31", "0123456789abcdef", (("AAPL", 200_000), ("MSFT", 300_000))),
]

# Written into every journal file: changing one breaks reading old journals.
STABLE_KINDS = {
    OrderDecided: "decided",
    Filled: "fill",
    Cancelled: "cancelled",
    VenueRejected: "venue_rejected",
    CancelRequested: "cancel_requested",
    Routed: "routed",
    HaltApplied: "halt",
    HaltLifted: "resume",
    ParentDeclared: "parent",
    LimitsLoaded: "limits",
    DeployProposed: "deploy_proposed",
    DeployCommitted: "deploy_committed",
    DeployAborted: "deploy_aborted",
    FlagRegistered: "flag_registered",
    FlagRetired: "flag_retired",
    FlagEnabled: "flag_enabled",
    FlagDisabled: "flag_disabled",
    ReadinessAcknowledged: "readiness_ack",
    LimitChangeProposed: "limit_change_proposed",
    LimitChangeApproved: "limit_change_approved",
    LimitChangeDeclined: "limit_change_declined",
    LimitChangeApplied: "limit_change_applied",
    DropCopyBreak: "drop_copy_break",
    LocateAdded: "locate",
    AdvLoaded: "adv_loaded",
}


def test_samples_cover_every_event_type() -> None:
    assert {type(e) for e in SAMPLES} == set(EVENT_TYPES)


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: type(e).__name__)
def test_encode_then_decode_returns_an_equal_event(event: Event) -> None:
    kind, body = encode(event)
    back = decode(kind, body)
    assert back == event
    assert type(back) is type(event)


def test_kind_strings_are_stable() -> None:
    assert {type(e): encode(e)[0] for e in SAMPLES} == STABLE_KINDS


def test_a_record_written_today_decodes_the_same_forever() -> None:
    # Bytes as stored on disk by schema version 1; a change here breaks old journals.
    assert decode("fill", b"\x95\x01\x01\x01d\xa1x") == Filled(1, 1, 1, 100, "x")


def test_decoded_enums_and_decimals_keep_their_types() -> None:
    back = decode(*encode(SAMPLES[0]))
    assert isinstance(back, OrderDecided)
    assert type(back.request.side) is Side
    assert back.request.limit_price == Decimal("10.01")
    assert str(back.request.limit_price) == "10.01"


def test_decode_of_unknown_kind_raises_RecoveryError_naming_it() -> None:
    with pytest.raises(RecoveryError, match="'order_v9'"):
        decode("order_v9", b"\x80")


def test_decode_of_corrupt_body_raises_RecoveryError() -> None:
    kind, body = encode(SAMPLES[2])
    with pytest.raises(RecoveryError, match="corrupt fill"):
        decode(kind, body[:-3])
    with pytest.raises(RecoveryError):
        decode("halt", body)  # a fill body is not a halt


def test_encode_of_a_non_event_raises_JournalError() -> None:
    with pytest.raises(JournalError, match="not an event type"):
        encode(REQUEST)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "event",
    [Filled(1, 1, 2**64, 100, "x"), Filled(1, 1, 1, 100, "\udcff")],
    ids=["int-over-64-bits", "lone-surrogate"],
)
def test_encode_of_an_unrepresentable_field_raises_JournalError(event: Event) -> None:
    with pytest.raises(JournalError, match="cannot encode fill"):
        encode(event)


text = st.text(max_size=40)
int64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
prices = st.none() | st.decimals(allow_nan=False, allow_infinity=False, places=None)


@given(
    ts=int64,
    principal=text,
    cid=text,
    symbol=text,
    side=st.sampled_from(Side),
    qty=int64,
    otype=st.sampled_from(OrderType),
    price=prices,
    tif=st.sampled_from(TimeInForce),
    session=st.sampled_from(TradingSession),
    parent=st.none() | text,
    key=st.none() | text,
    order_id=st.none() | int64,
    ticks=int64,
    code=text,
    reason=text,
)
def test_order_decided_round_trips_for_any_field_values(
    ts: int,
    principal: str,
    cid: str,
    symbol: str,
    side: Side,
    qty: int,
    otype: OrderType,
    price: Decimal | None,
    tif: TimeInForce,
    session: TradingSession,
    parent: str | None,
    key: str | None,
    order_id: int | None,
    ticks: int,
    code: str,
    reason: str,
) -> None:
    request = OrderRequest(
        cid, "acct", "strat", symbol, side, qty, otype, price, tif, session, parent, key
    )
    event = OrderDecided(
        ts, principal, request, order_id, ticks, ticks, code, reason, "l", "a", "d"
    )
    back = decode(*encode(event))
    assert back == event
    assert isinstance(back, OrderDecided)
    assert str(back.request.limit_price) == str(price)  # same digits and exponent


# An accepted order as journals before the trading calendar stored it: the request carried
# the session label (here pre_open) and the decision had no `session` of its own.
OLD_DECIDED = (
    b"\x9c\x05\xabdesk-7-algo\x9c\xa2c1\xa6desk-7\xa4vwap\xa4AAPL\xa3buyd\xa5limit"
    b"\xa510.01\xa3day\xa8pre_open\xc0\xc0\x01\xcd\x03\xe9\xcd\x03\xe9\xa0\xa0\xa0\xa0\xa1d\xa0"
)


def test_a_decision_journaled_before_the_calendar_recovers_in_its_labelled_session() -> None:
    from interlock.api.config import load_config
    from interlock.gateway.state import rebuild_order

    ev = decode("decided", OLD_DECIDED)
    assert isinstance(ev, OrderDecided) and ev.session == ""
    assert ev.request is not None and ev.request.session is TradingSession.PRE_OPEN
    order = rebuild_order(1, ev, load_config().instrument_map())
    assert order.session is TradingSession.PRE_OPEN  # what it was judged in, back then


def test_an_unlabelled_request_and_the_servers_session_round_trip() -> None:
    request = OrderRequest("c9", "a", "s", "AAPL", Side.BUY, 1, limit_price=Decimal("1"))
    assert request.session is None
    ev = OrderDecided(1, "p", request, 9, 100, 100, "", "", "", "", "d", "", "continuous")
    assert decode(*encode(ev)) == ev
