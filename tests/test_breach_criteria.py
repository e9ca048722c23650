"""The EDPB's criteria (RG-CRIT-01…10) and how they combine with the ENISA score (RG-REC-01…04): each criterion once
moving the recommendation and once, the deciding fact taken away, leaving it where the score puts it."""

import pytest

from policy.breach_criteria import CRITERIA, Facts, findings
from policy.edpb_examples import examples
from policy.recommendation import Advice, recommend
from policy.severity import Factors, Recommendation

REGISTER, CNIL, PEOPLE = (Recommendation.REGISTER_ONLY, Recommendation.NOTIFY_CNIL,
                          Recommendation.NOTIFY_CNIL_AND_SUBJECTS)
# Simple data, easily identified, seen by a known third party: ENISA SE = 1 × 1 + 0.25 = 1.25, "register only".
BASE = {"data_types": ("simple",), "ease_of_identification": "maximum", "confidentiality": "limited"}


def advise(people: int | None = None, **changes) -> Advice:
    return recommend(Factors(**{**BASE, **changes}), minors_uplift=1, people=people)


def deciding(advice: Advice) -> list[str]:
    return [finding.rule for finding in advice.deciding]


def test_the_baseline_is_register_only_by_the_score_alone():
    advice = advise()
    assert (advice.severity.se, advice.recommendation, deciding(advice)) == (1.25, REGISTER, [])
    assert "Décidée par le score ENISA, qu'aucun critère du CEPD ne modifie." in advice.reasons


def test_large_scale_informs_the_people_and_below_the_threshold_does_not():
    assert (advise(people_concerned=10_000).recommendation, deciding(advise(people_concerned=10_000))) == \
        (PEOPLE, ["RG-CRIT-01"])
    assert advise(people_concerned=9_999).recommendation is REGISTER


def test_the_declarations_count_stands_in_when_the_assessment_gives_none():
    assert advise(people=25_000).recommendation is PEOPLE
    assert advise(people=25_000, people_concerned=40).recommendation is REGISTER  # the DPD's figure prevails


def test_the_large_scale_threshold_is_the_parties_setting():
    factors = Factors(**BASE, people_concerned=600)
    assert recommend(factors, large_scale_from=500).recommendation is PEOPLE
    assert recommend(factors).recommendation is REGISTER


def test_data_not_restored_from_a_backup_call_for_the_cnil_and_restored_in_time_do_not():
    lost = {"confidentiality": "none", "availability": "temporary"}
    advice = advise(**lost, backup_restored=False)
    assert (advice.recommendation, deciding(advice)) == (CNIL, ["RG-CRIT-02"])
    assert advice.deciding[0].reason == "aucune sauvegarde n'a restauré les données"
    assert advise(**lost, backup_restored=True, unavailable_hours=4, tolerable_hours=24).recommendation is REGISTER


def test_unavailable_longer_than_the_service_tolerates_calls_for_the_cnil_and_for_a_critical_service_the_people():
    lost = {"confidentiality": "none", "availability": "temporary", "backup_restored": True,
            "unavailable_hours": 48, "tolerable_hours": 4}
    assert advise(**lost).recommendation is CNIL
    assert advise(**lost).deciding[0].reason == \
        "données indisponibles 2 jours, quand le service peut s'en passer au plus 4 h"
    assert advise(**lost, critical_service=True).recommendation is PEOPLE
    assert advise(**{**lost, "tolerable_hours": 72}, critical_service=True).recommendation is REGISTER


def test_a_backup_restored_in_time_lowers_what_the_score_alone_would_notify():
    # Financial data, half identifiable, ransomware: SE = 3 × 0.5 + 0.25 + 0.5 = 2.25, "notify the CNIL".
    ransomware = {"data_types": ("financial",), "ease_of_identification": "limited", "confidentiality": "none",
                  "availability": "temporary", "malicious": True, "backup_restored": True, "tolerable_hours": 24}
    readable = advise(**{**ransomware, "ease_of_identification": "maximum"}, unavailable_hours=6)  # SE 3,75
    assert (readable.severity.recommendation, readable.recommendation, deciding(readable)) == \
        (PEOPLE, CNIL, ["RG-CRIT-03"])  # readable data, exfiltration not excluded by encryption: CNIL at most
    encrypted = advise(**{**ransomware, "ease_of_identification": "maximum"}, unavailable_hours=6,
                       unintelligible=True, integrity="recoverable")  # SE 3 × 0,25 + 1 = 1,75: as in case 1
    assert encrypted.recommendation is REGISTER
    assert "RG-CRIT-03" in [finding.rule for finding in (*encrypted.deciding, *encrypted.others)]
    sensitive = advise(**{**ransomware, "data_types": ("sensitive",), "ease_of_identification": "maximum",
                          "data_categories": ("identification",)}, unavailable_hours=6)
    assert sensitive.recommendation is PEOPLE  # special-category data: the restore lowers nothing
    assert advise(**ransomware, unavailable_hours=30).recommendation is CNIL


