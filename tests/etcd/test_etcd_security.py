"""etcd over TLS, mutual TLS and user/password, against real 3-node clusters (issue 11).

The certificates come from a throwaway CA (`sim/tls.py`, openssl); the clusters serve
clients over HTTPS (peers stay plain HTTP on loopback). On the auth cluster `root` and two
users exist: `interlock`, whose role grants readwrite on `/fleet/` only, and tokens live
`--auth-token-ttl 1` second, so they expire while a test runs.

etcd's simple tokens expire per node, one TTL after their last use there, and a check of a
token renews it; so a test never probes the plane's own token. It takes a token of its own
after the plane's last request and polls it, on the node in question, more slowly than the
TTL: once etcd refuses that token there, it refuses the plane's, which is older and was
last used no later.
"""

from __future__ import annotations

import ssl
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest

from conftest import FleetFactory
from interlock.control.etcd_client import EtcdAuth, b64
from interlock.control.etcd_plane import EtcdControlPlane
from interlock.control.plane import (
    Attestation,
    ControlEvent,
    HaltPut,
    HaltRecord,
    Proposal,
    Release,
)
from interlock.domain.enums import HaltScope
from interlock.errors import ControlPlaneError
from interlock.sim.etcd_cluster import EtcdCluster
from interlock.sim.serve_fleet import wait_until
from interlock.sim.tls import TlsFiles, make_tls

PASSWORD = "s3cret-for-tests"
TTL = ["--auth-token-ttl", "1"]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> tuple[TlsFiles, TlsFiles]:
    """The cluster's CA and certificates, and an unrelated CA (the wrong one)."""
    base = tmp_path_factory.mktemp("pki")
    return make_tls(base / "ca"), make_tls(base / "wrong")


def secure(cluster: EtcdCluster) -> EtcdCluster:
    """Users and roles as docs/control-plane.md sets them up, then auth enabled."""
    for args in (
        ("user", "add", "root:root-pw"),
        ("role", "add", "interlock-fleet"),
        ("role", "grant-permission", "interlock-fleet", "--prefix=true", "readwrite", "/fleet/"),
        ("user", "add", f"interlock:{PASSWORD}"),
        ("user", "grant-role", "interlock", "interlock-fleet"),
        ("auth", "enable"),
    ):
        cluster.etcdctl(*args)
    return cluster


@pytest.fixture(scope="module")
def auth_cluster(pki: tuple[TlsFiles, TlsFiles]) -> Iterator[EtcdCluster]:
    """TLS for clients, auth enabled, one-second tokens; shared by this module's tests."""
    with EtcdCluster(3, tls=pki[0], extra_args=TTL) as cluster:
        yield secure(cluster)


def url(cluster: EtcdCluster) -> str:
    return f"etcd://{cluster.endpoints}"


def fleet_prefix() -> str:
    return f"fleet/{uuid.uuid4().hex[:12]}"


def user(tls: TlsFiles, password: str = PASSWORD) -> EtcdAuth:
    return EtcdAuth("interlock", password, str(tls.ca_cert))


def attest(instance_id: str, build: str = "b1", flags: str = "f1") -> Attestation:
    return Attestation(instance_id, build, flags, "cfg", "host", 1, None)


def halt(target: str) -> HaltRecord:
    return HaltRecord(HaltScope.SYMBOL, target, "test", "ops", 1)


class Heard:
    """What a plane's watchers were told."""

    def __init__(self, plane: EtcdControlPlane) -> None:
        self.events: list[ControlEvent] = []
        plane.watch(self.events.append)

    def halt_put(self, target: str, timeout_s: float = 10.0) -> None:
        def heard() -> bool:
            return any(isinstance(e, HaltPut) and e.halt.target == target for e in self.events)

        wait_until(heard, timeout_s, f"the watch hears the halt of {target}")


def token_refused(cluster: EtcdCluster, node: int, token: str) -> bool:
    context = ssl.create_default_context(cafile=str(cluster.tls.ca_cert)) if cluster.tls else None
    r = httpx.post(f"{cluster.urls[node]}/v3/kv/range", json={"key": b64("/fleet/")},
                   headers={"Authorization": token}, verify=context or False, timeout=2.0,
                   trust_env=False)  # fmt: skip
    return r.status_code == 401 and "invalid auth token" in r.text


def wait_tokens_expired(cluster: EtcdCluster, node: int, timeout_s: float = 15.0) -> None:
    """Until etcd on `node` refuses every token last used there before this call."""
    context = ssl.create_default_context(cafile=str(cluster.tls.ca_cert)) if cluster.tls else None
    r = httpx.post(f"{cluster.urls[node]}/v3/auth/authenticate", verify=context or False,
                   json={"name": "interlock", "password": PASSWORD}, trust_env=False)  # fmt: skip
    probe = str(r.json()["token"])
    # Polled every 1.5 s (> the 1 s TTL): a check of a live token renews it.
    wait_until(lambda: token_refused(cluster, node, probe), timeout_s,
               f"tokens expire on node {node}", poll_s=1.5)  # fmt: skip


