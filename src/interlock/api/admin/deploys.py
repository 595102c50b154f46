"""Deploy routes on the admin listener: propose, readiness, commit, abort, rollback.

Each is one step of `control.deploy.Deployment` on this member's control plane (whatever
its backend), done as the token's principal; a refusal carries the plane's reasons.

Rollback proposes the release committed before the current one. The plane keeps only the
current release, so the previous one is read from this member's journal, which holds a
`DeployCommitted` for every release it saw committed (kept across its restarts): the
newest one below the current epoch with a build digest. A member that did not see it
(it joined later) refuses, saying so; the operator then proposes that build by name.
A rollback is then a deploy like any other: restart, readiness, commit.
"""

# No `from __future__ import annotations`: FastAPI resolves the route annotations.
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI

from interlock.api.admin.models import ProposalView
from interlock.api.admin.plane_models import (
    AbortIn,
    DeployView,
    ProposeIn,
    ReadinessView,
    ReleaseView,
    RollbackIn,
    RollbackView,
)
from interlock.api.admin.refusals import on_plane
from interlock.api.bearer import ApiError
from interlock.api.rest.models import RejectBody
from interlock.control.deploy import Deployment, ProposalCheck
from interlock.control.flag_preflight import flag_preflight
from interlock.control.fleetflags import live_manifests
from interlock.control.plane import Proposal, Release
from interlock.domain.events import DeployCommitted
from interlock.domain.reject import RejectCode, reject
from interlock.errors import FlagError
from interlock.flags.manifest import FlagManifest, manifest_from_source
from interlock.flags.registry import FlagRegistry
from interlock.gateway.auth import Principal
from interlock.gateway.gateway import Gateway
from interlock.journal.base import Journal

_REFUSALS: dict[int | str, dict[str, object]] = {
    401: {"model": RejectBody},
    403: {"model": RejectBody},
    409: {"model": RejectBody},
}


def proposal_view(p: Proposal) -> ProposalView:
    return ProposalView(build_digest=p.build_digest, flag_digest=p.flag_digest,
                        members=list(p.members), base_epoch=p.base_epoch, who=p.who,
                        ts_ns=p.ts)  # fmt: skip


def release_view(r: Release) -> ReleaseView:
    return ReleaseView(build_digest=r.build_digest, flag_digest=r.flag_digest, epoch=r.epoch,
                       members=list(r.members))  # fmt: skip


def previous_release(journal: Journal, epoch: int) -> DeployCommitted | None:
    """The newest release with a build that this journal saw committed below `epoch`."""
    found: DeployCommitted | None = None
    for _, event in journal.read():
        if (isinstance(event, DeployCommitted) and event.build_digest and event.epoch < epoch
                and (found is None or event.epoch > found.epoch)):  # fmt: skip
            found = event
    return found


