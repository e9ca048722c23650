"""verify writes each entry's canonical text directly, for speed: it must be, byte for byte, the text `digest` hashes
(json.dumps with sorted keys), whatever the payload holds."""

import json
import sqlite3

import pytest

from models.timeline import _canonical, _canonical_text

PAYLOADS = [
    {},
    {"b": 1, "a": [1, 2.5, None, True, False], "é": "déjà vu « guillemets »"},
    {"text": "ligne\nsuivante\t\"citée\" \\ \u0000\u001f\u2028 😀", "nested": {"z": {"y": [], "x": {}}, "a": -0.0}},
    {"big": 123456789012345678901234567890, "float": 1e16, "small": 1e-7, "neg": -12},
]


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("ref", [None, "INC-2026-0001"])
def test_the_written_text_is_the_hashed_text(payload, ref):
    fields = (7, ref, "2026-11-20 09:00:00.000000", "2026-11-20 09:00:01.123456", "rssi@ac-nancy-metz.example.org",
              "academy", "declared")
    expected = json.dumps(_canonical(*fields, payload, "a" * 64), sort_keys=True, ensure_ascii=False,
                          separators=(",", ":"))
    assert _canonical_text(*fields, json.dumps(payload), "a" * 64) == expected
    assert _canonical_text(*fields, payload, "a" * 64) == expected


ACTORS = ["rssi@ac-nancy-metz.example.org", "Émilie « la DPD » O'Brien", "tab\there \"quoted\" \\ back\nline",
          "\u0000\u0001\u001f\u007f\u2028 😀"]


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("actor", ACTORS)
def test_the_text_sqlite_writes_is_the_hashed_text(payload, actor):
    """Over a large SQLite store the chain's check has SQLite write each text (models.timeline._SQLITE_CANONICAL):
    the same bytes, for any text the door may store."""
    from models.timeline import _SQLITE_CANONICAL

    fields = (7, "INC-2026-0001", "2026-11-20 09:00:00.000000", "2026-11-20 09:00:01.123456", actor, "academy",
              "declared")
    expected = json.dumps(_canonical(*fields, payload, "a" * 64), sort_keys=True, ensure_ascii=False,
                          separators=(",", ":")).encode()
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE timeline_entry (seq INTEGER PRIMARY KEY, incident_ref TEXT, occurred_at TEXT, "
                       "recorded_at TEXT, actor TEXT, party TEXT, kind TEXT, payload TEXT, prev_hash TEXT)")
    canonical_payload = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    connection.execute("INSERT INTO timeline_entry VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (*fields, canonical_payload, "a" * 64))
    connection.execute("INSERT INTO timeline_entry VALUES (8, NULL, '2026-11-20T09:00:00Z', ?, ?, ?, ?, ?, ?)",
                       (*fields[3:], canonical_payload, "a" * 64))  # an instant in another form
    connection.execute("INSERT INTO timeline_entry VALUES (9, NULL, ?, ?, ?, ?, ?, ?, ?)",
                       (*fields[2:4], actor.encode(), *fields[5:], canonical_payload, "a" * 64))  # a blob
    written = connection.execute(f"SELECT {_SQLITE_CANONICAL} FROM timeline_entry ORDER BY seq").fetchall()
    assert written == [(expected,), (None,), (None,)]  # the others are left to the careful check