# -- TLS --------------------------------------------------------------------------------


def test_plane_over_tls_with_the_ca_registers_halts_and_hears_its_watch(
    auth_cluster: EtcdCluster, pki: tuple[TlsFiles, TlsFiles]
) -> None:
    plane = EtcdControlPlane(url(auth_cluster), prefix=fleet_prefix(), auth=user(pki[0]))
    try:
        heard = Heard(plane)
        plane.register(attest("gw-1"), 5_000_000_000)
        plane.put_halt(halt("AAPL"))
        heard.halt_put("AAPL")
        assert [m.attestation.instance_id for m in plane.members()] == ["gw-1"]
    finally:
        plane.close()


def test_the_configured_ca_wins_over_REQUESTS_CA_BUNDLE(
    auth_cluster: EtcdCluster, pki: tuple[TlsFiles, TlsFiles], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(pki[1].ca_cert))  # the wrong CA
    plane = EtcdControlPlane(url(auth_cluster), prefix=fleet_prefix(), auth=user(pki[0]))
    try:
        plane.put_halt(halt("MSFT"))
        assert [h.target for h in plane.halts()] == ["MSFT"]
    finally:
        plane.close()


def test_a_wrong_ca_fails_with_one_line_naming_each_endpoint_and_the_tls_verdict(
    auth_cluster: EtcdCluster, pki: tuple[TlsFiles, TlsFiles]
) -> None:
    with pytest.raises(ControlPlaneError) as caught:
        EtcdControlPlane(url(auth_cluster), prefix=fleet_prefix(), auth=user(pki[1]))
    message = str(caught.value)
    assert "\n" not in message and len(message) < 800, message
    for endpoint in auth_cluster.endpoints.split(","):
        assert f"{endpoint}: TLS handshake failed: certificate verify failed" in message, message


def test_mutual_tls_with_cert_and_key_works_and_without_them_is_refused(
    etcd_cluster_factory: Callable[..., EtcdCluster], pki: tuple[TlsFiles, TlsFiles]
) -> None:
    tls = pki[0]
    cluster = etcd_cluster_factory(3, tls=tls, client_cert_auth=True)
    mutual = EtcdAuth(ca_cert=str(tls.ca_cert), cert_cert=str(tls.client_cert),
                      cert_key=str(tls.client_key))  # fmt: skip
    plane = EtcdControlPlane(url(cluster), prefix=fleet_prefix(), auth=mutual)
    try:
        heard = Heard(plane)
        plane.register(attest("gw-1"), 5_000_000_000)
        plane.put_halt(halt("IBM"))
        heard.halt_put("IBM")
    finally:
        plane.close()
    with pytest.raises(ControlPlaneError) as caught:
        only_ca = EtcdAuth(ca_cert=str(tls.ca_cert))
        EtcdControlPlane(url(cluster), prefix=fleet_prefix(), auth=only_ca)
    message = str(caught.value)
    assert "\n" not in message and len(message) < 800, message
    for endpoint in cluster.endpoints.split(","):
        assert f"{endpoint}: TLS handshake failed: " in message, message
    assert message.count("(the server may require a client certificate: cert and key)") == 3


# -- user and password ------------------------------------------------------------------


def test_with_user_and_password_register_halt_watch_and_a_deploy_commit_work(
    auth_cluster: EtcdCluster, pki: tuple[TlsFiles, TlsFiles]
) -> None:
    plane = EtcdControlPlane(url(auth_cluster), prefix=fleet_prefix(), auth=user(pki[0]))
    try:
        heard = Heard(plane)
        plane.register(attest("gw-1"), 5_000_000_000)
        plane.put_halt(halt("AAPL"))
        heard.halt_put("AAPL")
        base = plane.release().epoch
        assert plane.put_proposal(Proposal("b2", "f2", ("gw-1",), base, "ops", 1,
                                           config_digest="cfg"))  # fmt: skip
        plane.register(attest("gw-1", "b2", "f2"), 5_000_000_000)
        result = plane.commit_proposal("ops")
        assert result.committed == Release("b2", "f2", base + 1, ("gw-1",), config_digest="cfg")
        wait_until(lambda: plane.release() == result.committed, 5, "the release moved")
    finally:
        plane.close()


