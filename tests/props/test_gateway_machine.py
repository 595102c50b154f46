"""The whole gateway, stateful (issue 15): every interface attacked, every invariant after
every step, on both journals.

The exposure machine (machine_kit.py: submit bursts, pile on, resubmit, flush, market
moves, time, cancel, halt/resume, parents, clean restart) with a scripted venue
(sim/scripted_venue.py) and a journal that can crash (gateway_machine_kit.py), plus:

- replace: the gateway's cancel/replace, as the FIX acceptor does it: the new order is
  decided on its own (the old one still reserved), and once it is acked the old one gets
  the cancel Interlock owes (`throttled=False`);
- mass cancel by account, symbol, strategy or all of the caller's, and one for an account
  the caller does not own (NOT_ACCOUNT_OWNER, nothing cancelled);
- the venue on its own: a counterparty filling part or all of a resting order, new orders
  refused in a symbol (venue rejects), cancels held in flight so a fill crosses them (a
  late fill after the cancel request) and then acted on;
- halt at every scope the product has (global, instance, account, strategy, symbol):
  when `halt` returns nothing it covers is pending or being handed over, every covered
  order still open is working with its cancel at the venue, the report counts exactly
  those as pending cancel, and no covered order reaches the venue while the halt stands
  (checked at the venue port on every send);
- deploy: a commit no instance attests is refused and changes nothing; a deploy whose
  instance restarts onto the build commits (epoch + 1) and the instance routes on; an
  instance restarted onto another build routes nothing (INSTANCE_NOT_ATTESTED);
- crash: a SIGKILL equivalent that drops every record not yet committed. The new journal
  holds exactly the durable prefix; every acked decision and every order the venue got is
  in it; the restarted gateway (reconciling with the venue that outlived it) equals the
  fold of its journal and the venue's book.

SQLite on a real file, PostgreSQL on the session's real server. Derandomized, bounded:
`HYPOTHESIS_PROFILE=thorough` runs more examples. Counts of the rules run, the outcomes
and the reject codes reached: `.venv/bin/python bench/gateway_machine_stats.py` (the same
runs; it prints them and writes bench/results/gateway_machine_stats.json).
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

from gateway_machine_kit import RecordingPostgres, RecordingSqlite
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import invariant, precondition, rule, run_state_machine_as_test
from lifecycle_rules import LifecycleRules
from machine_kit import (
    ACCOUNTS,
    CONFIG,
    KEY_OF,
    STATS,
    STRATEGIES,
    SYMBOLS,
    ExposureMachine,
    covers,
    note,
    rare,
)
from venue_rules import VenueRules

from hypothesis_profiles import examples
from interlock.domain.commands import OrderRequest
from interlock.domain.enums import HaltScope, OrderStatus, OrderType
from interlock.domain.events import VenueRejected
from interlock.domain.order import Order
from interlock.domain.reject import RejectCode, Rejection
from interlock.gateway.self_halt import LOSS_MONITOR
from interlock.sim.harness import Harness
from interlock.sim.scripted_venue import ScriptedVenue
from interlock.venue.simulated import SimulatedVenue

STRATEGY_NAMES = tuple(s for pair in STRATEGIES.values() for s in pair)


class GatewayMachine(VenueRules, LifecycleRules, ExposureMachine):
    """The exposure machine on a crashable SQLite journal, a scripted venue, more rules."""

    venue_class: type[SimulatedVenue] = ScriptedVenue
    dsn = ""  # PostgreSQL: set by the test; "" runs on SQLite

    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="gateway-machine-"))
        self.journal_id = f"gm-{uuid.uuid4().hex[:12]}"  # PostgreSQL: this example's rows
        self.journals: list[Any] = []
        self.journal = self._open_journal()  # type: ignore[assignment]
        self.build: str | None = None  # the build the instance runs (None: the package's)
        self.builds = 0
        self.deploys = 0  # a few per program: each is a restart or two

    def _open_journal(self) -> RecordingSqlite | RecordingPostgres:
        if self.dsn:
            journal: RecordingSqlite | RecordingPostgres = RecordingPostgres(
                self.dsn, self.journal_id
            )
        else:
            journal = RecordingSqlite(self.dir / "journal.db")
        self.journals.append(journal)
        return journal

    def teardown(self) -> None:
        """Stop the live instance as `serve` does (release what is durable, close its
        journal), then let go of what crashes left."""
        harness: Harness | None = getattr(self, "h", None)
        if harness is not None:
            harness.gateway.close()
            rejected = sum(isinstance(ev, VenueRejected) for ev in self.journal.log)
            STATS["orders the venue rejected"] += rejected
        for journal in self.journals:
            journal.close()  # a no-op for the closed and the crashed
            journal.release()
        shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def venue(self) -> ScriptedVenue:
        return self.h.venue  # type: ignore[return-value]

    # -- wiring ------------------------------------------------------------------------

    def _guard(self, venue: SimulatedVenue) -> None:
        """The exposure machine's port check, and: nothing a halt covers reaches the venue
        while the halt stands (but a reducing order its account's loss halt let through)."""
        super()._guard(venue)
        checked = venue.send

        def halt_guarded_send(order: Order) -> None:
            for h in self.h.plane.halts():
                exempt = h.who == LOSS_MONITOR and CONFIG.limits.loss_halt_allows_reducing
                if not exempt and covers(h, order, self.h.gateway.instance_id):
                    self.breaches.append(f"order {order.order_id} sent under {h.key}")
            checked(order)

        venue.send = halt_guarded_send  # type: ignore[method-assign]

    @precondition(lambda self: self.h.gateway.book.open_orders)
    @rule(pick=st.integers(0, 2**16), wrong_key=rare(8))
    def cancel(self, pick: int, wrong_key: bool) -> None:
        """The exposure machine's cancel, but a working order may stay open: its cancel is
        in flight at the venue (held) until the venue acts on it."""
        order, rejection = self._cancel_one(pick, wrong_key)
        if not wrong_key:
            assert rejection is None or rejection.code is RejectCode.MESSAGE_RATE, rejection
            if rejection is None:
                self._assert_cancelled_or_in_flight([order])

    # -- replace and mass cancel -------------------------------------------------------

    @precondition(lambda self: self.h.gateway.book.open_orders)
    @rule(
        pick=st.integers(0, 2**16),
        qty=st.sampled_from([1, 40, 100, 150, 260]),
        offset=st.integers(-3, 3),
    )
    def replace(self, pick: int, qty: int, offset: int) -> None:
        note("rule: replace")
        gw = self.h.gateway
        open_ids = sorted(gw.book.open_orders)
        old = gw.book.orders[open_ids[pick % len(open_ids)]]
        inst = gw.instruments[old.symbol]
        self.n += 1
        price = inst.to_price(max(1, self.h.market.mid(old.symbol) + offset))
        request = OrderRequest(
            f"c{self.n}", old.account, old.strategy, old.symbol, old.side, qty,
            OrderType.LIMIT, price, old.tif,
        )  # fmt: skip
        decision = self._submit(KEY_OF[old.account], request)
        self.journal.flush()  # the new half is acked once durable: then the old one goes
        note(f"replace: {decision.code or 'ACCEPTED'}")
        if not decision.accepted:
            return  # a refused replace leaves the old order as it was
        refusal = gw.cancel(old.order_id, KEY_OF[old.account], "replaced", throttled=False)
        if refusal is not None:  # filled (or cancelled by a halt) meanwhile
            assert refusal.code is RejectCode.ORDER_NOT_OPEN, refusal.message
            assert not old.status.is_open
        self._assert_cancelled_or_in_flight([old])

    @rule(
        account=st.sampled_from(ACCOUNTS),
        by=st.sampled_from(["all", "account", "symbol", "strategy"]),
        symbol=st.sampled_from(SYMBOLS),
        strategy=st.integers(0, 1),
        foreign=rare(8),
        decoy=st.booleans(),
    )
    def mass_cancel(self, account: str, by: str, symbol: str, strategy: int,
                    foreign: bool, decoy: bool) -> None:  # fmt: skip
        note("rule: mass_cancel")
        gw = self.h.gateway
        filters: dict[str, str | None] = {
            "account": account if by == "account" or foreign else None,
            "symbol": symbol if by == "symbol" else None,
            "strategy": STRATEGIES[account][strategy] if by == "strategy" else None,
        }
        caller = KEY_OF["mm-1" if account == "desk-7" and foreign else account]
        if foreign and caller == KEY_OF[account]:
            caller = KEY_OF["desk-7"]
        if decoy:  # one order resting just outside the filter: it must stay
            other_symbol = SYMBOLS[(SYMBOLS.index(symbol) + 1) % len(SYMBOLS)]
            decoys = {
                "all": ("mm-1" if account == "desk-7" else "desk-7", 0, symbol),
                "account": ("mm-1" if account == "desk-7" else "desk-7", 0, symbol),
                "symbol": (account, strategy, other_symbol),
                "strategy": (account, 1 - strategy, symbol),
            }
            owner, which, where = decoys[by]
            self._rest(owner, STRATEGIES[owner][which], where, 4, 1)
        open_before = set(gw.book.open_orders)
        owned = {"desk-7"} if caller == KEY_OF["desk-7"] else {"mm-1"}
        matching = [
            o
            for o in gw.book.open_orders.values()
            if o.account in owned
            and all(v is None or getattr(o, k) == v for k, v in filters.items())
        ]
        result = gw.mass_cancel(caller, **filters)
        if isinstance(result, Rejection):
            note(f"mass cancel: {result.code}")
            assert result.code in (RejectCode.NOT_ACCOUNT_OWNER, RejectCode.MESSAGE_RATE)
            assert result.code is RejectCode.NOT_ACCOUNT_OWNER or not foreign
            assert set(gw.book.open_orders) == open_before  # refused: nothing cancelled
            return
        assert not foreign, "mass cancel of another account's orders went through"
        note(f"mass cancel by {by}: {'some' if matching else 'none'} open")
        assert set(result) == {o.order_id for o in matching}
        untouched = open_before - set(result)
        assert untouched <= set(gw.book.open_orders), "cancelled outside the filter"
        self._assert_cancelled_or_in_flight(matching)

    def _assert_cancelled_or_in_flight(self, orders: list[Order]) -> None:
        """Each is closed, or working with its cancel at the venue (held there in flight)."""
        for o in orders:
            if o.status.is_open:
                assert o.status is OrderStatus.WORKING, (o.order_id, o.status)
                assert o.order_id in self.venue.held, f"order {o.order_id}: no cancel sent"

    # -- halts at every scope --------------------------------------------------------------

    @rule(
        scope=st.sampled_from(list(HaltScope)),
        account=st.sampled_from(ACCOUNTS),
        strategy=st.sampled_from(STRATEGY_NAMES),
        symbol=st.sampled_from(SYMBOLS),
        lift=st.booleans(),
        before=st.sampled_from([None, "in flight", "pending"]),
    )
    def halt(self, scope: HaltScope, account: str, strategy: str, symbol: str,
             lift: bool, before: str | None) -> None:  # fmt: skip
        """After `halt` returns nothing in its scope is left to send: covered orders are
        closed or working with their cancel at the venue, and the report counts those.
        `before`: an order it covers is first made to rest with the venue holding the
        halt's cancels (and later ones) in flight, or is left pending (not yet durable,
        so the halt must cancel it in place: never sent). Or
        (`lift`) resume the halts of that scope in force."""
        note("rule: halt")
        gw = self.h.gateway
        if lift:
            for h in [h for h in self.h.plane.halts() if h.scope is scope]:
                assert gw.resume(h.scope, h.target, "ops")
            return
        target = {
            HaltScope.GLOBAL: "",
            HaltScope.INSTANCE: gw.instance_id,
            HaltScope.ACCOUNT: account,
            HaltScope.STRATEGY: strategy,
            HaltScope.SYMBOL: symbol,
        }[scope]
        if before is not None:  # one more order the halt covers, resting or not yet durable
            owner = next(a for a, names in STRATEGIES.items() if strategy in names)
            by = owner if scope is HaltScope.STRATEGY else account
            self._rest(by, strategy if by == owner else STRATEGIES[by][0], symbol, 3, 1,
                       flush=before == "in flight")  # fmt: skip
            if before == "in flight":
                self.venue.hold_cancels()
        report = gw.halt(scope, target, "stateful test", "ops")
        assert report.complete and report.confirmed == (gw.instance_id,), str(report)
        covered = [o for o in gw.book.orders.values() if covers(report.halt, o, gw.instance_id)]
        still_open = [o for o in covered if o.status.is_open]
        self._assert_cancelled_or_in_flight(still_open)
        assert report.pending_cancel == len(still_open), (str(report), still_open)
        note(f"halt {scope.value}: {'some' if still_open else 'none'} pending cancel")

    @invariant()
    def no_open_order_is_covered_by_a_halt(self) -> None:
        """Under a halt (but a loss halt's reducing orders) an open order is one whose
        cancel is in flight at the venue: nothing covered is pending or resting untold."""
        gw = self.h.gateway
        for h in self.h.plane.halts():
            if h.who == LOSS_MONITOR and CONFIG.limits.loss_halt_allows_reducing:
                continue
            covered = [o for o in gw.book.open_orders.values() if covers(h, o, gw.instance_id)]
            self._assert_cancelled_or_in_flight(covered)


SQLITE_RUN = (30, 500, 50)
"""(examples in CI, examples under `thorough`, steps per example) on SQLite."""
POSTGRES_RUN = (10, 200, 40)
"""The same on PostgreSQL: fewer, as each step reads the journal back over a connection."""


def run(machine: type[GatewayMachine], ci: int, thorough: int, steps: int) -> None:
    """Run `machine` derandomized: the same programs every time (bench/ reuses this)."""
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=examples(ci, thorough), stateful_step_count=steps, deadline=None,
            derandomize=True,
        ),
    )  # fmt: skip


def test_gateway_machine_on_sqlite() -> None:
    run(GatewayMachine, *SQLITE_RUN)


class PostgresMachine(GatewayMachine):
    """The same machine, its journal in the session's PostgreSQL server."""


def test_gateway_machine_on_postgres(postgres_dsn: str) -> None:
    PostgresMachine.dsn = postgres_dsn
    run(PostgresMachine, *POSTGRES_RUN)
