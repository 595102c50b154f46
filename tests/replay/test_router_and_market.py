"""The router code and the market model: the baseline's closed forms agree with the loops
the protected runs drive, and the linter sees the Power Peg path."""

from __future__ import annotations

import numpy as np

from interlock.domain.enums import Side
from interlock.flags import FindingCode, FlagRegistry, lint, manifest_from_source
from interlock.replay.flags import KNIGHT_BIT, LEGACY_SOURCE, RLP_ID, RLP_SOURCE, knight_flags
from interlock.replay.market import KnightMarket
from interlock.replay.scenario import N_LONG, N_PARENTS, N_SYMBOLS, Parent, build_scenario, et
from interlock.replay.smars import PowerPeg, PowerPegRouter, RlpRouter, Route

MS = 1_000_000
PARENT = Parent("P1", "K001", Side.BUY, 300, "gw-8")


def test_power_peg_closed_form_counts_what_its_loop_sends() -> None:
    start = et(9, 30)
    loop, closed = PowerPeg(PARENT, start, 100 * MS, 100), PowerPeg(PARENT, start, 100 * MS, 100)
    edges = start + np.arange(0, 31, dtype=np.int64) * 250 * MS  # 250 ms buckets
    counts = closed.children_in(edges[:-1], edges[1:])
    sent = [len(loop.due(int(t1) - 1)) for t1 in edges[1:]]
    assert counts.tolist() == sent and sum(sent) == 75
    for _ in range(5):
        loop.done(100)  # fills never reach the stop: 500 shares on a 300-share parent
    assert len(loop.due(int(edges[-1]))) == 1


def test_route_stops_once_the_parent_is_filled_and_resends_after_a_miss() -> None:
    w = Route(PARENT)
    [child] = w.due(0)
    assert child.quantity == 300 and w.due(1) == []
    w.done(0)
    [again] = w.due(2)
    w.done(300)
    assert again.n == 2 and w.due(3) == [] and w.skip(10, 5) == 0


def test_the_builds_read_the_reused_flag_through_a_flagset() -> None:
    warned: list[str] = []
    old = PowerPegRouter("gw-8", lambda: knight_flags(PowerPegRouter.build),
                         lambda ts, text: warned.append(text))  # fmt: skip
    new = RlpRouter("gw-1", lambda: knight_flags(RlpRouter.build), lambda ts, text: None)
    old.preopen("PM1", "K001", et(8, 1))
    assert warned == ["BNET reject: SMARS gw-8: order PM1 K001: Power Peg disabled"]
    for router in (old, new):
        router.accept(PARENT)
        router.open(et(9, 30))
    assert old.power_pegs() and not new.power_pegs()
    assert new.tick(et(9, 30))[0].algo == "rlp"


def test_the_linter_sees_the_power_peg_path_of_the_old_build() -> None:
    registry = FlagRegistry()
    registry.register("power_peg", KNIGHT_BIT, "Power Peg", "smars")
    registry.retire("power_peg", {}, "release-eng")
    registry.register("rlp", RLP_ID, "Retail Liquidity Program", "smars")
    codes = {f.code for f in lint([LEGACY_SOURCE], registry)}
    assert {FindingCode.FLAG_RETIRED_READ, FindingCode.FLAG_DEAD_CODE} <= codes
    assert lint([RLP_SOURCE], registry) == []
    assert dict(manifest_from_source([RLP_SOURCE], "new", registry).reads) == {"rlp": RLP_ID}


def test_the_scenario_has_the_sec_counts() -> None:
    sc = build_scenario(5)
    assert len(sc.parents) == N_PARENTS and len({p.symbol for p in sc.parents}) == N_SYMBOLS
    assert len(sc.long_symbols) == N_LONG and len(sc.warning_times) == 97
    assert sc.warning_times[0] == et(8, 1) and sc.warning_times[-1] < et(9, 30)
    assert all((p.side is Side.BUY) == (p.symbol in sc.long_symbols) for p in sc.parents)
    assert (sc.stop_at - sc.open_at) // 10**9 == 45 * 60 and sc.fix_at == et(9, 35)
    assert build_scenario(5) == sc and build_scenario(6) != sc


def test_scalar_and_vector_market_formulas_agree() -> None:
    m = KnightMarket(build_scenario(3))
    q = np.linspace(-50_000, 90_000, len(m.symbols))
    rate = np.linspace(0, 3_000, len(m.symbols))
    mids = m.mids(q)
    prices = m.take_prices(mids, m.sign, rate)
    for i in (0, 17, 88, 153):
        assert abs(m.mid(i, float(q[i])) - mids[i]) < 1e-9
        assert (
            abs(m.take_price(i, float(mids[i]), int(m.sign[i]), float(rate[i])) - prices[i]) < 1e-9
        )
    assert np.all(m.sign * (prices - mids) >= m.half_spread - 1e-9)  # a taker pays the spread
    pos = np.where(m.sign > 0, 10_000.0, -10_000.0)
    values = m.liquidation_values(pos, pos)
    assert np.all(values < pos * m.mids(pos))  # unwinding costs something, long or short
