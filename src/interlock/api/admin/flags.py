"""Flag routes on the admin listener: list, register, retire, enable, disable.

Each change is one call of the plane's flag port, as the token's principal: the rules are
the registry's and the plane's. `enable` is judged by the plane against the manifest of
every member whose lease is fresh now (attested or not); the caller passes none. A refusal
answers 409 FLAG_REFUSED with the registry's text (naming the member that does not
declare the flag, the tombstone, ...).
"""

# No `from __future__ import annotations`: FastAPI resolves the route annotations.
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, FastAPI
from fastapi import Path as PathParam

from interlock.api.admin.plane_models import FlagChangeView, FlagView, RegisterIn
from interlock.api.admin.refusals import on_plane
from interlock.api.rest.models import RejectBody
from interlock.control.ports import ControlPlane
from interlock.flags.registry import Flag
from interlock.gateway.auth import Principal

_REFUSALS: dict[int | str, dict[str, object]] = {
    401: {"model": RejectBody},
    403: {"model": RejectBody},
    404: {"model": RejectBody},  # a name the path cannot carry (`?`, `#`): no route, NOT_FOUND
    409: {"model": RejectBody},
}
Name = Annotated[str, PathParam(min_length=1, max_length=64, description="the flag's name")]


def flag_view(f: Flag) -> FlagView:
    return FlagView(name=f.name, flag_id=f.flag_id, meaning=f.meaning, owner=f.owner,
                    created_ns=f.created, enabled=f.enabled, retired_at_ns=f.retired_at,
                    retired_by=f.retired_by)  # fmt: skip


def add_flag_routes(
    app: FastAPI,
    plane: ControlPlane,
    reader: Callable[..., Principal],
    operator: Callable[..., Principal],
) -> None:
    Reader = Annotated[Principal, Depends(reader)]
    Operator = Annotated[Principal, Depends(operator)]

    def change(step: Callable[[], Flag]) -> FlagChangeView:
        """Do one change; `changed` from the registry's history (a no-op adds nothing)."""
        before = len(plane.flag_registry().history)
        flag = on_plane(step)
        changed = len(plane.flag_registry().history) != before
        live = sorted(m.instance_id for m in plane.members())
        return FlagChangeView(flag=flag_view(flag), changed=changed, live_members=live)

    @app.get("/flags", responses=_REFUSALS)
    def flags(who: Reader) -> list[FlagView]:
        """Every flag of the plane's registry, tombstones included."""
        return [flag_view(f) for f in plane.flag_registry().flags()]

    @app.post("/flags", responses=_REFUSALS)
    def register(body: RegisterIn, who: Operator) -> FlagChangeView:
        """Bind a name to an id and a meaning for good; a used or retired name or id is
        refused."""
        return change(lambda: plane.register_flag(body.name, body.flag_id, body.meaning,
                                                  body.owner))  # fmt: skip

    @app.post("/flags/{name:path}/retire", responses=_REFUSALS)
    def retire(name: Name, who: Operator) -> FlagChangeView:
        """Leave a tombstone: the name and id are never reused."""
        return change(lambda: plane.retire_flag(name, who.name))

    @app.post("/flags/{name:path}/enable", responses=_REFUSALS)
    def enable(name: Name, who: Operator) -> FlagChangeView:
        """Switch a flag on, only if every live member's manifest declares its id."""
        return change(lambda: plane.enable_flag(name, who.name))

    @app.post("/flags/{name:path}/disable", responses=_REFUSALS)
    def disable(name: Name, who: Operator) -> FlagChangeView:
        """Switch a flag off (always allowed)."""
        return change(lambda: plane.disable_flag(name, who.name))
