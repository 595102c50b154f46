"""The REST order API: one FastAPI app in front of one Gateway.

Every endpoint is a plain `def`: the gateway is synchronous (its lock, the journal wait),
so FastAPI runs each call in its worker threadpool and the event loop never blocks.
POST /orders answers only once the decision is durable (`Gateway.wait`): a 201 means the
journal holds the accept, as DESIGN.md's invariant 2 asks of every acknowledgement.
"""

# No `from __future__ import annotations`: FastAPI must resolve the route-local
# `Annotated[..., Depends(...)]` aliases at decoration time.
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import Depends, FastAPI, Header, Query, Response

from interlock import __version__
from interlock.api.bearer import ApiError, install_error_handler
from interlock.api.body_limit import BodyLimit
from interlock.api.config import serve_config
from interlock.api.readiness_view import readiness_view
from interlock.api.rest.auth import allow
from interlock.api.rest.models import (
    CancelAccepted,
    HealthView,
    LimitsView,
    MassCancelAccepted,
    MassCancelIn,
    OrderAccepted,
    OrderIn,
    OrderView,
    PositionView,
    RejectBody,
    order_view,
)
from interlock.api.rest.status import STATUS_BY_CODE, status_of
from interlock.domain.commands import OrderRequest
from interlock.domain.reject import RejectCode, Rejection, reject
from interlock.errors import JournalError
from interlock.gateway.auth import Principal, expiries
from interlock.gateway.gateway import Gateway

_REFUSALS: dict[int | str, dict[str, object]] = {
    s: {"model": RejectBody} for s in sorted({401, 404, 413, 503, *STATUS_BY_CODE.values()})
}


def _refuse(r: Rejection) -> ApiError:
    return ApiError(status_of(r.code), r)


