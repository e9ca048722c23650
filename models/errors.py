"""Errors a user can fix: each names the field as the user wrote it, in French."""

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def __str__(self) -> str:
        return f"champ « {self.field} » : {self.message}"


class InvalidInput(Exception):
    """Refused input; nothing was written."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(str(error) for error in errors))
        self.errors = errors


class Refused(Exception):
    """A transition its gate refuses (the message says why, in French); nothing was written."""


class NotFound(Exception):
    """No such incident."""