def add_deploy_routes(
    app: FastAPI,
    gateway: Gateway,
    reader: Callable[..., Principal],
    operator: Callable[..., Principal],
) -> None:
    plane = gateway.fleet.plane
    Reader = Annotated[Principal, Depends(reader)]
    Operator = Annotated[Principal, Depends(operator)]

    def view(deploy: Deployment, proposal: Proposal) -> DeployView:
        ready = [ReadinessView(instance_id=r.instance_id, attests=r.attests, ready=r.ready)
                 for r in deploy.readiness()]  # fmt: skip
        return DeployView(proposal=proposal_view(proposal), readiness=ready)

    def expected(members: list[str], fallback: tuple[str, ...] = ()) -> list[str]:
        return members or list(fallback) or sorted(m.instance_id for m in plane.members())

    @app.post("/deploy/propose", responses=_REFUSALS)
    def propose(body: ProposeIn, who: Operator) -> DeployView:
        """Propose a build for the expected members, behind the flag release gate when the
        build's source is given; the members then restart on it and attest."""
        deploy = Deployment(plane, who=who.name)
        flag_digest, gate = body.flag_digest, None
        if body.source:
            live = live_manifests(plane.members())
            flag_digest, gate = _release_gate(body, plane.flag_registry(), live)
        members = expected(body.members)
        made = on_plane(lambda: deploy.propose(body.build_digest, flag_digest, members, gate,
                                               config_digest=body.config_digest))  # fmt: skip
        return view(deploy, made)

    @app.get("/deploy/readiness", responses=_REFUSALS)
    def readiness(who: Reader) -> DeployView:
        """The pending deploy and, for each expected member, whether it attests it yet."""
        pending = plane.proposal()
        if pending is None:
            raise ApiError(409, reject(RejectCode.DEPLOY_REFUSED,
                                       "readiness refused: no deploy is pending"))  # fmt: skip
        return view(Deployment(plane, who=who.name), pending)

    @app.post("/deploy/commit", responses=_REFUSALS)
    def commit(who: Operator) -> ReleaseView:
        """Release the pending deploy at the next epoch, only if every expected member
        attests it; else 409 naming each one that does not, and nothing changes."""
        return release_view(on_plane(Deployment(plane, who=who.name).commit))

    @app.post("/deploy/abort", responses=_REFUSALS)
    def abort(body: AbortIn, who: Operator) -> ProposalView:
        """Drop the pending deploy; the release stays."""
        return proposal_view(on_plane(lambda: Deployment(plane, who=who.name).abort(body.reason)))

    @app.post("/deploy/rollback", responses=_REFUSALS)
    def rollback(body: RollbackIn, who: Operator) -> RollbackView:
        """Propose the release committed before the current one (from this member's
        journal of committed releases); then restart, readiness and commit as any deploy."""
        current = plane.release()
        gateway.journal.flush(5.0)  # the releases journaled so far, durable, then read
        before = previous_release(gateway.journal, current.epoch)
        if before is None:
            raise ApiError(409, reject(RejectCode.DEPLOY_REFUSED,
                f"rollback refused, nothing changed: {gateway.instance_id}'s journal holds "
                f"no release committed before epoch {current.epoch} (it records those it saw "
                "committed); propose the build by name", "a release committed before",
                f"epoch {current.epoch}"))  # fmt: skip
        deploy = Deployment(plane, who=who.name)
        members = expected(body.members, current.members)
        made = on_plane(lambda: deploy.propose(before.build_digest, before.flag_digest, members))
        to = ReleaseView(build_digest=before.build_digest, flag_digest=before.flag_digest,
                         epoch=before.epoch, members=list(before.members))  # fmt: skip
        return RollbackView(to=to, deploy=view(deploy, made))


MAX_SOURCE_FILES = 5_000
MAX_SOURCE_ENTRIES = 50_000


def _exists(path: str) -> bool:
    """Whether `path` exists; a name the OS cannot even look up (a component over 255
    bytes: ENAMETOOLONG, a NUL) does not, where `Path.exists` raised and answered 500."""
    try:
        return Path(path).exists()
    except (OSError, ValueError):
        return False


def _oversized(source: list[str]) -> str | None:
    """The first `source` path at which the tree to lint passes the bounds, else None.

    The gate parses every Python file under every path, twice (lint, manifest), in the
    request's thread: `source: ["", "", ...]` (each "" is the server's working directory)
    or `["/"]` held an admin worker for minutes and grew serve by a GB. Walked as the
    linter walks (hidden directories and `__pycache__` skipped), stopped at the bound."""
    files = entries = 0
    for raw in source:
        if Path(raw).is_file():
            files += 1
        for _, dirs, names in os.walk(raw):
            dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__pycache__"]
            entries += len(dirs) + len(names)
            files += sum(1 for n in names if n.endswith(".py"))
            if files > MAX_SOURCE_FILES or entries > MAX_SOURCE_ENTRIES:
                return raw
        if files > MAX_SOURCE_FILES:
            return raw
    return None


def _release_gate(
    body: ProposeIn, registry: FlagRegistry, live: Mapping[str, FlagManifest]
) -> tuple[str, ProposalCheck]:
    """The flag digest to propose and the flag release gate, for `body.source` on this
    host judged against the plane's registry (a snapshot) and the live members' manifests
    (a flag they still read is not unread)."""
    missing = [s for s in body.source if not _exists(s)]
    if missing:
        raise ApiError(422, reject(RejectCode.SCHEMA_INVALID,
                                   f"source: no such path on this member's host: {missing[0]}",
                                   "existing paths", missing[0]))  # fmt: skip
    too_big = _oversized(body.source)
    if too_big is not None:
        raise ApiError(422, reject(RejectCode.SCHEMA_INVALID,
                                   f"source: more than {MAX_SOURCE_FILES:,} Python files or "
                                   f"{MAX_SOURCE_ENTRIES:,} entries under {too_big}",
                                   f"at most {MAX_SOURCE_FILES:,} files", too_big))  # fmt: skip
    digest = body.flag_digest
    if not digest:
        try:
            digest = manifest_from_source(body.source, body.build_digest, registry).digest()
        except FlagError:
            digest = ""  # the gate says why
    gate = flag_preflight(body.source, registry, body.build_digest,
                          registry_label="the plane's flag registry",
                          live_manifests=live)  # fmt: skip
    return digest, gate
