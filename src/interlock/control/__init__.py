"""The control plane: release, members and leases, halts and their confirmations, deploys,
budgets, the flag registry; and one instance's cached view of it (gate, halt view, budget
slices), and the flag release gate."""

from interlock.control.attestation import attest, installed_build_digest, tree_digest
from interlock.control.budgets import BudgetSpec, FleetBudgets, SliceLedger
from interlock.control.deploy import Deployment, ProposalCheck, Readiness
from interlock.control.embedded import EmbeddedControlPlane
from interlock.control.flag_preflight import flag_preflight
from interlock.control.fleet_halt import HaltReport, halt_fleet
from interlock.control.fleetflags import FleetFlags, declared, flag_refusal
from interlock.control.halt_view import HaltView
from interlock.control.instance_gate import InstanceGate, quorum_needed
from interlock.control.plane import (
    Attestation,
    CommitResult,
    ControlEvent,
    FlagChanged,
    HaltConfirmed,
    HaltPut,
    HaltRecord,
    HaltRemoved,
    Member,
    MemberJoined,
    MemberLost,
    Proposal,
    ProposalAborted,
    ProposalPut,
    Release,
    ReleaseChanged,
)
from interlock.control.ports import (
    BudgetPort,
    ControlPlane,
    FlagPort,
    HaltPort,
    MembershipPort,
    ReleasePort,
    WatchPort,
)

__all__ = [
    "Attestation",
    "BudgetPort",
    "BudgetSpec",
    "CommitResult",
    "ControlEvent",
    "ControlPlane",
    "Deployment",
    "EmbeddedControlPlane",
    "FlagChanged",
    "FlagPort",
    "FleetBudgets",
    "FleetFlags",
    "HaltConfirmed",
    "HaltPort",
    "HaltPut",
    "HaltRecord",
    "HaltRemoved",
    "HaltReport",
    "HaltView",
    "InstanceGate",
    "Member",
    "MemberJoined",
    "MemberLost",
    "MembershipPort",
    "Proposal",
    "ProposalAborted",
    "ProposalCheck",
    "ProposalPut",
    "Readiness",
    "Release",
    "ReleaseChanged",
    "ReleasePort",
    "SliceLedger",
    "WatchPort",
    "attest",
    "declared",
    "flag_preflight",
    "flag_refusal",
    "halt_fleet",
    "installed_build_digest",
    "quorum_needed",
    "tree_digest",
]