def test_fraud_enabling_data_exposed_call_for_the_cnil_taken_for_the_people_and_other_data_for_neither():
    advice = advise(data_categories=("identification", "bank_details"), data_fate="exposed")
    assert (advice.recommendation, deciding(advice)) == (CNIL, ["RG-CRIT-04"])
    assert advice.deciding[0].reason == "données propres à la fraude (coordonnées bancaires) exposées"
    assert advise(data_categories=("credentials",), data_fate="exfiltrated").recommendation is PEOPLE
    assert advise(data_categories=("identification", "contact"), data_fate="exposed").recommendation is REGISTER


def test_data_taken_by_a_malicious_outsider_or_published_inform_the_people_and_merely_exposed_do_not():
    taken = advise(malicious=True, data_fate="exfiltrated")
    assert (taken.recommendation, deciding(taken)) == (PEOPLE, ["RG-CRIT-05"])
    assert advise(data_fate="published").recommendation is PEOPLE
    assert advise(malicious=True, data_fate="exposed").recommendation is REGISTER  # SE 1.75


def test_a_trusted_recipient_who_deleted_the_data_lowers_to_the_register_and_one_who_did_not_does_not():
    # Behavioural data: SE = 2 × 1 + 0.25 = 2.25, "notify the CNIL".
    mistake = {"data_types": ("behavioural",), "data_fate": "exposed", "trusted_recipient": True,
               "data_categories": ("identification", "school_life")}
    advice = advise(**mistake, data_retrieved=True)
    assert (advice.recommendation, deciding(advice)) == (REGISTER, ["RG-CRIT-06"])
    assert advise(**mistake, data_retrieved=False).recommendation is CNIL


def test_a_trusted_recipient_of_health_data_still_leaves_the_cnil_notified():
    advice = advise(data_types=("sensitive",), data_categories=("health",), data_fate="exposed",
                    trusted_recipient=True, data_retrieved=True)
    assert (advice.severity.recommendation, advice.recommendation, deciding(advice)) == (PEOPLE, CNIL,
                                                                                         ["RG-CRIT-06"])


def test_a_malicious_insider_calls_for_the_cnil_and_an_outsiders_glance_does_not():
    insider = advise(malicious=True, malicious_insider=True, data_fate="exfiltrated")
    assert (insider.recommendation, deciding(insider)) == (CNIL, ["RG-CRIT-07"])
    assert advise(malicious=True, data_fate="exposed").recommendation is REGISTER


def test_vulnerable_people_call_for_the_cnil_unless_the_recipient_was_trusted():
    # Half identifiable: SE = (1 + 1 for minors) × 0.5 + 0.25 = 1.25, "register only".
    pupils = {"ease_of_identification": "limited", "vulnerable_subjects": True, "data_fate": "exposed"}
    advice = advise(**pupils)
    assert (advice.severity.recommendation, advice.recommendation, deciding(advice)) == \
        (REGISTER, CNIL, ["RG-CRIT-08"])
    assert advise(**{**pupils, "vulnerable_subjects": False}).recommendation is REGISTER
    assert advise(**pupils, trusted_recipient=True, data_retrieved=True).recommendation is REGISTER


def test_unintelligible_data_stolen_stay_in_the_register_and_readable_ones_inform_the_people():
    theft = {"malicious": True, "data_fate": "exfiltrated", "vulnerable_subjects": True,
             "data_types": ("behavioural",)}
    assert advise(**theft).recommendation is PEOPLE
    advice = advise(**theft, unintelligible=True)
    assert advice.recommendation is REGISTER
    assert "RG-CRIT-09" in [finding.rule for finding in (*advice.deciding, *advice.others)]


def test_a_contained_disclosure_lowers_to_the_cnil_and_a_malicious_one_does_not():
    # Financial data: SE = 3 × 1 + 0.25 = 3.25, "notify and inform".
    letter = {"data_types": ("simple", "financial"), "data_fate": "exposed",
              "data_categories": ("identification", "social_financial")}
    advice = advise(**letter)
    assert (advice.severity.recommendation, advice.recommendation, deciding(advice)) == \
        (PEOPLE, CNIL, ["RG-CRIT-10"])
    assert advise(**letter, malicious=True).recommendation is PEOPLE
    assert advise(**letter, vulnerable_subjects=True).recommendation is PEOPLE


