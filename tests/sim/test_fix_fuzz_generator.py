"""The FIX fuzz generator (sim/fix_fuzz.py) is seeded, reaches every tag of D, F, G, H and
q, and breaks framing exactly when a case says it does (the driver's drop accounting
relies on it). Pure: no engine, no socket."""

from __future__ import annotations

import itertools

from interlock.sim.fix_fuzz import FuzzCase, Fuzzer, render
from interlock.sim.fix_wire import SOH, checksum


def _cases(seed: int, n: int) -> list[FuzzCase]:
    return list(itertools.islice(Fuzzer(seed, "t", "desk-7", ("o",)), n))


def _well_framed(data: bytes) -> bool:
    """BodyLength and CheckSum both right, and exactly one message in `data`."""
    head_end = data.index(SOH, data.index(b"9=")) + 1
    trailer = data.rfind(SOH + b"10=") + 1
    length = data[data.index(b"9=") + 2 : head_end - 1]
    return (
        length.isdigit()
        and int(length) == trailer - head_end
        and data[trailer + 3 : -1] == checksum(data[:trailer])
        and data.endswith(SOH)
        and data.count(b"8=FIX") == 1
    )


def test_the_same_seed_gives_the_same_cases_and_another_seed_others() -> None:
    assert _cases(7, 300) == _cases(7, 300)
    assert _cases(7, 300) != _cases(8, 300)


def test_garbage_reaches_every_tag_of_every_message_type() -> None:
    families = {c.family for c in _cases(3, 6_000)}
    for tags, msg in (("11 55 54 38 40 44 59 60", "D"), ("11 41 55 54 38", "F"),
                      ("11 41 55 54 38 40 44 59 60", "G"), ("11 55 54 790", "H"),
                      ("11 530 55", "q")):  # fmt: skip
        for tag in tags.split():
            assert f"garbage.{msg}.{tag}" in families, (msg, tag)
    assert {"frame.checksum", "frame.truncate", "seq.gap", "seq.low", "unknown_type"} <= families


def test_a_case_breaks_its_framing_exactly_when_it_says_so() -> None:
    for case in _cases(5, 3_000):
        data = render(case, b"DESK1", b"INTERLOCK", 42)
        if case.framing in ("checksum", "checksum_text", "length_short", "length_text",
                            "length_long", "truncate"):  # fmt: skip
            assert not _well_framed(data), case
        elif case.framing == "" and not any(t in (b"8", b"9", b"10") for t, _ in case.body):
            assert _well_framed(data), case  # the engine must read it: an answer is owed
