"""Faults, as opposed to rejections. A rejected order is a value, never an exception.

    InterlockError                 every fault Interlock raises, with a stable `code`
    ├── ConfigError                a config or limits file is invalid (names every bad key)
    ├── JournalError               the journal cannot be written or read
    │   └── RecoveryError          the journal cannot be folded back into state
    ├── ControlPlaneError          the control plane refused or is unreachable
    └── VenueError                 a venue adapter failed to send

On the order path a fault fails closed: the order is not routed.
"""

from __future__ import annotations


class InterlockError(Exception):
    code = "INTERLOCK_ERROR"


class ConfigError(InterlockError):
    code = "CONFIG_INVALID"


class JournalError(InterlockError):
    code = "JOURNAL_ERROR"


class RecoveryError(JournalError):
    code = "JOURNAL_RECOVERY_FAILED"


class ControlPlaneError(InterlockError):
    code = "CONTROL_PLANE_ERROR"


class VenueError(InterlockError):
    code = "VENUE_ERROR"
