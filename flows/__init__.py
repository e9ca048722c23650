"""Prefect flows: processors that take incident ids, read the store, act idempotently and write back."""

import os

from settings.env import var_dir

# Set before Prefect is first imported: an embedded Prefect home under var/, a startup timeout that suits
# this class of machine, and no analytics. Explicit environment settings win.
os.environ.setdefault("PREFECT_HOME", str(var_dir() / "prefect"))
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
