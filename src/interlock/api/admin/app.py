"""The admin listener: the fleet's operator port, on its own port, credentials and thread.

Any live member's admin port acts on the running control plane the member belongs to
(whatever its backend), through the plane's own operations: the fleet view, deploys
(deploys.py), halts and resumes, the flag registry (flags.py), the pre-open readiness
verdict and its acknowledgement (preopen.py), four-eyes limit changes (limits.py), locates
for short sales (locates.py), the ADV file's reload (adv.py), and `/metrics` for
Prometheus (gateway/metrics.py), behind the reader credentials every view needs. It
knows only admin tokens: a trading key is unknown here (401) and an admin token is
unknown on the REST port. An operator token may do every fleet action, add locates and
reload the ADV file, a reader token only reads, a risk token reads, changes limits and
reloads the ADV file (access.py). Halts go through `Gateway.halt`, which writes the record to
the control plane and waits for every live member to confirm it, so the answer says the
fleet has stopped, not that a request was filed.
"""

# No `from __future__ import annotations`: FastAPI must resolve the route-local
# `Annotated[..., Depends(...)]` aliases at decoration time.
from typing import Annotated

from fastapi import Depends, FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from interlock import __version__
from interlock.api.admin.access import admin_authenticator, allow
from interlock.api.admin.adv import add_adv_routes
from interlock.api.admin.deploys import add_deploy_routes, proposal_view
from interlock.api.admin.flags import add_flag_routes
from interlock.api.admin.limits import add_limit_routes
from interlock.api.admin.locates import add_locate_routes
from interlock.api.admin.models import (
    FleetView,
    HaltIn,
    HaltReportView,
    HaltView,
    MemberView,
    ResumeIn,
    ResumeView,
)
from interlock.api.admin.preopen import add_preopen_routes
from interlock.api.bearer import ApiError, install_error_handler
from interlock.api.body_limit import BodyLimit
from interlock.api.config import serve_config
from interlock.api.dashboard import add_dashboard_routes
from interlock.api.rest.models import RejectBody
from interlock.control.plane import HaltRecord, Member, Release
from interlock.domain.reject import RejectCode
from interlock.gateway.auth import Principal
from interlock.gateway.gateway import Gateway
from interlock.gateway.metrics import registry_for

_REFUSALS: dict[int | str, dict[str, object]] = {
    401: {"model": RejectBody},
    403: {"model": RejectBody},
}
ADMIN_REFUSALS: dict[int | str, dict[str, object]] = {
    413: {"model": RejectBody},
    422: {"model": RejectBody},
    503: {"model": RejectBody},
}
"""Declared on every admin route: a body or parameter that fails its schema is 422 in the
one error shape (FastAPI would otherwise publish its own `HTTPValidationError`, a body this
listener never sends), a body over 1 MiB is 413 BODY_TOO_LARGE (api/body_limit.py), and a
control plane that cannot answer is 503 CONTROL_PLANE_ERROR wherever a route reads it."""
_NOT_ATTESTED = RejectCode.INSTANCE_NOT_ATTESTED.value


def _halt_view(h: HaltRecord) -> HaltView:
    return HaltView(scope=h.scope, target=h.target, reason=h.reason, who=h.who, ts_ns=h.ts)


def _attested(m: Member, release: Release) -> bool:
    """The plane's verdict on a member's attestation (an empty release digest approves any)."""
    a = m.attestation
    return not m.flag_refusal and all(
        not want or want == got
        for want, got in ((release.build_digest, a.build_digest),
                          (release.flag_digest, a.flag_digest))
    )  # fmt: skip


