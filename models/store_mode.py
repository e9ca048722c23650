"""Whether the store is a real register or a simulation (a drill copy): only a simulation may act as of a future
instant, and a simulation never mails anyone beyond this machine."""

from sqlmodel import Field, Session, SQLModel

SIMULATION = "simulation"


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
