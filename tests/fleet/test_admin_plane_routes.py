"""The admin routes that act on the plane, over HTTP: the stable codes and statuses of
their refusals, and that a refusal carries the plane's own reason."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from admin_rig import OPERATOR, READER, Rig, running_fleet


@pytest.fixture
def rig() -> Iterator[Rig]:
    yield from running_fleet()


def _post(rig: Rig, path: str, token: str, body: object = None) -> httpx.Response:
    return httpx.post(rig.url + path, json=body or {}, timeout=10,
                      headers={"Authorization": f"Bearer {token}"})  # fmt: skip


def test_a_reader_is_403_UNAUTHENTICATED_on_every_change_and_nothing_changes(rig: Rig) -> None:
    for path, body in (("/deploy/propose", {"build_digest": "b2"}), ("/deploy/commit", None),
                       ("/deploy/abort", None), ("/deploy/rollback", None),
                       ("/halt", {"reason": "x"}), ("/resume", None),
                       ("/flags", {"name": "x", "flag_id": 9, "meaning": "m", "owner": "o"}),
                       ("/flags/x/enable", None)):  # fmt: skip
        r = _post(rig, path, READER, body)
        assert (r.status_code, r.json()["code"]) == (403, "UNAUTHENTICATED"), path
        assert r.json()["message"] == "UNAUTHENTICATED: role reader may not operate"
    assert rig.fleet.plane.proposal() is None and rig.fleet.plane.halts() == []


def test_a_refused_commit_is_409_DEPLOY_REFUSED_naming_the_members_at_fault(rig: Rig) -> None:
    assert _post(rig, "/deploy/propose", OPERATOR, {"build_digest": "b2"}).status_code == 200
    rig.restart(["gw-1"], "b2")
    r = _post(rig, "/deploy/commit", OPERATOR)
    assert (r.status_code, r.json()["code"]) == (409, "DEPLOY_REFUSED")
    assert r.json()["attempted"] == "gw-2, gw-3"
    assert r.json()["message"].startswith("DEPLOY_REFUSED: commit refused, nothing changed: ")


def test_propose_with_a_source_path_missing_on_the_host_is_422_SCHEMA_INVALID(rig: Rig) -> None:
    body = {"build_digest": "b2", "source": ["/no/such/src"]}
    r = _post(rig, "/deploy/propose", OPERATOR, body)
    assert (r.status_code, r.json()["code"]) == (422, "SCHEMA_INVALID")
    assert rig.fleet.plane.proposal() is None


def test_readiness_without_a_pending_deploy_is_409_and_unknown_flag_is_FLAG_REFUSED(
    rig: Rig,
) -> None:
    r = httpx.get(rig.url + "/deploy/readiness", headers={"Authorization": f"Bearer {READER}"})
    assert (r.status_code, r.json()["code"]) == (409, "DEPLOY_REFUSED")
    r = _post(rig, "/flags/nope/enable", OPERATOR)
    assert (r.status_code, r.json()["code"]) == (409, "FLAG_REFUSED")
