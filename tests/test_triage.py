"""An académie triager confirms or overrides the proposed scope; an override needs a reason (both on the timeline)."""

from tests.conftest import TRIAGER
from tests.walkers import declared, obligation, shown, timeline_of


def test_override_with_reason_is_on_the_timeline(cli, tmp_path):
    ref = declared(cli, tmp_path, categories=["vendor"])["ref"]
    assert shown(cli, ref)["scope"] == "municipality"

    result = cli("triage", ref, "--scope", "shared", "--reason", "Le prestataire a exposé des comptes d'élèves",
                 "--by", TRIAGER, "--at", "2026-11-28T11:00:00+01:00")

    assert result.exit_code == 0, result.output
    view = shown(cli, ref)
    assert (view["scope"], view["scope_status"]) == ("shared", "confirmed")
    *_, last, reassigned = timeline_of(cli, ref)
    assert last["kind"] == "scope_confirmed"
    assert last["actor"] == "rssi@ac-nancy-metz.example.org"
    assert last["party"] == "academy"
    assert last["occurred_at"] == "2026-11-28T11:00:00+01:00"
    attested = last["payload"].pop("state")  # what the change wrote, attested (models/attestation.py)
    assert list(attested) == ["incident:1"]
    assert last["payload"] == {
        "scope": "shared", "proposed_scope": "municipality", "override": True,
        "article": "Art. 8, champ partagé : gouvernance, gestion, coresponsabilité des données personnelles",
        "reason": "Le prestataire a exposé des comptes d'élèves",
    }
    # A shared incident is coordinated by the académie: the follow-ups it owes move to it.
    assert list(reassigned["payload"].pop("state")) == ["obligation:2"]  # the new owner, attested
    assert (reassigned["kind"], reassigned["payload"]) == ("obligation_reassigned",
                                                          {"obligation": "follow_up", "owner": "academy"})
    assert obligation(view, "follow_up")["owner"] == "academy"


def test_a_refused_override_without_reason_leaves_no_trace(cli, tmp_path):
    ref = declared(cli, tmp_path, categories=["vendor"])["ref"]
    before = timeline_of(cli, ref)

    result = cli("triage", ref, "--scope", "academy", "--by", TRIAGER)

    assert result.exit_code == 1
    assert "indiquez un motif (--reason)" in result.stderr
    assert timeline_of(cli, ref) == before
    assert shown(cli, ref)["scope_status"] == "proposed"


def test_confirming_the_proposed_scope_needs_no_reason(cli, tmp_path):
    ref = declared(cli, tmp_path, categories=["directory"])["ref"]

    result = cli("triage", ref, "--scope", "academy", "--by", TRIAGER)

    assert result.exit_code == 0, result.output
    assert (shown(cli, ref)["scope"], shown(cli, ref)["scope_status"]) == ("academy", "confirmed")
    assert timeline_of(cli, ref)[-1]["payload"]["override"] is False


def test_triage_of_an_unknown_reference_is_refused(plain_cli):
    result = plain_cli("triage", "INC-2026-0999", "--scope", "shared", "--reason", "x", "--by", TRIAGER)
    assert result.exit_code == 1
    assert "Aucun incident ne porte la référence « INC-2026-0999 »" in result.stderr
