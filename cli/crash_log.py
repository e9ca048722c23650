"""Where an error nobody foresaw is written down: for the administrator, under var/logs/, never shown to a user (its
traceback may quote stored values: a title, a reporter's name)."""

import traceback
from pathlib import Path

import pendulum

from settings.env import var_dir


def log_unexpected(where: str) -> Path:
    """Append the exception being handled, with when and where, to var/logs/errors.log; the log's path."""
    log = var_dir() / "logs" / "errors.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a", encoding="utf-8") as handle:
        handle.write(f"--- {pendulum.now('UTC').isoformat()} {where}\n{traceback.format_exc()}")
    return log
