"""The watchdog's query goes through the index on next_action_at: its cost follows what is due, not the store."""

import sqlite3

import pendulum
from sqlalchemy import event

from models.db import get_engine, session_scope
from models.watchdog import due_obligations


def test_the_due_obligations_query_uses_the_next_action_index(store):
    statements = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "FROM obligation" in statement:
            statements.append((statement, parameters))

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", capture)
    try:
        with session_scope() as session:
            due_obligations(session, pendulum.now("UTC"))
    finally:
        event.remove(engine, "before_cursor_execute", capture)

    [(statement, parameters)] = statements
    with sqlite3.connect(store) as connection:
        plan = " ".join(str(row[-1]) for row in connection.execute(f"EXPLAIN QUERY PLAN {statement}", parameters))
    assert "INDEX ix_obligation_next_action_at (next_action_at<?)" in plan
