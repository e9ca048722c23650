"""Whatever document a user hands to `declare`, the answer is an incident or a French refusal: never a traceback,
and a refusal leaves the store exactly as it was."""

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cli.main import app
from policy.scope import CATEGORIES
from tests.conftest import BASE_DECLARATION, MUNICIPALITY_REFERENT
from tests.store_probe import snapshot
from tests.test_input_bounds import assert_store_unchanged

AT = "2026-11-28T10:00:00+01:00"
FUZZ = settings(max_examples=150, deadline=None, database=None,  # no example database written into the checkout
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])


class _Failing(BaseHTTPRequestHandler):
    """An orchestrator that answers every request with a 500, at once."""

    def _fail(self) -> None:
        self.send_response(500)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _fail  # noqa: N815 - http.server's naming

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def orchestrator_down(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """An accepted declaration stays queued in milliseconds: a closed port costs 1.6 s of connection retries per
    handover, a server that answers 500 none."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Failing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{server.server_port}/api")
    monkeypatch.setenv("INCIDENTS_ACTOR", MUNICIPALITY_REFERENT)  # `declare` will require the acting person
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# Values of every shape: bounds are found at the edges (2^31, 2^63, year 1, control characters, lone surrogates).
EDGE_INTEGERS = st.sampled_from([0, -1, 10_000_000, 10_000_001, 2**31 - 1, 2**31, 2**63 - 1, 2**63, 2**64, -(2**63)])
OFFSETS = st.builds(timezone, st.timedeltas(min_value=timedelta(hours=-23, minutes=-59),
                                            max_value=timedelta(hours=23, minutes=59)))
INSTANTS = st.one_of(
    st.datetimes(timezones=st.none() | st.just(UTC) | OFFSETS).map(datetime.isoformat),
    st.datetimes(min_value=datetime(1999, 12, 31), max_value=datetime(2026, 11, 28, 12),
                 timezones=st.just(UTC) | OFFSETS).map(datetime.isoformat),  # around the bounds
    st.datetimes(max_value=datetime(1, 1, 2), timezones=OFFSETS).map(datetime.isoformat),  # no UTC year 1 before it
    st.datetimes(min_value=datetime(9999, 12, 31), timezones=OFFSETS).map(datetime.isoformat),  # nor after
    st.sampled_from(["0001-01-01T00:00:00+01:00", "0000-01-01T00:00:00Z", "1900-01-01T00:00:00+00:00",
                     "9999-12-31T23:59:59-23:59", "2026-02-30T10:00:00+01:00", "2026-11-28T09:00:00+01:00",
                     "2026-11-28T09:31:00+01:00", "2026-11-28", "demain"]),
)
TEXTS = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(codec="utf-8", categories=["Cc", "Zl", "Zp", "Cf"]), max_size=5),
    st.text(st.characters(categories=["Cs"]), min_size=1, max_size=3),  # lone surrogates
    st.sampled_from(["", " ", "x" * 300, "x" * 301, "é" * 20_001, "0549001A", "54999", "vendor", "yes", "no",
                     "referent-ent@villers-les-exemple.example.org", "pas-une-adresse", "a" * 250 + "@example.org"]),
    INSTANTS,
    st.sampled_from(CATEGORIES),
)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), EDGE_INTEGERS, st.floats(), TEXTS)
VALUES = st.recursive(SCALARS, lambda children: st.lists(children, max_size=4)
                      | st.dictionaries(st.text(max_size=12) | st.sampled_from(list(BASE_DECLARATION)), children,
                                        max_size=4), max_leaves=12)

FIELDS = [*BASE_DECLARATION, "occurred_at", "schools", "data_subjects", "records", "reporter.name", "reporter.email",
          "data_subjects.pupils", "data_subjects.staff", "categories.0", "schools.0", "an_unknown_field"]
DELETE = object()


def mutated(changes: list[tuple[str, Any]]) -> dict[str, Any]:
    """BASE_DECLARATION with some fields (a dotted path) replaced by arbitrary values, or deleted."""
    document: dict[str, Any] = json.loads(json.dumps(BASE_DECLARATION))
    for path, value in changes:
        *parents, last = path.split(".")
        target: Any = document
        for name in parents:
            if not isinstance(target.get(name), dict | list):
                target[name] = {} if name != "categories" and name != "schools" else []
            target = target[name]
        if isinstance(target, list):
            if value is not DELETE:
                target.append(value)
        elif value is DELETE:
            target.pop(last, None)
        else:
            target[last] = value
    return document


COUNTS = st.integers() | EDGE_INTEGERS
PLAUSIBLE = {  # values a user might really write in each field, so that some documents are accepted
    "title": TEXTS, "description": TEXTS, "reporter.name": TEXTS, "reporter.email": TEXTS, "aware_at": INSTANTS,
    "occurred_at": INSTANTS, "records": COUNTS, "data_subjects.pupils": COUNTS, "data_subjects.staff": COUNTS,
    "municipality": st.sampled_from(["54999", "57999", "99999", 54999, 2.5]) | TEXTS,
    "categories.0": st.sampled_from(CATEGORIES) | TEXTS, "schools.0": st.sampled_from(["0549001A", "0579001C"]),
    "personal_data": st.sampled_from(["yes", "no", "unknown", True, False, None]),
    "declared_by": st.sampled_from(["academy", "municipality", "prestataire"]),
}
PLAUSIBLE_CHANGE = st.sampled_from(sorted(PLAUSIBLE)).flatmap(lambda name: st.tuples(st.just(name), PLAUSIBLE[name]))

DOCUMENTS = st.one_of(
    VALUES,
    st.lists(st.tuples(st.sampled_from(FIELDS), st.just(DELETE) | VALUES), min_size=1, max_size=3).map(mutated),
    st.lists(PLAUSIBLE_CHANGE, min_size=1, max_size=3).map(mutated),
    st.fixed_dictionaries({}, optional={name: VALUES for name in FIELDS if "." not in name}),
)


def written(folder: Path, document: Any, form: str) -> Path:
    """The document as a user's file: YAML, JSON (UTF-8, possibly with invalid bytes), or raw bytes."""
    if form == "yaml":
        path = folder / "fuzz.yaml"
        path.write_text(yaml.safe_dump(document), encoding="ascii")  # escapes make any string writable
    elif form == "raw":
        path = folder / "fuzz.yaml"
        path.write_bytes(document)
    else:
        path = folder / "fuzz.json"
        path.write_bytes(json.dumps(document, ensure_ascii=form == "json-ascii").encode("utf-8", "surrogatepass"))
    return path


FORMS = st.sampled_from(["yaml", "json-ascii", "json-utf8"])
NEAR_VALID = st.tuples(st.lists(PLAUSIBLE_CHANGE, min_size=1, max_size=2).map(mutated), FORMS)
FILES = st.one_of(
    NEAR_VALID, NEAR_VALID,  # twice: the bugs that matter hide behind an otherwise valid document
    st.tuples(DOCUMENTS, FORMS),
    st.tuples(st.binary(max_size=200), st.just("raw")),
)


def nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


@FUZZ
@given(file=FILES)
@example(file=(mutated([("aware_at", "0001-01-01T00:00:00+01:00")]), "yaml"))  # no UTC instant for it
@example(file=(mutated([("occurred_at", "0001-01-01T00:30:00+01:00")]), "json-ascii"))
@example(file=(mutated([("records", 2**64)]), "json-utf8"))  # past SQLite's integers
@example(file=(mutated([("data_subjects.pupils", 2**31)]), "yaml"))  # past PostgreSQL's int4
@example(file=(mutated([("title", "Messagerie \ud800")]), "json-ascii"))  # cannot be written as UTF-8
@example(file=(mutated([("description", nested(30))]), "json-ascii"))
def test_any_document_is_declared_or_refused_in_french(orchestrator_down, store, tmp_path, file):
    document, form = file
    path = written(tmp_path, document, form)
    before = snapshot(store)

    result = CliRunner().invoke(app, ["declare", str(path), "--json", "--at", AT], catch_exceptions=True)

    event({0: "accepted", 1: "refused by the door", 2: "refused"}.get(result.exit_code, "other"))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 1, 2), result.output
    if result.exit_code == 2:  # the input is out of bounds
        assert result.stderr.startswith("Refusé, rien n'a été enregistré :\n  - champ « "), result.stderr
        assert_store_unchanged(store, before)
    elif result.exit_code == 1:  # a sound document the door refuses (the acting person cannot declare it)
        assert result.stderr.startswith("Refusé ("), result.stderr
        assert_store_unchanged(store, before)
    else:
        view = json.loads(result.stdout)
        after = snapshot(store)
        assert after is not None
        assert after["rows"]["incident"] == (before["rows"]["incident"] if before else 0) + 1
        assert view["ref"].startswith("INC-2026-")


