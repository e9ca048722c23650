"""The DPD receives drafts they can file and send: the CNIL notification with every item of the CNIL's form, the
letter to families in plain words (school, date, signatory; never the assessment's technical notes), both attached
as OpenDocument and Word documents that open, and the mail says what to do and by when."""

import io
from email.message import EmailMessage

import docx
import yaml
from odf import teletype
from odf import text as odf_text
from odf.opendocument import load

from tests.conftest import DPD
from tests.test_breach_decision import ASSESSMENT, BREACH, assess
from tests.walkers import declared

LETTER = {
    "what_happened": "La messagerie de l'ENT est restée ouverte sans mot de passe pendant une nuit.",
    "what_it_means": "Une personne extérieure a pu lire des messages entre l'école et vous.",
    "what_to_do": "Méfiez-vous des messages inattendus qui vous demandent un paiement.",
    "contact": "La directrice de l'école répond aussi à vos questions.",
    "channel": "lettre remise par l'école et message dans l'ENT",
}
CATEGORIES = ["identification", "messages"]
TECHNICAL = (ASSESSMENT["nature"], ASSESSMENT["consequences"], ASSESSMENT["measures"])


def decided(cli, tmp_path, *, letter=None, at="2026-11-28T15:00:00+01:00", **assessed):
    ref = declared(cli, tmp_path, aware_at="2026-11-28T09:30:00+01:00", at="2026-11-28T10:00:00+01:00",
                   occurred_at="2026-11-27T23:10:00+01:00", schools=["0549001A"], **BREACH)["ref"]
    assess(cli, tmp_path, ref, "2026-11-28T14:00:00+01:00", **assessed)
    options = []
    if letter is not None:
        path = tmp_path / "letter.yaml"
        path.write_text(yaml.safe_dump(letter, allow_unicode=True), encoding="utf-8")
        options = ["--letter", str(path)]
    result = cli("decide", ref, "--cnil", "yes", "--subjects", "yes", "--by", DPD, "--at", at, *options)
    assert result.exit_code == 0, result.output
    return ref


def attachments(message: EmailMessage) -> dict[str, bytes]:
    found = {}
    for part in message.iter_attachments():
        payload = part.get_content()
        found[str(part.get_filename())] = payload if isinstance(payload, bytes) else payload.encode("utf-8")
    return found


def odt_text(content: bytes) -> tuple[list[str], str]:
    """The headings of an OpenDocument text, and its whole text."""
    document = load(io.BytesIO(content))
    headings = [teletype.extractText(h) for h in document.getElementsByType(odf_text.H)]
    paragraphs = [teletype.extractText(p) for p in document.getElementsByType(odf_text.P)]
    return headings, "\n".join(headings + paragraphs)


def docx_text(content: bytes) -> tuple[list[str], str]:
    document = docx.Document(io.BytesIO(content))
    headings = [p.text for p in document.paragraphs if p.style is not None and p.style.name.startswith("Heading")]
    return headings, "\n".join(p.text for p in document.paragraphs)


CNIL_HEADINGS = [
    "PROJET DE NOTIFICATION À LA CNIL — NOTIFICATION INITIALE (RGPD art. 33)",
    "1. Nature de la violation (art. 33(3)(a))",
    "2. Type de violation",
    "3. Catégories de données personnelles concernées (art. 33(3)(a))",
    "4. Catégories et nombre approximatif de personnes concernées (art. 33(3)(a))",
    "5. Nombre approximatif d'enregistrements concernés (art. 33(3)(a))",
    "6. Délégué à la protection des données (art. 33(3)(b))",
    "7. Conséquences probables de la violation (art. 33(3)(c))",
    "8. Mesures prises ou envisagées (art. 33(3)(d))",
    "9. Information des personnes concernées (art. 34)",
    "10. Motifs du retard (art. 33(1))",
]
CNIL_VALUES = [
    ASSESSMENT["nature"], "Date de survenue : vendredi 27 novembre 2026 à 23h10 (heure de Paris).",
    "Origine : acte malveillant.", "Établissements concernés : École élémentaire Jules-Ferry (Villers-lès-Exemple).",
    "- Atteinte à la confidentialité (accès ou divulgation non autorisés)",
    "- Atteinte à l'intégrité (modification non autorisée ou accidentelle)",
    "- Données d'identification (nom, prénom, date de naissance, classe, école)",
    "- Contenu des échanges (messagerie, documents partagés, cahier de textes)",
    "Environ 252 personnes : 240 élèves, 12 personnels.", "Parmi elles figurent des élèves mineurs",
    "Environ 1 800 enregistrements.", "Délégué à la protection des données — " + DPD,
    ASSESSMENT["consequences"], ASSESSMENT["measures"],
    "Les personnes concernées seront informées au plus tard le mardi 1er décembre 2026 à 15h00 (heure de Paris).",
    "Moyen d'information : lettre remise par l'école et message dans l'ENT.",
    "Sans objet si la notification est déposée avant le mardi 1er décembre 2026 à 09h30 (heure de Paris)",
]


