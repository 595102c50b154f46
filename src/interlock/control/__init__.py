"""The control plane: release, members and leases, halts, epoch; and the instance's view."""

from interlock.control.embedded import EmbeddedControlPlane
from interlock.control.gate import InstanceGate
from interlock.control.killswitch import HaltView
from interlock.control.plane import (
    Attestation,
    ControlPlane,
    HaltRecord,
    Member,
    Release,
)

__all__ = [
    "Attestation",
    "ControlPlane",
    "EmbeddedControlPlane",
    "HaltRecord",
    "HaltView",
    "InstanceGate",
    "Member",
    "Release",
]
