"""The plane's refusals as admin answers: its own reason, under a stable code.

A deploy step refused (`DeployError`: one line per problem, the members at fault) and a
flag change refused (`FlagError`: the registry's text) are 409; a control plane that
cannot answer (`ControlPlaneError`) is 503. The body's `message` is the plane's text after
the code, so the CLI prints exactly what the plane said.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from interlock.api.bearer import ApiError
from interlock.domain.reject import reject
from interlock.errors import ControlPlaneError, DeployError, FlagError

T = TypeVar("T")


def refused(exc: DeployError | FlagError | ControlPlaneError) -> ApiError:
    if isinstance(exc, DeployError):
        return ApiError(409, reject(exc.code, str(exc), f"{exc.step}: every check passes",
                                    ", ".join(exc.members)))  # fmt: skip
    if isinstance(exc, FlagError):
        return ApiError(409, reject(exc.code, str(exc)))
    return ApiError(503, reject(exc.code, str(exc)))


def on_plane(step: Callable[[], T]) -> T:
    """Run `step`; the plane's refusal becomes its ApiError."""
    try:
        return step()
    except (DeployError, FlagError, ControlPlaneError) as exc:
        raise refused(exc) from None
