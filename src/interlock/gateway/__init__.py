"""The order path: `Gateway.submit` and what it is configured with."""

from interlock.gateway.config import GatewayConfig, load_config
from interlock.gateway.gateway import Gateway

__all__ = ["Gateway", "GatewayConfig", "load_config"]
