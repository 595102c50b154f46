"""FIX 4.4 over QuickFIX: the acceptor desks log on to, and the initiator venue adapter."""

from interlock.api.fix.acceptor import FixAcceptor
from interlock.api.fix.config import FixAcceptorConfig, FixLogin
from interlock.api.fix.venue import FixVenue

__all__ = ["FixAcceptor", "FixAcceptorConfig", "FixLogin", "FixVenue"]
