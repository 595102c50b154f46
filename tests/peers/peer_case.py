"""Orders through NautilusTrader 1.221's RiskEngine (bench/nautilus_peer.py), each on a
fresh peer with the config of bench/hotpath.py, in a process of their own; prints one JSON
line: per order, the outcome, what reached the execution client, and the settings it was
judged under.

    PYTHONPATH=bench python tests/peers/peer_case.py CASH|MARGIN REQUEST_JSON [...]

REQUEST_JSON is an OrderRequest as msgspec encodes it; peer_kit.peer_case runs this."""

from __future__ import annotations

import json
import sys

import msgspec
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.identifiers import InstrumentId

from hotpath import bench_config
from interlock.domain.commands import OrderRequest
from nautilus_peer import NautilusPeer


def main(account_type: str, request_json: str) -> dict[str, object]:
    req = msgspec.json.decode(request_json, type=OrderRequest)
    peer = NautilusPeer(bench_config(), account_type=AccountType[account_type])
    command = peer.command(req)
    peer.risk.execute(command)
    limit = peer.risk.max_notional_per_order(InstrumentId.from_str(f"{req.symbol}.SIM"))
    account = peer.cache.account_for_venue(peer.client.venue)
    return {"outcome": peer.outcomes([command])[0], "sent": peer.sent,
            "max_notional_per_order": None if limit is None else str(limit),
            "account_type": account.type.name}  # fmt: skip


if __name__ == "__main__":
    pairs = zip(sys.argv[1::2], sys.argv[2::2], strict=True)
    print(json.dumps([main(account_type, request) for account_type, request in pairs]))
