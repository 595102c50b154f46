"""ADV file routes on the admin listener (`limits.adv.file`, gateway/adv_reload.py).

`POST /adv/reload` (operator or risk) reads the member's file now and, if it is new,
journals it (`AdvLoaded`) and puts it in force between two decisions; a bad or stale file
is 422 CONFIG_INVALID naming the file and line, and the figures in force stay.
`GET /adv` (reader) shows what is in force: file, as_of, count, digest, loaded_at and why
it is stale, if it is. Each fleet member reads its own copy: compare their digests.
"""

# No `from __future__ import annotations`: FastAPI resolves the route annotations.
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, FastAPI
from pydantic import BaseModel, Field

from interlock.api.bearer import ApiError
from interlock.api.rest.models import RejectBody
from interlock.domain.reject import RejectCode, reject
from interlock.errors import ConfigError
from interlock.gateway.adv_reload import AdvStatus
from interlock.gateway.auth import Principal
from interlock.gateway.gateway import Gateway

_REFUSALS: dict[int | str, dict[str, object]] = {
    401: {"model": RejectBody},
    403: {"model": RejectBody},
    422: {"model": RejectBody},
}


class AdvView(BaseModel):
    file: str = Field(description="the file this member reads (empty: none configured)")
    as_of: str = Field(description="the date of the figures in force (empty: none loaded)")
    count: int = Field(description="figures the file gave")
    digest: str = Field(description="sha256 of the file, first 16 hex: the same on every member")
    loaded_at: int = Field(description="when the load was journaled, UTC ns (0: never)")
    stale: str = Field(
        description="why the figures are stale, ADV_LIMIT refusing all (empty: fresh)"
    )


def adv_view(s: AdvStatus) -> AdvView:
    return AdvView(file=s.file, as_of=s.as_of, count=s.count, digest=s.digest,
                   loaded_at=s.loaded_at, stale=s.stale)  # fmt: skip


def add_adv_routes(
    app: FastAPI,
    gateway: Gateway,
    reader: Callable[..., Principal],
    reloader: Callable[..., Principal],
) -> None:
    Reader = Annotated[Principal, Depends(reader)]
    Reloader = Annotated[Principal, Depends(reloader)]

    @app.post("/adv/reload", responses=_REFUSALS)
    def reload(who: Reloader) -> AdvView:
        """Read the ADV file now: journaled and in force if new; a bad file changes nothing."""
        try:
            return adv_view(gateway.adv.reload(who.name))
        except ConfigError as e:
            refusal = reject(RejectCode.CONFIG_INVALID, str(e), limit="a good, fresh ADV file",
                             attempted=str(gateway.adv.path or "no file"))  # fmt: skip
            raise ApiError(422, refusal) from None

    @app.get("/adv", responses=_REFUSALS)
    def show(who: Reader) -> AdvView:
        """The ADV figures in force: their file, date, count, digest and load time."""
        return adv_view(gateway.adv.status())
