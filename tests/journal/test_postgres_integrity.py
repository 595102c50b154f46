"""A damaged PostgreSQL journal is refused naming the instance and the seq, never folded.

The real server of the `postgres_dsn` fixture. Damage is done the way it happens outside
the journal: a superuser's session with triggers off (`session_replication_role =
replica`, which skips the append-only trigger for that session only) UPDATEs a row.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from interlock.domain.events import Filled
from interlock.errors import JournalError, RecoveryError
from interlock.journal.postgres import TABLE, PostgresJournal
from interlock.sim.harness import build


def fill(i: int) -> Filled:
    return Filled(ts=1_000 + i, order_id=i, qty=5, price=100, exec_id=f"exec-{i}")


@pytest.fixture
def name(postgres_dsn: str) -> str:
    """An instance holding 10 committed fills."""
    name = f"gw-{uuid.uuid4().hex[:12]}"
    journal = PostgresJournal(postgres_dsn, name)
    for i in range(1, 11):
        journal.append(fill(i))
    journal.close()
    return name


def tamper(dsn: str, name: str, *statements: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")  # triggers off, this session
        for statement in statements:
            conn.execute(statement.format(table=TABLE), (name,))


def read_all(dsn: str, name: str) -> list[tuple[int, Filled]]:
    journal = PostgresJournal(dsn, name)
    try:
        return list(journal.read())  # type: ignore[arg-type]
    finally:
        journal.close()


def test_an_undamaged_instance_reads_back_whole(postgres_dsn: str, name: str) -> None:
    assert read_all(postgres_dsn, name) == [(i, fill(i)) for i in range(1, 11)]


def test_a_flipped_bit_in_a_payload_is_refused_naming_the_instance_and_seq(
    postgres_dsn: str, name: str
) -> None:
    tamper(  # one bit of seq 3's payload: its last byte, a digit of its exec id
        postgres_dsn,
        name,
        "UPDATE {table} SET payload = set_byte(payload, length(payload) - 1, "
        "get_byte(payload, length(payload) - 1) # 1) WHERE instance_id = %s AND seq = 3",
    )

    with pytest.raises(RecoveryError, match=rf"instance '{name}'.*record seq 3 fails its checksum"):
        read_all(postgres_dsn, name)


@pytest.mark.parametrize(
    ("statements", "match"),
    [
        (
            (
                "UPDATE {table} SET seq = seq + 1000 WHERE instance_id = %s AND seq IN (4, 5)",
                "UPDATE {table} SET seq = 1009 - seq WHERE instance_id = %s AND seq > 1000",
            ),
            "record seq 4 fails its checksum",
        ),
        (
            ("UPDATE {table} SET seq = 60 WHERE instance_id = %s AND seq = 6",),
            "record seq 7 where seq 6 was expected",
        ),
        (("UPDATE {table} SET ts = ts + 1 WHERE instance_id = %s AND seq = 8",), "seq 8 fails"),
        (("UPDATE {table} SET crc = crc # 1 WHERE instance_id = %s AND seq = 9",), "seq 9 fails"),
    ],
    ids=["swapped", "moved", "ts-changed", "crc-changed"],
)
def test_rows_changed_or_out_of_sequence_are_refused_naming_the_seq(
    postgres_dsn: str, name: str, statements: tuple[str, ...], match: str
) -> None:
    tamper(postgres_dsn, name, *statements)

    with pytest.raises(RecoveryError, match=match):
        read_all(postgres_dsn, name)


def test_a_gateway_refuses_to_start_on_a_damaged_instance(postgres_dsn: str) -> None:
    name = f"gw-{uuid.uuid4().hex[:12]}"
    h = build(journal=PostgresJournal(postgres_dsn, name))
    assert h.submit(quantity=100).accepted
    h.journal.close()
    tamper(postgres_dsn, name, "UPDATE {table} SET payload = set_byte(payload, 3, "
           "get_byte(payload, 3) # 4) WHERE instance_id = %s AND kind = 'decided'")  # fmt: skip

    journal = PostgresJournal(postgres_dsn, name)
    try:
        with pytest.raises(RecoveryError, match=rf"instance '{name}'.*record seq \d+ fails"):
            build(journal=journal)
    finally:
        journal.close()


@pytest.fixture
def fresh_database(postgres_dsn: str) -> Iterator[str]:
    """A database of its own on the shared server: a table made here touches no other test."""
    db = f"ilk_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db)))
    yield psycopg.conninfo.make_conninfo(postgres_dsn, dbname=db)
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(db)))


def test_a_table_from_before_the_checksums_is_refused_with_a_clear_message(
    fresh_database: str,
) -> None:
    with psycopg.connect(fresh_database, autocommit=True) as conn:  # the pre-release schema
        conn.execute(
            f"CREATE TABLE {TABLE} (instance_id text NOT NULL, seq bigint NOT NULL, kind text "
            "NOT NULL, payload bytea NOT NULL, ts bigint NOT NULL, PRIMARY KEY (instance_id, seq))"
        )

    with pytest.raises(JournalError, match=f"table {TABLE} has no crc column.*schema 2"):
        PostgresJournal(fresh_database, "gw-old")
