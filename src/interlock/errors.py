"""Faults, as opposed to rejections. A rejected order is a value, never an exception.

    InterlockError                 every fault Interlock raises, with a stable `code`
    ├── ConfigError                a config or limits file is invalid (names every bad key)
    │   └── TlsConfigError         a listener's TLS files are missing, unreadable or mismatched
    ├── JournalError               the journal cannot be written or read
    │   ├── RecoveryError          the journal cannot be folded back into state
    │   └── UnencodableEvent       an event the codec cannot write: no retry can help
    ├── ControlPlaneError          the control plane refused or is unreachable
    │   └── DeployError            a deploy step was refused; nothing changed
    ├── FlagError                  a flag change, manifest or registry file was refused
    └── VenueError                 a venue adapter failed to send

On the order path a fault fails closed: the order is not routed. Each `code` is a member
of the one enum (domain/reject.py, FAULT_CODES), so the CLI's `CODE: message` is too.
"""

from __future__ import annotations

from interlock.domain.reject import RejectCode


class InterlockError(Exception):
    code: RejectCode = RejectCode.INTERLOCK_ERROR


class ConfigError(InterlockError):
    code = RejectCode.CONFIG_INVALID


class TlsConfigError(ConfigError):
    """A listener's certificate, key or CA file cannot be used; raised at start-up, before
    any port opens."""

    code = RejectCode.TLS_INVALID


class JournalError(InterlockError):
    code = RejectCode.JOURNAL_ERROR


class RecoveryError(JournalError):
    code = RejectCode.JOURNAL_RECOVERY_FAILED


class UnencodableEvent(JournalError):
    """The journal's writer fails closed on it for good (a store fault is retried)."""


class ControlPlaneError(InterlockError):
    code = RejectCode.CONTROL_PLANE_ERROR


class InstanceIdInUse(ControlPlaneError):
    """Another live member holds this instance id (a second process configured with the
    same `instance_id`, or this one's previous life whose lease has not run out yet)."""


class FlagError(InterlockError):
    code = RejectCode.FLAG_REFUSED


class DeployError(ControlPlaneError):
    """A deploy step (`propose`, `commit`, `abort`) refused: one line per problem, and the
    members at fault (missing, or attesting another build or flags). Nothing changed."""

    code = RejectCode.DEPLOY_REFUSED

    def __init__(self, step: str, problems: list[str], members: list[str] | None = None) -> None:
        self.step = step
        self.problems = tuple(problems)
        self.members = tuple(members or ())
        super().__init__(f"{step} refused, nothing changed: " + "; ".join(problems))


class VenueError(InterlockError):
    code = RejectCode.VENUE_ERROR
