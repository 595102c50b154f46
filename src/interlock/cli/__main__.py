"""`python -m interlock.cli ...`: the same command as the `interlock` entry point."""

from interlock.cli.main import app

app()
