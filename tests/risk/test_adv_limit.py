"""ADV_LIMIT: one order at most `limits.adv.max_order_bps` of its symbol's average daily
volume, on as served; a symbol with no ADV figure is refused (fail closed)."""

from __future__ import annotations

from typing import Any

import pytest

from interlock.api.config import load_config, parse_config
from interlock.domain.reject import RejectCode
from interlock.errors import ConfigError
from interlock.sim.harness import build, config_with


def _config(**adv: Any) -> Any:
    base = load_config().limits.adv.model_dump(mode="json")
    return config_with(adv={**base, **adv})


def test_an_order_over_its_share_of_the_adv_rejects_with_ADV_LIMIT() -> None:
    h = build(_config(shares={**load_config().limits.adv.shares, "AAPL": 200_000}))  # 1%: 2,000
    d = h.submit(quantity=2_001)
    assert d.code is RejectCode.ADV_LIMIT and d.rejection is not None
    assert (d.rejection.limit, d.rejection.attempted) == (2_000, 2_001)
    assert "100 bps of its average daily volume 200,000" in d.rejection.reason
    assert h.submit(quantity=2_000).accepted


def test_the_bps_limit_is_the_configured_one() -> None:
    shares = {**load_config().limits.adv.shares, "AAPL": 200_000}
    h = build(_config(max_order_bps=50, shares=shares))  # 0.5%: 1,000
    assert h.submit(quantity=1_001).code is RejectCode.ADV_LIMIT
    assert h.submit(quantity=1_000).accepted


def test_a_symbol_without_an_adv_figure_fails_closed() -> None:
    shares = {s: v for s, v in load_config().limits.adv.shares.items() if s != "AAPL"}
    d = build(_config(shares=shares)).submit(quantity=1)
    assert d.code is RejectCode.ADV_LIMIT and d.rejection is not None
    assert d.rejection.message.startswith("ADV_LIMIT: no average daily volume for AAPL")


def test_every_instrument_of_the_packaged_config_has_an_adv_figure() -> None:
    cfg = load_config()
    assert set(cfg.limits.adv.shares) == set(cfg.instruments)


def test_an_adv_figure_for_an_unlisted_symbol_is_refused_at_load() -> None:
    data = load_config().model_dump(mode="json")
    data["limits"]["adv"]["shares"]["ZZZZ"] = 1_000
    data["limits"]["short_sale"]["easy_to_borrow"] = ["YYYY"]
    with pytest.raises(ConfigError) as bad:
        parse_config(data, "t")
    text = str(bad.value)
    assert "limits.adv.shares.ZZZZ: " in text and "limits.short_sale.easy_to_borrow.YYYY" in text


@pytest.mark.parametrize("bps", [0, 10_001, True, "100"])
def test_a_bad_bps_is_refused_at_load(bps: object) -> None:
    data = load_config().model_dump(mode="json")
    data["limits"]["adv"]["max_order_bps"] = bps
    with pytest.raises(ConfigError, match=r"limits\.adv\.max_order_bps"):
        parse_config(data, "t")
