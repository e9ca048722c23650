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


def to_csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    buffer = io.StringIO()
    buffer.write(CSV_BOM)
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", delimiter=CSV_DELIMITER)
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
