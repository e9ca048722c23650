"""`models.attestation.compare`, the pure comparison `verify` and `verify --export` share, on crafted entries: what an
entry attests of another incident's record is named as such and changes nothing of that incident's judgement."""

from models.attestation import Stored, compare


def entry(seq: int, ref: str, state: object) -> tuple[int, str, dict[str, object]]:
    return seq, ref, {"state": state}


def test_an_attestation_that_is_not_a_mapping_is_named_not_a_crash():
    found = compare([entry(1, "INC-A", {"incident:1": "declared_at"})], {})
    assert [(item.record, item.attested_by, item.moved) for item in found] == [("incident:1", 1, True)]


def test_a_creation_attested_by_another_incidents_entry_does_not_change_that_incidents_scheme():
    creation_a = {"declared_at": "a", "_scheme": "2"}
    creation_b = {"declared_at": "b", "_scheme": "1"}  # B recorded before reports were attested: they are not judged
    entries = [entry(1, "INC-A", {"incident:1": creation_a}), entry(2, "INC-B", {"incident:2": creation_b}),
               entry(3, "INC-B", {"incident:1": creation_a})]  # B's entry naming A's record
    records = {"incident:1": Stored("INC-A", {"declared_at": "a"}), "incident:2": Stored("INC-B", {"declared_at": "b"}),
               "incident_report:9": Stored("INC-B", {"content": "c"})}
    found = compare(entries, records)
    assert [(item.record, item.attested_by, item.moved) for item in found] == [("incident:1", 3, True)]


def test_the_entry_named_for_a_changed_field_is_the_last_that_attested_it():
    entries = [entry(1, "INC-A", {"incident:1": {"declared_at": "a", "title": "t1", "status": "s1"}}),
               entry(2, "INC-A", {"incident:1": {"title": "t2"}}),
               entry(3, "INC-A", {"incident:1": {"status": "s3"}})]
    [found] = compare(entries, {"incident:1": Stored("INC-A", {"declared_at": "a", "title": "edited",
                                                                 "status": "s3"})})
    assert (found.fields, found.attested_by) == (("title",), 2)
    assert compare(entries, {"incident:1": Stored("INC-A", {"declared_at": "a", "title": "t2", "status": "s3"})}) == []


def test_the_entries_given_are_left_as_they_were():
    first = {"declared_at": "a", "title": "t1"}
    entries = [entry(1, "INC-A", {"incident:1": first}), entry(2, "INC-A", {"incident:1": {"title": "t2"}})]
    assert compare(entries, {"incident:1": Stored("INC-A", {"declared_at": "a", "title": "t2"})}) == []
    assert first == {"declared_at": "a", "title": "t1"}  # an export's entries, read again by the next check
