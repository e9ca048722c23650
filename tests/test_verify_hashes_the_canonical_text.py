"""verify writes each entry's canonical text directly, for speed: it must be, byte for byte, the text `digest` hashes
(json.dumps with sorted keys), whatever the payload holds."""

import json

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
