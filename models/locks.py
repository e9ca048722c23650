"""Rows a write transaction has locked, kept until it ends: a command of a group (the door's `run_all`) finds the rows
the group locked first, in the door's lock order, instead of locking each again, one query per row."""

from collections.abc import Iterable
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session, SQLModel, col, select

Row = TypeVar("Row", bound=SQLModel)

LOCKED_KEY = "locked_rows"


def lock(session: Session, model: type[Row], ids: Iterable[int]) -> dict[int, Row]:
    """The rows of `model` with these ids, locked (FOR UPDATE) and loaded in the order of their ids, those this
    transaction holds already excepted. They stay referenced until the transaction ends, so that the session's
    identity map (which forgets what nobody references) answers for them without a query."""
    held: dict[tuple[Any, int], Any] = session.info.setdefault(LOCKED_KEY, {})
    wanted = sorted(set(ids))
    missing = [row_id for row_id in wanted if (model, row_id) not in held]
    if missing:
        key = col(model.id)  # type: ignore[attr-defined]
        for row in session.exec(select(model).where(key.in_(missing)).order_by(key).with_for_update()):
            held[(model, row.id)] = row  # type: ignore[attr-defined]
    return {row_id: held[(model, row_id)] for row_id in wanted if (model, row_id) in held}


def held(session: Session, model: type[Row], row_id: int) -> Row | None:
    """The row, if this transaction has locked it already."""
    row: Row | None = session.info.get(LOCKED_KEY, {}).get((model, row_id))
    return row


def note(session: Session, what: str, ids: Iterable[int]) -> None:
    """Remember that this transaction has locked `what` for these ids (rows that go with them, say)."""
    held: dict[tuple[Any, int], Any] = session.info.setdefault(LOCKED_KEY, {})
    held.update(((what, row_id), True) for row_id in ids)


def noted(session: Session, what: str, row_id: int) -> bool:
    return (what, row_id) in session.info.get(LOCKED_KEY, {})


@event.listens_for(OrmSession, "after_transaction_end")
def _release(session: OrmSession, transaction: SessionTransaction) -> None:
    """A lock lasts as long as its transaction: the next one locks afresh."""
    if transaction.parent is None:
        session.info.pop(LOCKED_KEY, None)
