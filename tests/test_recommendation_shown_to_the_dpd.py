"""Every recommendation carries the criteria that decided it and the nearest published example, and the DPD reads
them where they decide: the command's answer, the portal's live panel and decision form, and the audit file."""

import html

from tests.conftest import DPD, REFERENT
from tests.portal_client import Browser, declare, text_of
from tests.test_breach_decision import BREACH, assess
from tests.test_portal_pages import portal_work_finished  # noqa: F401  (the portal's threads end in the test)
from tests.walkers import declared

# A former employee copies parents' contacts on the way out: SE = (1 + 1 for minors) × 0,5 + 0,25 + 0,5 = 1,75.
INSIDER = {"data_types": ["simple"], "ease_of_identification": "limited", "confidentiality": "limited",
           "malicious": True, "malicious_insider": True, "data_fate": "exfiltrated",
           "data_categories": ["identification", "contact"]}
DECIDED_BY = "Décidée par le critère « personne interne malveillante » (au moins : notification à la CNIL) : rien " \
             "ne garantit l'usage que l'auteur, une personne interne, fera des données (CEPD, lignes directrices " \
             "01/2021, cas n° 8)."
EXAMPLE = "Exemple publié le plus proche : cas n° 8 des lignes directrices 01/2021 du CEPD, « Exfiltration de " \
          "données de l'entreprise par un salarié », où le CEPD conclut : notifier l'autorité de contrôle, sans " \
          "informer les personnes."


def test_the_command_and_the_audit_file_give_the_deciding_criteria_and_the_nearest_example(cli, smtp, tmp_path):
    ref = declared(cli, tmp_path, aware_at="2026-11-28T09:30:00+01:00", at="2026-11-28T10:00:00+01:00",
                   **BREACH)["ref"]
    result = assess(cli, tmp_path, ref, "2026-11-28T14:00:00+01:00", **INSIDER)
    assert (result["se"], result["enisa_recommendation"], result["recommendation"]) == \
        (1.75, "register_only", "notify_cnil")
    assert result["deciding"] == ["RG-CRIT-07", "RG-CRIT-08"]
    assert result["nearest_example"] == {"case": 8, "title": "Exfiltration de données de l'entreprise par un salarié",
                                         "edpb_conclusion": "notify_cnil"}
    assert DECIDED_BY in result["reasons"] and EXAMPLE in result["reasons"]

    audit = cli("audit", ref, "--at", "2026-11-28T15:00:00+01:00")
    assert audit.exit_code == 0, audit.output
    page = text_of(html.unescape(audit.stdout))
    for line in (DECIDED_BY, EXAMPLE, "Le score ENISA seul aurait conduit à : inscrire la violation au registre"):
        assert text_of(line) in page


def test_the_portal_panel_and_decision_form_show_them_and_a_bad_figure_is_refused_by_name():
    ref = declare(REFERENT, personal_data="yes", data_subjects={"pupils": 30})
    dpd = Browser(DPD)
    form = {**{key: value for key, value in INSIDER.items() if not isinstance(value, (list, bool))},
            "data_types": "simple", "data_categories": ["identification", "contact"], "malicious": "yes",
            "malicious_insider": "yes", "nature": "Copie des contacts des parents par un agent sur le départ.",
            "consequences": "Démarchage possible des familles.", "measures": "Accès révoqués, mise en demeure."}
    panel = text_of(html.unescape(dpd.post(f"/incidents/{ref}/violation/apercu", form,
                                           headers={"X-Apercu": "1"}).text))
    assert text_of(DECIDED_BY) in panel and text_of(EXAMPLE) in panel

    refused = dpd.post(f"/incidents/{ref}/evaluation", {**form, "people_concerned": "-3"})
    assert refused.status_code == 400
    assert "Nombre de personnes concernées : doit être positif ou nul" in text_of(html.unescape(refused.text))

    saved = dpd.post(f"/incidents/{ref}/evaluation", {**form, "people_concerned": "180"})
    assert saved.status_code == 303, text_of(saved.text)
    page = html.unescape(dpd.get(f"/incidents/{ref}/violation").text)
    decision_form = text_of(page.split('id="fondement"')[1].split("</ul>")[0])
    assert text_of(DECIDED_BY) in decision_form and text_of(EXAMPLE) in decision_form
    assert 'value="180"' in page  # the form starts again from the assessment filed
