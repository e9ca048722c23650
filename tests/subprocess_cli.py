"""Run `incidents` as its own process, as a user's shell or a crashed service would."""

import os
import subprocess
import sys
from pathlib import Path

INCIDENTS = str(Path(sys.executable).parent / "incidents")


def cli_env(**extra: str) -> dict[str, str]:
    """The test's environment (store, var/, SMTP) plus the given settings."""
    return {**os.environ, **extra}


def start(*args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen([INCIDENTS, *args], env=cli_env(**env), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def run(*args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([INCIDENTS, *args], env=cli_env(**env), capture_output=True, text=True, timeout=timeout)
