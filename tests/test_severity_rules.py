"""ENISA severity (RG-SEV-01…06): each factor moves the score as specified; boundaries land in the upper level."""

import pytest

from policy.severity import DpcAdjustment, Factors, Level, Recommendation, assess, level_of


def score(**changes):
    factors = {"data_types": ("simple",), "ease_of_identification": "maximum", **changes}
    return assess(Factors(**factors), minors_uplift=1)


@pytest.mark.parametrize("data_type, dpc", [("simple", 1), ("behavioural", 2), ("financial", 3), ("sensitive", 4)])
def test_each_data_type_sets_the_base_dpc(data_type, dpc):
    assert score(data_types=(data_type,)).dpc == dpc


def test_several_data_types_take_the_highest_and_say_so():
    result = score(data_types=("simple", "financial", "behavioural"))
    assert result.dpc == 3
    assert result.reasons[0] == ("DPC de base 3 : plusieurs types de données, le plus élevé retenu "
                                 "(données financières).")


def test_the_minors_uplift_is_applied_and_stated():
    result = score(data_types=("behavioural",), vulnerable_subjects=True)
    assert result.dpc == 3
    assert "DPC +1 : personnes vulnérables : les élèves sont mineurs → 3." in result.reasons


def test_the_minors_uplift_is_configurable():
    factors = Factors(data_types=("behavioural",), ease_of_identification="maximum", vulnerable_subjects=True)
    assert assess(factors, minors_uplift=0).dpc == 2


def test_adjustments_move_dpc_in_whole_steps_within_one_to_four_with_their_reason():
    result = score(data_types=("sensitive",), vulnerable_subjects=True,
                   dpc_adjustments=(DpcAdjustment(-1, "données déjà publiques"),))
    assert result.dpc == 3
    assert "DPC +1 : personnes vulnérables : les élèves sont mineurs → 4 (borné à l'intervalle 1 à 4)." \
        in result.reasons
    assert "DPC −1 : données déjà publiques → 3." in result.reasons
    assert score(dpc_adjustments=(DpcAdjustment(-1, "données erronées"),)).dpc == 1


@pytest.mark.parametrize("ease, ei", [("negligible", 0.25), ("limited", 0.5), ("significant", 0.75),
                                      ("maximum", 1.0)])
def test_ease_of_identification_multiplies(ease, ei):
    result = score(data_types=("sensitive",), ease_of_identification=ease)
    assert (result.ei, result.se) == (ei, 4 * ei)


@pytest.mark.parametrize("changes, cb", [
    ({"confidentiality": "limited"}, 0.25), ({"confidentiality": "wide"}, 0.5),
    ({"integrity": "recoverable"}, 0.25), ({"integrity": "unrecoverable"}, 0.5),
    ({"availability": "temporary"}, 0.25), ({"availability": "permanent"}, 0.5),
    ({"malicious": True}, 0.5),
    ({"confidentiality": "wide", "integrity": "unrecoverable", "availability": "permanent", "malicious": True}, 2.0),
])
def test_circumstances_add(changes, cb):
    result = score(**changes)
    assert (result.cb, result.se) == (cb, 1 + cb)


@pytest.mark.parametrize("se, level", [(1.99, Level.LOW), (2, Level.MEDIUM), (2.99, Level.MEDIUM), (3, Level.HIGH),
                                       (3.99, Level.HIGH), (4, Level.VERY_HIGH)])
def test_boundaries_land_in_the_upper_level(se, level):
    assert level_of(se) is level


def test_exact_boundaries_reached_by_real_factors():
    assert score(data_types=("behavioural",)).level is Level.MEDIUM  # 2 × 1 + 0 = 2
    assert score(data_types=("financial",)).level is Level.HIGH  # 3 × 1 = 3
    assert score(data_types=("sensitive",)).level is Level.VERY_HIGH  # 4 × 1 = 4
    assert score(data_types=("behavioural",), ease_of_identification="significant", availability="temporary",
                 malicious=True).se == 2.25


def test_recommendation_follows_the_level():
    assert score().recommendation is Recommendation.REGISTER_ONLY
    assert score(data_types=("behavioural",)).recommendation is Recommendation.NOTIFY_CNIL
    assert score(data_types=("financial",)).recommendation is Recommendation.NOTIFY_CNIL_AND_SUBJECTS
    assert score(data_types=("sensitive",)).recommendation is Recommendation.NOTIFY_CNIL_AND_SUBJECTS
    assert score().reasons[-1] == ("Recommandation de la seule méthode ENISA : inscrire la violation au registre, "
                                   "sans notification.")


def test_unintelligible_data_neutralise_confidentiality_and_identification_and_say_why():
    result = score(data_types=("sensitive",), confidentiality="wide", unintelligible=True)
    assert (result.ei, result.cb, result.se, result.level) == (0.25, 0.0, 1.0, Level.LOW)
    assert any(reason.startswith("Données inintelligibles pour qui les a obtenues") and
               "peu susceptible d'engendrer un risque" in reason for reason in result.reasons)
