"""Where the etcd control plane keeps each record, and how each is written.

One prefix per fleet (`/interlock/<fleet>/`); under it, one key per record:

    release                     the Release (with who committed it)
    proposal                    the pending Proposal
    aborted                     the last aborted proposal, who and why (announces the abort)
    members/<id>                the member's Attestation, under its lease
    beats/<id>                  its last renewal, under its lease (echoed by its own watch)
    members_rev                 rewritten by every join: a flag enable compares it
    halts/<scope>/<target>      a HaltRecord
    acks/<scope>/<target>/<id>  a member's confirmation of that record
    lifts/<scope>/<target>      who lifted the halt, and when (announces the lift)
    budgets/<budget>            the budget's limit and every member's slice
    flags/<n>                   the n-th flag registry event (the registry is their fold)
    flaghead                    how many flag events there are (every change compares it)

Values are JSON (msgspec: the records' own dataclasses and structs). Ids and targets are
percent-encoded into keys, so an account or symbol with a '/' in it stays one segment.
A value that does not decode raises `ControlPlaneError` naming its key.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, TypeVar
from urllib.parse import quote, unquote

import msgspec

from interlock.control.plane import Attestation, HaltRecord, Proposal, Release
from interlock.domain.enums import HaltScope
from interlock.domain.flag_events import FlagEvent
from interlock.errors import ControlPlaneError, FlagError

T = TypeVar("T")


def _enc_hook(obj: object) -> object:
    if isinstance(obj, MappingProxyType):
        return dict(obj)
    raise NotImplementedError(f"cannot encode {type(obj).__name__}")


_encoder = msgspec.json.Encoder(enc_hook=_enc_hook)


def encode(record: object) -> str:
    return _encoder.encode(record).decode()


def decode(key: str, text: str, kind: Any) -> Any:
    try:
        return msgspec.json.decode(text, type=kind)
    except (msgspec.DecodeError, msgspec.ValidationError, FlagError, ValueError) as exc:
        raise ControlPlaneError(f"etcd key {key}: not a {kind}: {exc}") from exc


# -- the records only etcd has ------------------------------------------------------------


class StoredRelease(msgspec.Struct, frozen=True):
    release: Release
    who: str = ""


class StoredMember(msgspec.Struct, frozen=True):
    attestation: Attestation
    ttl_ns: int
    deadline_ns: int


class Beat(msgspec.Struct, frozen=True):
    ts: int
    ttl_ns: int


class Ack(msgspec.Struct, frozen=True):
    ts: int
    pending_cancel: int = 0


class Lift(msgspec.Struct, frozen=True):
    who: str
    ts: int


class Aborted(msgspec.Struct, frozen=True):
    proposal: Proposal
    who: str
    reason: str


class StoredBudget(msgspec.Struct, frozen=True):
    limit: int
    slices: dict[str, int]


FlagRecord = FlagEvent


# -- keys --------------------------------------------------------------------------------


def _seg(text: str) -> str:
    return quote(text, safe="")


@dataclass(frozen=True, slots=True)
class Keys:
    """Every key of one fleet, under `root` (ends with '/')."""

    root: str

    @classmethod
    def for_fleet(cls, prefix: str) -> Keys:
        root = "/" + prefix.strip("/") + "/"
        if root == "//":
            raise ControlPlaneError("the etcd key prefix is empty")
        return cls(root)

    @property
    def release(self) -> str:
        return self.root + "release"

    @property
    def proposal(self) -> str:
        return self.root + "proposal"

    @property
    def aborted(self) -> str:
        return self.root + "aborted"

    @property
    def members_rev(self) -> str:
        return self.root + "members_rev"

    @property
    def flaghead(self) -> str:
        return self.root + "flaghead"

    @property
    def members(self) -> str:
        return self.root + "members/"

    @property
    def beats(self) -> str:
        return self.root + "beats/"

    @property
    def halts(self) -> str:
        return self.root + "halts/"

    @property
    def acks(self) -> str:
        return self.root + "acks/"

    @property
    def lifts(self) -> str:
        return self.root + "lifts/"

    @property
    def budgets(self) -> str:
        return self.root + "budgets/"

    @property
    def flags(self) -> str:
        return self.root + "flags/"

    def member(self, instance_id: str) -> str:
        return self.members + _seg(instance_id)

    def beat(self, instance_id: str) -> str:
        return self.beats + _seg(instance_id)

    def halt(self, scope: HaltScope, target: str) -> str:
        return f"{self.halts}{scope.value}/{_seg(target)}"

    def acks_of(self, scope: HaltScope, target: str) -> str:
        return f"{self.acks}{scope.value}/{_seg(target)}/"

    def ack(self, scope: HaltScope, target: str, instance_id: str) -> str:
        return self.acks_of(scope, target) + _seg(instance_id)

    def lift(self, scope: HaltScope, target: str) -> str:
        return f"{self.lifts}{scope.value}/{_seg(target)}"

    def budget(self, name: str) -> str:
        return self.budgets + _seg(name)

    def flag(self, index: int) -> str:
        return f"{self.flags}{index:010d}"

    # -- reading keys back ---------------------------------------------------------------

    def id_in(self, key: str, folder: str) -> str:
        """The id a key under `folder` (e.g. `self.members`) names."""
        return unquote(key[len(folder) :])

    def halt_key_of(self, key: str, folder: str) -> tuple[HaltScope, str, str]:
        """(scope, target, rest) of a key under halts/, acks/ or lifts/."""
        scope, _, rest = key[len(folder) :].partition("/")
        target, _, tail = rest.partition("/")
        try:
            return HaltScope(scope), unquote(target), unquote(tail)
        except ValueError as exc:
            raise ControlPlaneError(f"etcd key {key}: unknown halt scope {scope!r}") from exc


def halt_of(key: str, text: str) -> HaltRecord:
    record: HaltRecord = decode(key, text, HaltRecord)
    return record
