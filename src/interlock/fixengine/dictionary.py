"""A small FIX 4.4 data dictionary for the venue sessions: only what they exchange.

QuickFIX refuses a repeated tag in a message it has no dictionary for ("Tag appears more
than once"), so market data (V, W, X: repeating groups) needs one that names the groups.
`quickfix-py` ships no FIX44.xml, and the venue session needs a few dozen fields, so we
write the subset ourselves: the admin messages, the order messages the venue adapter and
the fake exchange send, reconciliation's status requests (H, AF), and market data. No
field is required here and no value list is checked: decoding stays ours (codec.py,
marketdata.py); the dictionary only frames groups.
"""

from __future__ import annotations

from pathlib import Path

_COUNTERS = {146: "NoRelatedSym", 267: "NoMDEntryTypes", 268: "NoMDEntries"}
_HEADER = (8, 9, 35, 49, 56, 34, 52, 43, 97, 122, 115, 128, 50, 57)
_TRAILER = (10,)
_ORDER = (11, 1, 55, 54, 38, 40, 44, 59, 60, 21, 41, 37, 58)
_MESSAGES: dict[str, tuple[str, tuple[int, ...], dict[int, tuple[int, ...]]]] = {
    "0": ("admin", (112,), {}),
    "1": ("admin", (112,), {}),
    "2": ("admin", (7, 16), {}),
    "3": ("admin", (45, 371, 372, 373, 58), {}),
    "4": ("admin", (123, 36), {}),
    "5": ("admin", (58,), {}),
    "A": ("admin", (98, 108, 141, 553, 554, 789), {}),
    "D": ("app", _ORDER, {}),
    "F": ("app", _ORDER, {}),
    "G": ("app", _ORDER, {}),
    "8": ("app", (*_ORDER, 17, 150, 39, 14, 6, 151, 32, 31, 103, 790, 584, 911, 912), {}),
    "H": ("app", (11, 37, 790, 1, 55, 54), {}),  # OrderStatusRequest: reconciliation
    "AF": ("app", (584, 585, 1, 55), {}),  # OrderMassStatusRequest: reconciliation
    "9": ("app", (11, 41, 37, 39, 434, 102, 58), {}),
    "j": ("app", (45, 372, 371, 380, 58), {}),
    "V": ("app", (262, 263, 264, 265), {267: (269,), 146: (55,)}),
    "W": ("app", (262, 55), {268: (269, 270, 271, 272, 273)}),
    "X": ("app", (262,), {268: (279, 269, 55, 270, 271, 272, 273)}),
    "Y": ("app", (262, 281, 58), {}),
}


def _name(tag: int) -> str:
    return _COUNTERS.get(tag, f"F{tag}")


def _fields(tags: tuple[int, ...]) -> str:
    return "".join(f'<field name="{_name(t)}" required="N"/>' for t in tags)


def write_dictionary(path: Path) -> Path:
    """Write the dictionary to `path`; return it."""
    tags: set[int] = {*_HEADER, *_TRAILER}
    messages: list[str] = []
    for msg_type, (cat, fields, groups) in _MESSAGES.items():
        tags.update(fields)
        body = _fields(fields)
        for counter, members in groups.items():
            tags.update((counter, *members))
            body += f'<group name="{_name(counter)}" required="N">{_fields(members)}</group>'
        messages.append(f'<message name="M{msg_type}" msgtype="{msg_type}" msgcat="{cat}">'
                        f"{body}</message>")  # fmt: skip
    declared = "".join(
        f'<field number="{t}" name="{_name(t)}" '
        f'type="{"NUMINGROUP" if t in _COUNTERS else "STRING"}"/>'
        for t in sorted(tags)
    )
    path.write_text(
        '<fix type="FIX" major="4" minor="4" servicepack="0">'
        f"<header>{_fields(_HEADER)}</header><trailer>{_fields(_TRAILER)}</trailer>"
        f"<messages>{''.join(messages)}</messages><components/>"
        f"<fields>{declared}</fields></fix>\n"
    )
    return path
