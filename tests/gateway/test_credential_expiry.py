"""Keys and tokens that expire (`not_after`) or are revoked (`revoked`): refused from that
instant with their own codes, on every path a key can take (a key, a Principal resolved
before, a cached key), and files without either keep their digest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from interlock.api.admin.access import admin_authenticator
from interlock.api.config import ServeConfig, load_config, parse_config
from interlock.domain.clock import ManualClock
from interlock.domain.reject import RejectCode, Rejection
from interlock.errors import ConfigError
from interlock.gateway.auth import Principal
from interlock.gateway.config import hash_key
from interlock.sim.harness import DESK_KEY, MM_KEY, START_NS, build

ADMIN_TOKEN = "demo-admin-token"


def _at(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, UTC).isoformat()


def _config(desk_not_after: str | None = None, revoked: tuple[str, ...] = ()) -> ServeConfig:
    data = load_config().model_dump(mode="json")
    for key in data["api_keys"]:
        if key["principal"] == "desk-7-algo" and desk_not_after is not None:
            key["not_after"] = desk_not_after
    data["revoked"] = list(revoked)
    return parse_config(data, "expiry test config")


def test_a_key_is_refused_CREDENTIAL_EXPIRED_from_its_not_after_on_every_path() -> None:
    clock = ManualClock(START_NS)
    h = build(_config(desk_not_after=_at(START_NS + 1_000_000_000)), clock=clock)
    auth = h.gateway.auth
    session = auth.principal(DESK_KEY)  # a FIX session resolves its key once, at logon
    assert isinstance(session, Principal)
    assert h.submit().accepted
    assert h.gateway.submit(h.order(quantity=200), session).accepted
    clock.advance_ms(1_000)  # exactly not_after: refused from this instant
    assert h.gateway.submit(h.order(), DESK_KEY).code is RejectCode.CREDENTIAL_EXPIRED
    assert h.gateway.submit(h.order(), session).code is RejectCode.CREDENTIAL_EXPIRED
    assert auth.principal(DESK_KEY) is None and auth.resolve(session) is None
    found = auth.identify(DESK_KEY)
    assert isinstance(found, Rejection) and found.code is RejectCode.CREDENTIAL_EXPIRED
    assert DESK_KEY not in found.message  # a key is a secret: never in a message
    assert h.submit(MM_KEY, account="mm-1", strategy="quotes").accepted  # others unaffected


def test_a_revoked_key_is_never_admitted_and_answers_CREDENTIAL_REVOKED() -> None:
    h = build(_config(revoked=(hash_key(DESK_KEY),)))
    auth = h.gateway.auth
    assert auth.principal(DESK_KEY) is None
    assert h.submit().code is RejectCode.CREDENTIAL_REVOKED
    found = auth.identify(DESK_KEY)
    assert isinstance(found, Rejection) and found.code is RejectCode.CREDENTIAL_REVOKED
    unknown = auth.identify("never-issued")
    assert isinstance(unknown, Rejection) and unknown.code is RejectCode.UNAUTHENTICATED
    assert h.submit(MM_KEY, account="mm-1", strategy="quotes").accepted


def test_admin_tokens_expire_and_are_revoked_alike() -> None:
    cfg = load_config()
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    data = cfg.model_dump(mode="json")
    data["admin"]["tokens"][0]["not_after"] = past
    tokens = parse_config(data).admin.tokens
    found = admin_authenticator(tokens).identify(ADMIN_TOKEN)
    assert isinstance(found, Rejection) and found.code is RejectCode.CREDENTIAL_EXPIRED
    revoked = admin_authenticator(cfg.admin.tokens, frozenset({hash_key(ADMIN_TOKEN)}))
    found = revoked.identify(ADMIN_TOKEN)
    assert isinstance(found, Rejection) and found.code is RejectCode.CREDENTIAL_REVOKED


def test_a_file_without_expiries_or_revocations_keeps_its_digest() -> None:
    before = load_config()
    assert "not_after" not in before.api_keys[0].model_dump()
    assert "not_after" not in before.admin.tokens[0].model_dump()
    same = _config()
    assert same.digest() == before.digest() and same.fleet_digest() == before.fleet_digest()
    later = _config(desk_not_after="2030-01-01T00:00:00Z")
    assert later.fleet_digest() != before.fleet_digest()
    revoked = _config(revoked=(hash_key("old-key"),))
    assert revoked.fleet_digest() != before.fleet_digest()


@pytest.mark.parametrize("bad", ["2030-01-01T00:00:00", "tomorrow"])
def test_a_not_after_without_a_zone_or_not_a_time_is_refused_naming_the_key(bad: str) -> None:
    with pytest.raises(ConfigError, match=r"api_keys\.0\.not_after"):
        _config(desk_not_after=bad)


def test_a_revoked_entry_that_is_not_a_sha256_digest_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"revoked"):
        _config(revoked=("demo-desk-7-key",))