def create_app(gateway: Gateway, venue: Callable[[], str] = lambda: "simulated") -> FastAPI:
    """The REST app for `gateway`; its listener settings come from `gateway.config.rest`."""
    cfg = serve_config(gateway.config)
    auth = gateway.auth  # the one authenticator: each request's key is resolved once
    auth.add(((k.key_sha256, k.principal, k.role) for k in cfg.rest.keys),  # REST's readers
             expires=expiries((k.key_sha256, k.not_after) for k in cfg.rest.keys),
             revoked=cfg.revoked)  # fmt: skip
    ack_timeout_s = cfg.rest.ack_timeout_ms / 1_000
    app = FastAPI(
        title="Interlock REST",
        version=__version__,
        description="Orders, positions and limits through the Interlock gateway. "
        "Refusals: see docs/rest-api.md for the status of every reject code.",
    )
    install_error_handler(app)
    app.add_middleware(BodyLimit)

    Trader = Annotated[Principal, Depends(allow(auth, "trade"))]
    OrderReader = Annotated[Principal, Depends(allow(auth, "read_orders"))]
    PositionReader = Annotated[Principal, Depends(allow(auth, "read_positions"))]
    LimitsReader = Annotated[Principal, Depends(allow(auth, "read_limits"))]

    @app.post("/orders", status_code=201, responses=_REFUSALS)
    def place_order(
        order: OrderIn,
        response: Response,
        caller: Trader,
        idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=128),
    ) -> OrderAccepted:
        """Submit an order; answered once its decision is durable in the journal."""
        request = OrderRequest(
            order.client_order_id,
            order.account,
            order.strategy,
            order.symbol,
            order.side,
            order.quantity,
            order.order_type,
            None if order.limit_price is None else Decimal(order.limit_price),
            order.time_in_force,
            order.session,
            order.parent_id,
            idempotency_key,
        )
        decision = gateway.submit(request, caller)
        try:
            gateway.wait(decision, ack_timeout_s)
        except JournalError as exc:
            raise ApiError(
                503,
                reject(
                    RejectCode.JOURNAL_UNAVAILABLE,
                    str(exc),
                    "durable within the ack timeout",
                    "retry with the same Idempotency-Key",
                ),
            ) from None
        if decision.replayed:
            response.headers["Idempotent-Replayed"] = "true"
        if decision.rejection is not None:
            error = _refuse(decision.rejection)
            if decision.replayed:
                error.headers["Idempotent-Replayed"] = "true"
            raise error
        assert decision.order_id is not None
        response.headers["Location"] = f"/orders/{decision.order_id}"
        return OrderAccepted(
            order_id=decision.order_id, seq=decision.seq, replayed=decision.replayed
        )

    def visible(order_id: int, caller: Principal) -> OrderView:
        """The order, if the caller may see it; else ORDER_NOT_FOUND, the one answer for an
        unknown id and another account's order (as `Gateway.cancel` gives)."""
        o = gateway.order(order_id)
        if o is None or not caller.sees(o.account):
            raise _refuse(
                reject(
                    RejectCode.ORDER_NOT_FOUND,
                    f"no order {order_id} among the accounts of {caller.name}",
                    "an order of the caller's accounts",
                    order_id,
                )
            )
        return order_view(o)

    @app.get("/orders", responses=_REFUSALS)
    def list_orders(
        caller: OrderReader,
        status: Literal["open"] = Query("open", description="only `open` is served"),
        account: str | None = Query(None, min_length=1, max_length=64),
        symbol: str | None = Query(None, min_length=1, max_length=32),
        strategy: str | None = Query(None, min_length=1, max_length=64),
    ) -> list[OrderView]:
        """Open (pending or working) orders the caller may see, oldest first."""
        return [
            order_view(o)
            for o in gateway.open_orders(account, symbol, strategy)
            if caller.sees(o.account)
        ]

    @app.post("/orders/mass-cancel", status_code=202, responses=_REFUSALS)
    def mass_cancel(body: MassCancelIn, caller: Trader) -> MassCancelAccepted:
        """Ask for a cancel of every open order of the caller's accounts matching the
        filters; each goes through the gateway's cancel, the venue confirms it."""
        done = gateway.mass_cancel(caller, body.account, body.symbol, body.strategy,
                                   f"REST mass cancel by {caller.name}")  # fmt: skip
        if isinstance(done, Rejection):
            raise _refuse(done)
        return MassCancelAccepted(count=len(done), order_ids=done)

    # `:int`: only a number is an order id, so /orders/mass-cancel is never read as one
    # (GET on it is 405 Allow: POST, not 422), and any other text is no such path (404)
    @app.get("/orders/{order_id:int}", responses=_REFUSALS)
    def get_order(order_id: int, caller: OrderReader) -> OrderView:
        return visible(order_id, caller)

    @app.delete("/orders/{order_id:int}", status_code=202, responses=_REFUSALS)
    def cancel_order(order_id: int, caller: Trader) -> CancelAccepted:
        """Ask for a cancel; the venue confirms it asynchronously (see GET /orders/{id})."""
        visible(order_id, caller)
        refusal = gateway.cancel(order_id, caller)
        if refusal is not None:  # not open any more (409), or gone from view (404)
            raise _refuse(refusal)
        return CancelAccepted(order_id=order_id)

    @app.get("/positions", responses=_REFUSALS)
    def positions(caller: PositionReader) -> list[PositionView]:
        return [
            PositionView(account=a, symbol=s, position=p, open_buy=b, open_sell=sl)
            for a, s, p, b, sl in gateway.positions()
            if caller.sees(a)
        ]

    @app.get("/limits", responses=_REFUSALS)
    def limits(caller: LimitsReader) -> LimitsView:
        lim = gateway.book.limits  # the limits in force: the config's, and approved changes
        named = set(lim.accounts).union(*(k.accounts for k in cfg.api_keys))
        shown = sorted(named if caller.sees_all else caller.accounts)
        return LimitsView(
            digest=lim.digest(),
            firm=lim.firm.model_dump(mode="json"),
            accounts={a: lim.account(a).model_dump(mode="json") for a in shown},
            collar=lim.collar.model_dump(mode="json"),
            rates=lim.rates.model_dump(mode="json"),
        )

    @app.get("/health")
    def health() -> HealthView:
        """Unauthenticated liveness: the listener answers and the instance's gate state.
        Still 200 while the journal is down (the body says so): a liveness probe that
        restarted the process would throw away the records it holds for the journal."""
        h = gateway.health()
        dc = gateway.drop_copy.view() if gateway.drop_copy is not None else None
        return HealthView(
            status="ok" if not h.journal_failure else h.gate,
            journal=h.journal,
            journal_since_ns=h.journal_since_ns,
            journal_failure=h.journal_failure,
            instance_id=h.instance_id,
            gate=h.gate,
            durable_seq=h.durable_seq,
            lease_expires_ns=h.lease_expires_ns,
            venue=venue(),
            drop_copy="none" if dc is None else dc.state,
            drop_copy_breaks=0 if dc is None else dc.break_count,
            readiness=readiness_view(gateway, gateway.preopen.verdict),
        )

    return app