def create_admin_app(gateway: Gateway) -> FastAPI:
    serving = serve_config(gateway.config)
    tokens = admin_authenticator(serving.admin.tokens, serving.revoked)
    Reader = Annotated[Principal, Depends(allow(tokens, "read"))]
    Operator = Annotated[Principal, Depends(allow(tokens, "operate"))]
    app = FastAPI(
        title="Interlock admin",
        version=__version__,
        description="The running fleet: status, deploys, halts, flags.",
        responses=ADMIN_REFUSALS,
    )
    install_error_handler(app)
    app.add_middleware(BodyLimit)

    @app.post("/halt", responses=_REFUSALS)
    def halt(body: HaltIn, who: Operator) -> HaltReportView:
        """Halt and wait until every live member confirmed (or `fleet.halt_confirm_ms`)."""
        r = gateway.halt(body.scope, body.target, body.reason, who.name)
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
    def resume(body: ResumeIn, who: Operator) -> ResumeView:
        """Lift a halt; 503 JOURNAL_UNAVAILABLE while the journal cannot make it durable."""
        refusal = gateway.resume_refusal()
        if refusal is not None:
            raise ApiError(503, refusal)
        return ResumeView(lifted=gateway.resume(body.scope, body.target, who.name))

    @app.get("/halts", responses=_REFUSALS)
    def halts(who: Reader) -> list[HaltView]:
        return [_halt_view(h) for h in gateway.halts_in_force()]

    def members(now: int, release: Release, live: list[Member], gate: str) -> list[MemberView]:
        return [
            MemberView(
                instance_id=m.instance_id,
                build_digest=m.attestation.build_digest,
                flag_digest=m.attestation.flag_digest,
                config_digest=m.attestation.config_digest,
                host=m.attestation.host,
                pid=m.attestation.pid,
                lease_left_ms=(m.lease_expires_ns - now) // 1_000_000,
                gate=gate if m.instance_id == gateway.instance_id
                else "attested" if _attested(m, release) else _NOT_ATTESTED,
                flag_refusal=m.flag_refusal,
            )
            for m in sorted(live, key=lambda m: m.instance_id)
        ]  # fmt: skip

    def fleet_view() -> FleetView:
        f = gateway.fleet_snapshot()
        pending = gateway.fleet.plane.proposal()
        return FleetView(
            build_digest=f.release.build_digest,
            flag_digest=f.release.flag_digest,
            config_digest=f.release.config_digest,
            epoch=f.release.epoch,
            release_members=list(f.release.members),
            members=members(f.now, f.release, f.members, f.gate),
            this_instance=gateway.instance_id,
            this_gate=f.gate,
            proposal=None if pending is None else proposal_view(pending),
            halts=[_halt_view(h) for h in f.halts],
        )

    @app.get("/fleet", responses=_REFUSALS)
    def fleet(who: Reader) -> FleetView:
        """The release, the pending deploy, the halts in force and every live member."""
        return fleet_view()

    @app.get("/fleet/members", responses=_REFUSALS)
    def fleet_members(who: Reader) -> list[MemberView]:
        """Every live member: attestation, lease, gate, the flag registry's verdict."""
        f = gateway.fleet_snapshot()
        return members(f.now, f.release, f.members, f.gate)

    registry = registry_for(gateway)

    @app.get("/metrics", responses=_REFUSALS, response_class=Response)
    def metrics(who: Reader) -> Response:
        """Prometheus text format, read from the instance's state now (gateway/metrics.py)."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    add_deploy_routes(app, gateway, allow(tokens, "read"), allow(tokens, "operate"))
    add_flag_routes(app, gateway.fleet.plane, allow(tokens, "read"), allow(tokens, "operate"))
    add_preopen_routes(app, gateway, allow(tokens, "read"), allow(tokens, "operate"))
    add_limit_routes(app, gateway, allow(tokens, "read"), allow(tokens, "change limits"))
    add_locate_routes(app, gateway, allow(tokens, "read"), allow(tokens, "operate"))
    add_adv_routes(app, gateway, allow(tokens, "read"), allow(tokens, "reload reference data"))
    add_dashboard_routes(app, gateway, tokens, fleet_view)
    return app
