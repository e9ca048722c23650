"""`incidents`: the console entry point. Commands register themselves on the shared Typer app."""

from cli import breach_commands, engine_commands, incident_commands, report_commands  # noqa: F401  (registers)
from cli.app import app

__all__ = ["app"]
