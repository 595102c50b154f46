"""`interlock serve`: the gateway with its REST and admin listeners, until a signal.

The config models and the web stack (FastAPI, uvicorn) are imported only when serving.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from interlock.cli.common import console, fail


def serve(
    config: Annotated[
        Path | None,
        typer.Option("--config", help="A TOML config file (default: the packaged one)."),
    ] = None,
    control_plane: Annotated[
        str | None,
        typer.Option(
            "--control-plane",
            help="`embedded`, or `etcd://h1:p1,h2:p2,h3:p3`: the fleet to join (overrides "
            "[control_plane] url in the config).",
        ),
    ] = None,
    log_format: Annotated[
        str,
        typer.Option("--log-format", help="`text` (for a person) or `json` (one object a line)."),
    ] = "text",
) -> None:
    """Run the gateway with its REST and admin listeners until SIGTERM or SIGINT."""
    from interlock.api.config import load_config, with_control_plane
    from interlock.api.service import serve_until_signalled
    from interlock.errors import InterlockError
    from interlock.render_text import printable_lines

    out = console()
    if log_format not in ("text", "json"):
        raise fail(out, f"serve failed: --log-format must be text or json, not {log_format!r}")
    from interlock.api.log_format import configure_logging

    configure_logging("json" if log_format == "json" else "text")
    try:
        cfg = load_config(config)
        if control_plane is not None:
            cfg = with_control_plane(cfg, control_plane)
        serve_until_signalled(cfg, lambda line: out.print(Text(line)))
    except (InterlockError, OSError) as exc:
        code = f"{exc.code}: " if isinstance(exc, InterlockError) else ""
        raise fail(out, printable_lines(f"serve failed: {code}{exc}")) from None