def test_when_criteria_conflict_the_more_protective_answer_stands_and_says_why():
    advice = advise(data_categories=("credentials",), data_fate="exposed", trusted_recipient=True,
                    data_retrieved=True)
    assert advice.recommendation is CNIL
    assert deciding(advice) == ["RG-CRIT-04"]
    assert advice.conflict == (
        "Les critères divergent : « destinataire de confiance » conduirait à inscription au registre seulement, "
        "« données propres à la fraude ou à l'usurpation d'identité » à notification à la CNIL au moins ; le plus "
        "protecteur l'emporte et le premier n'abaisse rien (« en cas de doute, notifier », CNIL).")
    assert advice.conflict in advice.reasons


def test_unknown_facts_never_lower_the_recommendation():
    # The contained-disclosure and trusted-recipient caps need the fate, the deletion and the categories known.
    letter = {"data_types": ("simple", "financial")}
    assert advise(**letter).recommendation is PEOPLE
    assert advise(**letter, trusted_recipient=True).recommendation is PEOPLE
    assert advise(**letter, data_fate="exposed").recommendation is PEOPLE  # categories not given
    assert advise(**letter, data_fate="exposed", trusted_recipient=True, data_retrieved=True).recommendation \
        is PEOPLE
    assert advise(data_types=("sensitive",), data_fate="exposed", data_categories=("identification",)) \
        .recommendation is PEOPLE  # the ENISA type says special-category data, whatever the categories


def test_a_timely_restore_does_not_lower_a_critical_service_or_health_data():
    hospital = {"data_types": ("sensitive",), "confidentiality": "none", "availability": "temporary",
                "malicious": True, "backup_restored": True, "unavailable_hours": 3, "tolerable_hours": 24}
    assert advise(**hospital).recommendation is PEOPLE
    critical = advise(**{**hospital, "data_types": ("simple",), "ease_of_identification": "limited"},
                      critical_service=True)
    assert "RG-CRIT-03" not in [finding.rule for finding in (*critical.deciding, *critical.others)]


def test_data_lost_for_good_call_for_the_cnil_and_taken_without_malice_too():
    lost = advise(confidentiality="none", availability="permanent")
    assert (lost.recommendation, lost.deciding[0].reason) == (CNIL, "données perdues définitivement")
    assert advise(data_fate="exfiltrated").recommendation is CNIL


def test_every_recommendation_names_its_nearest_published_example():
    advice = advise(malicious=True, malicious_insider=True, data_fate="exfiltrated",
                    data_categories=("identification", "contact"))
    assert advice.example.number == 8
    assert advice.reasons[-1] == (
        "Exemple publié le plus proche : cas n° 8 des lignes directrices 01/2021 du CEPD, « Exfiltration de données "
        "de l'entreprise par un salarié », où le CEPD conclut : notifier l'autorité de contrôle, sans informer les "
        "personnes.")


def test_every_criterion_applies_somewhere_among_the_examples_and_cites_where_the_guidelines_state_it():
    applied = [finding for example in examples() for finding in findings(Facts(example.factors,
                                                                               example.factors.people_concerned))]
    assert {finding.rule for finding in applied} == {f"RG-CRIT-{n:02d}" for n in range(1, len(CRITERIA) + 1)}
    for finding in applied:
        assert any(source in finding.source for source in ("CEPD, lignes directrices 01/2021", "WP250", "RGPD art."))


def test_facts_that_contradict_the_losses_are_refused_by_name():
    from models.breach_input import parse_assessment
    from models.errors import InvalidInput

    base = {"data_types": ["simple"], "ease_of_identification": "maximum", "nature": "n", "consequences": "c",
            "measures": "m"}
    with pytest.raises(InvalidInput) as refused:
        parse_assessment({**base, "data_fate": "published", "unavailable_hours": 500, "critical_service": True})
    assert [error.field for error in refused.value.errors] == ["data_fate", "unavailable_hours", "critical_service"]
    assert "sans objet quand la confidentialité n'est pas atteinte" in refused.value.errors[0].message
    with pytest.raises(InvalidInput) as refused:
        parse_assessment({**base, "availability": "permanent", "backup_restored": True})
    assert [error.field for error in refused.value.errors] == ["backup_restored"]
    parse_assessment({**base, "confidentiality": "limited", "data_fate": "published"})  # consistent: accepted
    with pytest.raises(InvalidInput) as refused:  # YAML's `true` is not one person, nor one hour
        parse_assessment({**base, "people_concerned": True, "unavailable_hours": False, "tolerable_hours": True})
    assert [(error.field, error.message) for error in refused.value.errors] == [
        (name, "doit être un nombre, pas true ou false")
        for name in ("people_concerned", "unavailable_hours", "tolerable_hours")]
    assert parse_assessment({**base, "people_concerned": "40"}).people_concerned == 40  # as a form sends it
