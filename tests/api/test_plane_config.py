"""`[control_plane]`: settings that only work together are refused when the file loads,
and the password's variable is read (and judged) when serve connects."""

from __future__ import annotations

import pytest

from interlock.api.config import parse_config
from interlock.api.plane_config import ControlPlaneConfig
from interlock.errors import ConfigError
from interlock.sim.serve_fleet import packaged_config

ETCD = "etcd://127.0.0.1:2379"


def test_a_user_without_password_env_and_a_cert_without_key_are_refused_at_load_at_once() -> None:
    data = packaged_config()
    data["control_plane"] = {"url": ETCD, "user": "interlock", "cert": "/etc/c.pem"}
    with pytest.raises(ConfigError) as refused:
        parse_config(data, "t")
    text = str(refused.value)
    assert "control_plane" in text
    for problem in ("user and password_env go together", "cert and key go together",
                    "a client certificate needs ca_cert (TLS)"):  # fmt: skip
        assert problem in text, text


def test_a_password_variable_set_but_empty_is_a_config_error_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INTERLOCK_TEST_EMPTY_PW", "")
    config = ControlPlaneConfig(url=ETCD, user="interlock", password_env="INTERLOCK_TEST_EMPTY_PW")
    with pytest.raises(ConfigError, match=r"password_env: \$INTERLOCK_TEST_EMPTY_PW is empty"):
        config.auth()


def test_the_password_comes_from_its_variable_never_from_the_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INTERLOCK_TEST_PW", "from-the-environment")
    config = ControlPlaneConfig(url=ETCD, user="interlock", password_env="INTERLOCK_TEST_PW")
    assert config.auth().password == "from-the-environment"
    assert "from-the-environment" not in config.model_dump_json()
