"""The order path: `Gateway.submit` and what it is configured with."""

from interlock.gateway.config import GatewayConfig
from interlock.gateway.gateway import Gateway

__all__ = ["Gateway", "GatewayConfig"]