def test_the_cnil_draft_holds_every_item_of_the_cnil_form_in_each_format(cli, smtp, tmp_path):
    ref = decided(cli, tmp_path, letter=LETTER, data_categories=CATEGORIES, integrity="recoverable")

    [mail] = smtp.to(DPD, "Projets de notification")
    files = attachments(mail.message)
    text = files[f"{ref}-notification-cnil.txt"].decode("utf-8")
    odt_headings, odt_whole = odt_text(files[f"{ref}-notification-cnil.odt"])
    docx_headings, docx_whole = docx_text(files[f"{ref}-notification-cnil.docx"])
    assert odt_headings == CNIL_HEADINGS
    assert docx_headings == CNIL_HEADINGS
    for value in CNIL_HEADINGS + CNIL_VALUES:
        assert value in text, value
        assert value in odt_whole, value
        assert value in docx_whole, value
    assert "à compléter" not in text.split("2. Type de violation")[1].split("10. Motifs")[0]


def test_an_older_assessment_and_decision_leave_each_item_to_complete(cli, smtp, tmp_path):
    ref = decided(cli, tmp_path)  # no categories of data, no letter: as decided before they existed

    [mail] = smtp.to(DPD, "Projets de notification")
    files = attachments(mail.message)
    cnil = files[f"{ref}-notification-cnil.txt"].decode("utf-8")
    assert "3. Catégories de données personnelles concernées (art. 33(3)(a))\n" \
           "-----------------------------------------------------------------\n" \
           "[à compléter : catégories de données concernées" in cnil
    assert "Moyen d'information : [à compléter : courrier, message dans l'ENT, réunion…]." in cnil
    letter = files[f"{ref}-lettre-personnes-concernees.txt"].decode("utf-8")
    assert "[à compléter par le DPD] : ce qui s'est passé, en quelques phrases simples." in letter
    assert "Soyez attentifs aux messages inattendus" in letter  # general advice by default
    for technical in TECHNICAL:
        assert technical not in letter


def test_the_families_letter_names_the_school_the_date_and_the_signatory_in_plain_words(cli, smtp, tmp_path):
    ref = decided(cli, tmp_path, letter=LETTER, data_categories=CATEGORIES)

    [mail] = smtp.to(DPD, "Projets de notification")
    files = attachments(mail.message)
    text = files[f"{ref}-lettre-personnes-concernees.txt"].decode("utf-8")
    _, odt_whole = odt_text(files[f"{ref}-lettre-personnes-concernees.odt"])
    _, docx_whole = docx_text(files[f"{ref}-lettre-personnes-concernees.docx"])
    expected = [
        "utilisé par les élèves de l'école suivante : École élémentaire Jules-Ferry, à Villers-lès-Exemple.",
        "L'incident s'est produit le vendredi 27 novembre 2026 ; nous en avons eu connaissance le samedi "
        "28 novembre 2026.",
        *(LETTER[key] for key in ("what_happened", "what_it_means", "what_to_do", "contact")),
        "Délégué à la protection des données — " + DPD,
        "Jeanne Exemple\nRectrice de la région académique Grand Est, rectrice de l'académie de Nancy-Metz",
    ]
    for whole in (text, odt_whole, docx_whole):
        for value in expected:
            assert value in whole, value
        for technical in TECHNICAL:
            assert technical not in whole
        assert "à compléter" not in whole


def test_the_dpd_mail_says_what_to_do_and_by_when_and_names_no_server_path(cli, smtp, tmp_path):
    ref = decided(cli, tmp_path, letter=LETTER)

    [mail] = smtp.to(DPD, "Projets de notification")
    assert mail.message["Subject"] == (
        f"[{ref}] Projets de notification CNIL et d'information des personnes – à déposer avant le mardi "
        "1er décembre 2026 à 09h30 (heure de Paris)")
    assert "au plus tard le mardi 1er décembre 2026 à 09h30 (heure de Paris), soit 72 heures après la prise de " \
           "connaissance." in mail.text
    assert "déjà dépassée" not in mail.text
    assert "Adresser la lettre aux personnes concernées (RGPD art. 34) au plus tard le mardi 1er décembre 2026 à " \
           "15h00 (heure de Paris)" in mail.text
    assert "var/drafts" not in mail.text and str(tmp_path) not in mail.text
    html = mail.message.get_body(preferencelist=("html",))
    assert html is not None and "var/drafts" not in html.get_content()


def test_the_dpd_mail_says_when_the_cnil_deadline_has_already_passed(cli, smtp, tmp_path):
    decided(cli, tmp_path, at="2026-12-01T11:00:00+01:00")

    [mail] = smtp.to(DPD, "Projets de notification")
    assert "au plus tard le mardi 1er décembre 2026 à 09h30 (heure de Paris), soit 72 heures après la prise de " \
           "connaissance. Cette échéance est déjà dépassée (de 1 heure 30 minutes)" in mail.text


def test_data_categories_of_the_input_are_those_labelled_in_french():
    from typing import get_args

    from models.breach_input import DataCategory
    from policy.severity import DATA_CATEGORY_LABELS

    assert set(get_args(DataCategory)) == set(DATA_CATEGORY_LABELS)


def test_the_example_letter_file_of_the_readme_is_accepted():
    from pathlib import Path

    from cli.files import read_document
    from models.breach_input import parse_letter

    example = Path(__file__).resolve().parents[1] / "examples" / "letter.yaml"
    letter = parse_letter(read_document(example))
    assert set(letter.stored()) == {"what_happened", "what_it_means", "what_to_do", "contact", "channel"}