VALID_CHANGES = st.fixed_dictionaries({}, optional={
    "title": st.text(st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"]), max_size=300).filter(str.strip),
    "description": st.text(st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"], include_characters="\n\r\t"),
                           max_size=2_000).filter(str.strip),
    "records": st.integers(min_value=0, max_value=10_000_000),
    "data_subjects": st.fixed_dictionaries({}, optional={"pupils": st.integers(0, 10_000_000)}),
    "occurred_at": st.datetimes(min_value=datetime(2000, 1, 1, 12), max_value=datetime(2026, 11, 28, 6),
                                timezones=st.just(UTC)).map(datetime.isoformat),
    "categories": st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=5),
})


@settings(FUZZ, max_examples=10)
@given(changes=VALID_CHANGES, form=st.sampled_from(["yaml", "json-utf8"]))
def test_a_declaration_within_bounds_is_accepted(orchestrator_down, store, tmp_path, changes, form):
    path = written(tmp_path, {**BASE_DECLARATION, **changes}, form)

    result = CliRunner().invoke(app, ["declare", str(path), "--json", "--at", AT], catch_exceptions=True)

    assert result.exit_code == 0, (result.output, result.exc_info)
    view = json.loads(result.stdout)
    # Queued when no Prefect answers; done in process when the session's test Prefect server runs already.
    assert view["orchestration"] in ("queued", "done")
    assert view["title"] == changes.get("title", BASE_DECLARATION["title"])
