"""Read the SQLite store directly, as an auditor's script would, to check what commands did or did not write."""

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

TABLES = ("incident", "obligation", "timeline_entry", "outbox_message")


def row_counts(database: Path) -> dict[str, int]:
    if not database.exists():
        return dict.fromkeys(TABLES, 0)
    with sqlite3.connect(database) as connection:
        return {table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in TABLES}


def execute(database: Path, sql: str, *params: object) -> None:
    with sqlite3.connect(database) as connection:
        connection.execute(sql, params)


def snapshot(database: Path) -> dict[str, Any] | None:
    """Row counts of every table and the chain head: what "unchanged" means to an auditor; None with no store yet."""
    if not database.exists():  # sqlite3.connect would create it
        return None
    with closing(sqlite3.connect(database)) as connection:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                                       "ORDER BY name")]
        rows = {table: connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in tables}
        head = connection.execute("SELECT * FROM chain_head").fetchall() if "chain_head" in tables else None
    return {"rows": rows, "chain_head": head}
