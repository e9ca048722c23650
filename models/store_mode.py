"""Whether the store is a real register or a simulation (a drill copy): only a simulation may act as of a future
instant, and a simulation never mails anyone beyond this machine."""

from sqlmodel import Field, Session, SQLModel

SIMULATION = "simulation"
DRILL_COPY = "drill_copy"  # made by `incidents simulate` from a register: it shares that register's key and var/


class StoreSetting(SQLModel, table=True):
    __tablename__ = "store_setting"

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=200)


def is_simulation(session: Session) -> bool:
    setting = session.get(StoreSetting, "mode")
    return setting is not None and setting.value == SIMULATION


def mark_as_simulation(session: Session) -> None:
    setting = session.get(StoreSetting, "mode") or StoreSetting(key="mode", value=SIMULATION)
    setting.value = SIMULATION
    session.add(setting)


def mark_as_drill_copy(session: Session) -> None:
    """A copy of a real register for an exercise: a simulation that must never sign in that register's name."""
    mark_as_simulation(session)
    session.merge(StoreSetting(key=DRILL_COPY, value="yes"))  # a copy of a copy too


def is_drill_copy(session: Session) -> bool:
    return session.get(StoreSetting, DRILL_COPY) is not None
