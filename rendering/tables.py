"""Rows written as JSON Lines or as CSV a spreadsheet in French settings opens safely."""

import csv
import io
import json
from typing import Any


def to_jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


# Spreadsheets in French settings read a comma as the decimal mark and guess the encoding: cells are separated by
# semicolons, and a byte-order mark says UTF-8 (accents open right in Excel as in LibreOffice).
CSV_DELIMITER = ";"
CSV_BOM = "\ufeff"


def to_csv(rows: list[dict[str, Any]], columns: list[str], headings: dict[str, str] | None = None) -> str:
    """The rows' `columns` in that order, under their French `headings` when given (a spreadsheet is read by
    people; JSON keeps the codes for programs)."""
    buffer = io.StringIO()
    buffer.write(CSV_BOM)
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", delimiter=CSV_DELIMITER)
    if headings:
        writer.writerow({column: headings.get(column, column) for column in columns})
    else:
        writer.writeheader()
    for row in rows:
        writer.writerow({key: _inert(json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else value)
                         for key, value in row.items()})
    return buffer.getvalue()


def _inert(value: Any) -> Any:
    """A cell a spreadsheet will not run as a formula: text starting with =, +, -, @ or a tab gets a leading '."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def spreadsheet_instant(value: str | None) -> str:
    """An ISO instant (already in Paris time) as a French spreadsheet reads a date: 27/10/2026 10:00:05."""
    if not value:
        return ""
    day, _, time = value.partition("T")
    year, month, date = day.split("-")
    return f"{date}/{month}/{year} {time[:8]}"


def spreadsheet_number(value: float | None) -> str:
    """A decimal with the French comma: 0,75."""
    return "" if value is None else f"{value:g}".replace(".", ",")


def yes_no(value: bool | None) -> str:
    return "" if value is None else "oui" if value else "non"
