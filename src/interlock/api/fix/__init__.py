"""FIX 4.4 over QuickFIX: the acceptor desks log on to (the venue adapter is venue/fix.py)."""

from interlock.api.fix.acceptor import FixAcceptor
from interlock.api.listeners import FixAcceptorConfig, FixLogin

__all__ = ["FixAcceptor", "FixAcceptorConfig", "FixLogin"]
