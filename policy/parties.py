"""The two parties bound by the convention."""

from enum import StrEnum


class Party(StrEnum):
    ACADEMY = "academy"
    MUNICIPALITY = "municipality"

    @property
    def other(self) -> "Party":
        return Party.MUNICIPALITY if self is Party.ACADEMY else Party.ACADEMY

    @property
    def label(self) -> str:
        return "l'académie" if self is Party.ACADEMY else "la collectivité"
