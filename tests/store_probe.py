"""Read the SQLite store directly, as an auditor's script would, to check what commands did or did not write."""

import sqlite3
from pathlib import Path

TABLES = ("incident", "obligation", "timeline_entry", "outbox_message")


def row_counts(database: Path) -> dict[str, int]:
    if not database.exists():
        return dict.fromkeys(TABLES, 0)
    with sqlite3.connect(database) as connection:
        return {table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in TABLES}


def execute(database: Path, sql: str, *params: object) -> None:
    with sqlite3.connect(database) as connection:
        connection.execute(sql, params)
