"""The admin listener: the kill switch on its own port, credentials and thread.

It serves only POST /halt, POST /resume, GET /fleet and GET /halts, and knows only admin
tokens: a trading key is unknown here (401) and an admin token is unknown on the REST
port. Halts go through `Gateway.halt`, which writes the record to the control plane and
waits for every live member to confirm it, so the answer says the fleet has stopped, not
merely that a request was filed.
"""

# No `from __future__ import annotations`: FastAPI must resolve the route-local
# `Annotated[..., Depends(...)]` aliases at decoration time.
from typing import Annotated

from fastapi import Depends, FastAPI
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from interlock import __version__
from interlock.api.admin.models import (
    FleetView,
    HaltIn,
    HaltReportView,
    HaltView,
    MemberView,
    ResumeIn,
    ResumeView,
)
from interlock.api.bearer import bearer_principal, install_error_handler
from interlock.api.config import serve_config
from interlock.api.rest.models import RejectBody
from interlock.control.plane import HaltRecord
from interlock.gateway.auth import Authenticator, Role
from interlock.gateway.gateway import Gateway

_bearer = HTTPBearer(auto_error=False, description="admin token as a bearer token")
_REFUSALS: dict[int | str, dict[str, object]] = {401: {"model": RejectBody}}


def _halt_view(h: HaltRecord) -> HaltView:
    return HaltView(scope=h.scope, target=h.target, reason=h.reason, who=h.who, ts_ns=h.ts)


def create_admin_app(gateway: Gateway) -> FastAPI:
    admin_tokens = serve_config(gateway.config).admin.tokens  # admin tokens only: bearer.py
    tokens = Authenticator.readers(
        (t.token_sha256, t.principal, Role.OPERATOR) for t in admin_tokens
    )

    def admin(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> str:
        return bearer_principal(tokens, credentials).name

    Admin = Annotated[str, Depends(admin)]
    app = FastAPI(
        title="Interlock admin",
        version=__version__,
        description="The kill switch: halt, resume, fleet, halts.",
    )
    install_error_handler(app)

    @app.post("/halt", responses=_REFUSALS)
    def halt(body: HaltIn, who: Admin) -> HaltReportView:
        """Halt and wait until every live member confirmed (or `fleet.halt_confirm_ms`)."""
        r = gateway.halt(body.scope, body.target, body.reason, who)
        return HaltReportView(
            halt=_halt_view(r.halt),
            summary=str(r),
            expected=list(r.expected),
            confirmed=list(r.confirmed),
            missing=list(r.missing),
            lost=list(r.lost),
            elapsed_ms=r.elapsed_ms,
            complete=r.complete,
            pending_cancel=r.pending_cancel,
        )

    @app.post("/resume", responses=_REFUSALS)
    def resume(body: ResumeIn, who: Admin) -> ResumeView:
        return ResumeView(lifted=gateway.resume(body.scope, body.target, who))

    @app.get("/halts", responses=_REFUSALS)
    def halts(who: Admin) -> list[HaltView]:
        return [_halt_view(h) for h in gateway.halts_in_force()]

    @app.get("/fleet", responses=_REFUSALS)
    def fleet(who: Admin) -> FleetView:
        fleet = gateway.fleet_snapshot()
        now, release = fleet.now, fleet.release
        members = [
            MemberView(
                instance_id=m.instance_id,
                build_digest=m.attestation.build_digest,
                flag_digest=m.attestation.flag_digest,
                config_digest=m.attestation.config_digest,
                host=m.attestation.host,
                pid=m.attestation.pid,
                lease_left_ms=(m.lease_expires_ns - now) // 1_000_000,
                flag_refusal=m.flag_refusal,
            )
            for m in fleet.members
        ]
        return FleetView(
            build_digest=release.build_digest,
            flag_digest=release.flag_digest,
            config_digest=release.config_digest,
            epoch=release.epoch,
            members=members,
            this_instance=gateway.instance_id,
            this_gate=fleet.gate,
        )

    return app