def test_a_wrong_password_is_refused_with_one_line_naming_user_endpoint_and_cause(
    auth_cluster: EtcdCluster, pki: tuple[TlsFiles, TlsFiles]
) -> None:
    with pytest.raises(ControlPlaneError) as caught:
        EtcdControlPlane(url(auth_cluster), prefix=fleet_prefix(), auth=user(pki[0], "wrong"))
    message = str(caught.value)
    first = auth_cluster.endpoints.split(",")[0]
    assert message == (
        f"etcd at {first} refused to authenticate user 'interlock': "
        "authentication failed, invalid user ID or password"
    )


def test_a_prefix_outside_the_users_role_is_refused_as_permission_denied(
    auth_cluster: EtcdCluster, pki: tuple[TlsFiles, TlsFiles]
) -> None:
    with pytest.raises(ControlPlaneError) as caught:
        EtcdControlPlane(url(auth_cluster), prefix="elsewhere/fleet", auth=user(pki[0]))
    message = str(caught.value)
    assert "for user 'interlock': permission denied" in message, message
    assert "must grant readwrite on the fleet prefix" in message and "\n" not in message


def test_calls_keep_working_after_the_token_expires(
    auth_cluster: EtcdCluster, pki: tuple[TlsFiles, TlsFiles]
) -> None:
    plane = EtcdControlPlane(url(auth_cluster), prefix=fleet_prefix(), auth=user(pki[0]))
    try:
        plane.register(attest("gw-1"), 30_000_000_000)
        wait_tokens_expired(auth_cluster, 0)  # node 0: where the plane's requests go
        plane.put_halt(halt("AAPL"))  # refused "invalid auth token", then re-authenticated
        assert [h.target for h in plane.halts()] == ["AAPL"]
        plane.renew("gw-1")
    finally:
        plane.close()


def test_the_watch_keeps_working_when_it_restarts_on_a_node_where_the_token_expired(
    etcd_cluster_factory: Callable[..., EtcdCluster], pki: tuple[TlsFiles, TlsFiles]
) -> None:
    cluster = secure(etcd_cluster_factory(3, tls=pki[0], extra_args=TTL))
    prefix = fleet_prefix()
    plane = EtcdControlPlane(url(cluster), prefix=prefix, auth=user(pki[0]))
    try:
        heard = Heard(plane)
        wait_tokens_expired(cluster, 1)  # the plane's token was never used on node 1
        cluster.kill(0)  # the watch and the calls move to node 1, the token refused there
        survivors = f"etcd://{cluster.endpoints.split(',', 1)[1]}"

        def written() -> bool:  # once the two elect a leader (node 0 may have led)
            try:
                writer = EtcdControlPlane(survivors, prefix=prefix, auth=user(pki[0]))
            except ControlPlaneError:
                return False
            try:
                writer.put_halt(halt("TSLA"))
                return True
            except ControlPlaneError:
                return False
            finally:
                writer.close()

        wait_until(written, 15, "a halt written through the surviving nodes", poll_s=0.2)
        heard.halt_put("TSLA", timeout_s=15)
        assert [h.target for h in plane.halts()] == ["TSLA"]
    finally:
        plane.close()


# -- interlock serve --------------------------------------------------------------------


def test_serve_with_user_password_env_and_ca_cert_joins_and_routes(
    auth_cluster: EtcdCluster,
    pki: tuple[TlsFiles, TlsFiles],
    serve_fleet: FleetFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INTERLOCK_TEST_ETCD_PASSWORD", PASSWORD)  # the child inherits it
    section = {"user": "interlock", "password_env": "INTERLOCK_TEST_ETCD_PASSWORD",
               "ca_cert": str(pki[0].ca_cert)}  # fmt: skip
    fleet = serve_fleet(auth_cluster, prefix=fleet_prefix(), extra={"control_plane": section})
    member = fleet.start("gw-1").wait_started()
    wait_until(lambda: member.gate() == "routing", 30, "gw-1 routes")
    assert PASSWORD not in (fleet.workdir / "gw-1" / "config.toml").read_text()


def test_serve_with_password_env_unset_exits_with_a_config_error(
    auth_cluster: EtcdCluster,
    pki: tuple[TlsFiles, TlsFiles],
    serve_fleet: FleetFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("INTERLOCK_TEST_ETCD_UNSET", raising=False)
    section = {"user": "interlock", "password_env": "INTERLOCK_TEST_ETCD_UNSET",
               "ca_cert": str(pki[0].ca_cert)}  # fmt: skip
    fleet = serve_fleet(auth_cluster, prefix=fleet_prefix(), extra={"control_plane": section})
    member = fleet.start("gw-1")
    assert member.proc.wait(timeout=60) != 0
    wait_until(lambda: "INTERLOCK_TEST_ETCD_UNSET is not set" in member.log_tail(), 10,
               "the error on its output")  # fmt: skip
    assert "Traceback" not in member.log_tail(200)
    assert "control_plane.password_env" in member.log_tail()
