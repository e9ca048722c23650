"""Scopes of competence (Art. 8): one test per table row and per combination rule."""

import pytest

from policy.scope import CATEGORY_RULES, SCOPE_LABELS, Scope, propose_scope

EXPECTED_ROWS = {
    "users_staff": Scope.ACADEMY, "minor_protection": Scope.ACADEMY, "directory": Scope.ACADEMY,
    "data_subject_rights": Scope.ACADEMY, "governance": Scope.SHARED, "platform_management": Scope.SHARED,
    "personal_data": Scope.SHARED, "infrastructure": Scope.MUNICIPALITY, "availability": Scope.MUNICIPALITY,
    "vendor": Scope.MUNICIPALITY,
}


def test_the_table_has_exactly_the_categories_of_the_convention():
    assert {rule.category for rule in CATEGORY_RULES} == set(EXPECTED_ROWS)
    assert all(rule.article.startswith("Art. 8") for rule in CATEGORY_RULES)


@pytest.mark.parametrize("category", list(EXPECTED_ROWS))
def test_each_category_alone_points_to_its_scope(category):
    proposal = propose_scope([category], "no")
    assert proposal.scope is EXPECTED_ROWS[category]
    rule = next(rule for rule in CATEGORY_RULES if rule.category == category)
    # Said with its French label, never its code, and no bracket inside a bracket.
    assert proposal.reasons[0] == f"« {rule.label} » relève du {SCOPE_LABELS[rule.scope]} — {rule.article}"
    assert proposal.article.startswith("Art. 8")


def test_reaching_both_exclusive_fields_is_shared():
    proposal = propose_scope(["minor_protection", "infrastructure"], "no")
    assert proposal.scope is Scope.SHARED
    assert "l'incident touche les deux champs exclusifs" in proposal.reasons[-1]


def test_any_shared_category_makes_the_incident_shared():
    assert propose_scope(["vendor", "governance"], "no").scope is Scope.SHARED
    assert propose_scope(["directory", "platform_management"], "no").scope is Scope.SHARED


def test_several_categories_of_one_exclusive_field_stay_in_it():
    assert propose_scope(["users_staff", "directory"], "no").scope is Scope.ACADEMY
    assert propose_scope(["vendor", "availability"], "no").scope is Scope.MUNICIPALITY


@pytest.mark.parametrize("personal_data", ["yes", "unknown"])
@pytest.mark.parametrize("category", ["vendor", "directory"])
def test_personal_data_yes_or_unknown_makes_it_at_least_shared(category, personal_data):
    proposal = propose_scope([category], personal_data)
    assert proposal.scope is Scope.SHARED
    assert "coresponsabilité des données personnelles" in proposal.reasons[-1]


def test_personal_data_no_leaves_an_exclusive_scope_alone():
    assert propose_scope(["vendor"], "no").scope is Scope.MUNICIPALITY
