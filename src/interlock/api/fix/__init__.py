"""FIX 4.4 over QuickFIX: the acceptor desks log on to, and the initiator venue adapter."""

from interlock.api.fix.acceptor import FixAcceptor
from interlock.api.fix.venue import FixVenue
from interlock.gateway.listeners import FixAcceptorConfig, FixLogin

__all__ = ["FixAcceptor", "FixAcceptorConfig", "FixLogin", "FixVenue"]
