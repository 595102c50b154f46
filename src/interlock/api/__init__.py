"""Transports in front of `Gateway.submit`: FIX (QuickFIX), REST and the admin listener."""
