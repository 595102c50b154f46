"""The `interlock` command, one module per command group; `app` is its root.

Importing this package is cheap (Typer, Rich's console and the light domain enums): each
command imports what it runs (the gateway, the web stack, the replay and its plots, the
demo) only when it runs, so `interlock --help` never pays for matplotlib or FastAPI.
"""

from interlock.cli.main import app

__all__ = ["app"]
