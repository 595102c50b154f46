"""The mark feed: a price publisher pushes reference prices to `POST /marks`.

Its own listener (loopback by default) with its own bearer tokens (`[reference.feed]`
publishers, stored as SHA-256 digests): a trading key cannot move the marks its orders are
collared against. Marks are stamped on receipt by the gateway's clock; a publisher that
stops pushing lets them go stale, and orders are then refused REFERENCE_PRICE_STALE, as for
any source. A batch is judged whole before any of it is applied: an unknown symbol, a
price off the tick grid or not positive refuses the batch (422, UNKNOWN_SYMBOL or
SCHEMA_INVALID), so a publisher never half-updates the book.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Annotated

from fastapi import Depends, FastAPI
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from interlock.api.bearer import ApiError, install_error_handler
from interlock.domain.instrument import Instrument
from interlock.domain.reject import RejectCode, reject

MarkSink = Callable[[str, int], None]
_BEARER = HTTPBearer(auto_error=False)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)]


class MarkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    symbol: str = Field(min_length=1, max_length=32)
    price: Decimal = Field(gt=0, max_digits=18, decimal_places=6)


class MarksIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    marks: list[MarkIn] = Field(min_length=1, max_length=1_000)


class MarksTaken(BaseModel):
    taken: int = Field(description="marks applied (every one in the batch)")


def create_feed_app(
    marks: MarkSink, instruments: Mapping[str, Instrument], publishers: list[str]
) -> FastAPI:
    """The feed's app: `marks(symbol, ticks)` for each mark of an authenticated batch."""
    app = FastAPI(title="Interlock mark feed", docs_url=None, redoc_url=None)
    install_error_handler(app)
    digests = tuple(publishers)

    def publisher(credentials: Credentials) -> None:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise ApiError(401, reject(RejectCode.UNAUTHENTICATED, "bearer token required",
                                       "Authorization: Bearer <token>", "none"))  # fmt: skip
        got = hashlib.sha256(credentials.credentials.encode()).hexdigest()
        if not any(hmac.compare_digest(got, d) for d in digests):
            raise ApiError(401, reject(RejectCode.UNAUTHENTICATED, "publisher not recognised",
                                       "a [reference.feed] publisher token",
                                       "unknown token"))  # fmt: skip

    @app.post("/marks", dependencies=[Depends(publisher)])
    def push(batch: MarksIn) -> MarksTaken:
        """Apply a batch of marks, all or none."""
        ticks: list[tuple[str, int]] = []
        for i, mark in enumerate(batch.marks):
            inst = instruments.get(mark.symbol)
            if inst is None:
                raise ApiError(422, reject(RejectCode.UNKNOWN_SYMBOL,
                                           f"marks.{i}.symbol: not a configured instrument",
                                           "a configured instrument",
                                           ascii(mark.symbol)[:40]))  # fmt: skip
            t = inst.to_ticks(mark.price)
            if t is None or t <= 0:
                raise ApiError(422, reject(RejectCode.SCHEMA_INVALID,
                                           f"marks.{i}.price: off the tick grid",
                                           f"a multiple of {inst.tick_size}",
                                           str(mark.price)))  # fmt: skip
            ticks.append((mark.symbol, t))
        for symbol, t in ticks:
            marks(symbol, t)
        return MarksTaken(taken=len(ticks))

    return app
